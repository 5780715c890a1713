package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// syllabusItem is one module as the course page lists it.
type syllabusItem struct {
	courses.Module
	Body template.HTML // rendered and sanitised by courses.Content
	URL  string
	Done bool
}

// syllabusView is the syllabus section of the course page.
type syllabusView struct {
	Slug    string
	Modules []syllabusItem
	// Progress is the viewer's, shown when they are a member (Member).
	Progress  courses.Progress
	Member    bool
	CanAuthor bool
	// Draft keeps a refused new module's text.
	Draft moduleForm
}

// loadSyllabus prepares the syllabus of c for the viewer myIRI ("" for
// visitors).
func (h *Handler) loadSyllabus(ctx context.Context, c courses.Course, myIRI string) (syllabusView, error) {
	store, q := h.cfg.Store, h.cfg.Pool
	s := syllabusView{Slug: c.Slug}
	mods, err := store.Modules(ctx, q, c.ID)
	if err != nil {
		return s, err
	}
	if myIRI != "" {
		if mem, err := store.MemberOf(ctx, q, c.ID, myIRI); err == nil && mem.State == courses.StateAccepted {
			s.Member = true
		}
		if s.Progress, err = store.ProgressOf(ctx, q, c.ID, myIRI); err != nil {
			return s, err
		}
		if s.CanAuthor, err = store.CanAuthor(ctx, q, c.ID, myIRI); err != nil {
			return s, err
		}
	}
	for _, m := range mods {
		s.Modules = append(s.Modules, syllabusItem{Module: m, Body: template.HTML(store.Content().Markdown(m.Body)),
			URL: moduleURL(c, m, ""), Done: s.Progress.DoneModules[m.ID]})
	}
	return s, nil
}

// SyllabusPage answers browsers that open a course's modules collection
// with the syllabus on the course page.
func (h *Handler) SyllabusPage(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/courses/"+url.PathEscape(chi.URLParam(r, "slug"))+"#modules", http.StatusSeeOther)
}

// progressData is the facilitators' progress page.
type progressData struct {
	Course  courses.Course
	Members []courses.MemberProgress
}

// progressPage shows facilitators (owner and moderators) how far each
// member is through the syllabus; others get 403.
func (h *Handler) progressPage(w http.ResponseWriter, r *http.Request, me courses.User) {
	c, ok := h.findCourse(w, r, chi.URLParam(r, "slug"))
	if !ok {
		return
	}
	members, err := h.cfg.Store.ProgressSummary(r.Context(), h.cfg.Pool, c.ID, h.cfg.URLs.User(me.Username))
	if err != nil {
		if status, msg, ok := actionError(err); ok {
			h.renderError(w, r, status, http.StatusText(status), msg)
			return
		}
		h.serverError(w, r, fmt.Errorf("progress of %s: %w", c.Slug, err))
		return
	}
	h.render(w, r, http.StatusOK, "module_progress", "Progress in "+c.Title, progressData{Course: c, Members: members})
}
