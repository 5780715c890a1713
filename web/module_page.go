package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// moduleForm is what the module editor holds: a draft and the revision it
// is based on.
type moduleForm struct {
	Title, Summary, Body string
	Minutes              int
	Links, Attachments   string // one per line (courses.ParseLinks, ParseAttachments)
	Base                 int
}

func formOf(d courses.ModuleDraft, base int) moduleForm {
	return moduleForm{Title: d.Title, Summary: d.Summary, Body: d.Body, Minutes: d.EstimatedMinutes,
		Links: courses.FormatLinks(d.Links), Attachments: courses.FormatAttachments(d.Attachments), Base: base}
}

// conflictView shows a refused edit beside the text it collided with.
type conflictView struct {
	Base, Current int
	Mine, Theirs  string
	Diff          []diffLine
}

// modulePage is everything a module's page shows.
type modulePage struct {
	Course    courses.Course
	CourseIRI string
	Module    courses.Module
	// Shown is the content on display: the current one, or the revision
	// asked for with ?revision=N (ShownRevision, 0 for the current one).
	Shown         courses.ModuleDraft
	ShownRevision int
	Body          template.HTML // Shown.Body, rendered and sanitised by courses.Content
	Revisions     []courses.Revision
	Authors       []courses.Author

	CanAuthor, CanMark, Done bool
	Progress                 courses.Progress

	DiffFrom, DiffTo int
	Diff             []diffLine
	// SelectFrom and SelectTo preselect the compare form: the diff shown,
	// or the last change.
	SelectFrom, SelectTo int

	Form     moduleForm
	Error    string
	Conflict *conflictView
	Refused  []courses.RefusedEdit
}

// ModulePage writes the HTML page of module {id} of local course {slug}:
// its content, its history, a diff between two revisions (?from=A&to=B),
// an earlier revision (?revision=N), the learner's done button and the
// authors' editor. The federation handler calls it for browsers.
func (h *Handler) ModulePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	page := func(w http.ResponseWriter, r *http.Request) {
		if viewer(r) == nil {
			// Anonymous visitors (and link previews) share one rendering
			// per change of the course (web/page_cache.go).
			key := "module:" + chi.URLParam(r, "slug") + "/" + chi.URLParam(r, "id") + "?" + r.URL.RawQuery
			h.recordedPage(w, r, key, func(w http.ResponseWriter) []courses.Scope {
				c, m, ok := h.findModule(w, r)
				if !ok {
					return nil
				}
				h.renderModule(w, r, c, m, http.StatusOK, modulePage{})
				return []courses.Scope{courses.CourseScope(c.ID)}
			})
			return
		}
		c, m, ok := h.findModule(w, r)
		if ok {
			h.renderModule(w, r, c, m, http.StatusOK, modulePage{})
		}
	}
	if sessionLoaded(r) {
		page(w, r)
		return
	}
	securityHeaders(h.withSession(http.HandlerFunc(page))).ServeHTTP(w, r)
}

// findModule loads the course and module named in the path, or answers
// 404 and returns ok false.
func (h *Handler) findModule(w http.ResponseWriter, r *http.Request) (courses.Course, courses.Module, bool) {
	c, ok := h.findCourse(w, r, chi.URLParam(r, "slug"))
	if !ok {
		return c, courses.Module{}, false
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	var m courses.Module
	if err == nil {
		m, err = h.cfg.Store.ModuleOf(r.Context(), h.cfg.Pool, c.ID, id)
	}
	switch {
	case err == nil:
		return c, m, true
	case errors.Is(err, courses.ErrNotFound) || errors.Is(err, strconv.ErrSyntax) || errors.Is(err, strconv.ErrRange):
		h.renderError(w, r, http.StatusNotFound, "Not found", "This course has no such module.")
	default:
		h.serverError(w, r, fmt.Errorf("load module: %w", err))
	}
	return c, m, false
}

// renderModule renders the page of module m with status; p carries a
// refused form's message, draft or conflict.
func (h *Handler) renderModule(w http.ResponseWriter, r *http.Request, c courses.Course, m courses.Module, status int, p modulePage) {
	ctx, q, store := r.Context(), h.cfg.Pool, h.cfg.Store
	p.Course, p.CourseIRI, p.Module, p.Shown = c, h.cfg.URLs.Course(c.Slug), m, m.ModuleDraft
	var err error
	fail := func(err error) { h.serverError(w, r, fmt.Errorf("module page %s/%d: %w", c.Slug, m.ID, err)) }
	if p.Revisions, err = store.Revisions(ctx, q, m.ID); err != nil {
		fail(err)
		return
	}
	if p.Authors, err = store.ModuleAuthors(ctx, q, m.ID); err != nil {
		fail(err)
		return
	}
	byNumber := func(n int) (courses.Revision, bool) {
		if n < 1 || n > len(p.Revisions) {
			return courses.Revision{}, false
		}
		return p.Revisions[n-1], true
	}
	query := r.URL.Query()
	if n, err := strconv.Atoi(query.Get("revision")); err == nil && n != m.Revision {
		rev, ok := byNumber(n)
		if !ok {
			h.renderError(w, r, http.StatusNotFound, "Not found", fmt.Sprintf("This module has no revision %d.", n))
			return
		}
		p.Shown, p.ShownRevision = rev.ModuleDraft, n
	}
	if query.Has("from") || query.Has("to") {
		from, errFrom := strconv.Atoi(query.Get("from"))
		to, errTo := strconv.Atoi(query.Get("to"))
		a, okA := byNumber(from)
		b, okB := byNumber(to)
		if errFrom != nil || errTo != nil || !okA || !okB {
			h.renderError(w, r, http.StatusBadRequest, "Bad request",
				fmt.Sprintf("Compare two revisions between 1 and %d (from=A&to=B).", len(p.Revisions)))
			return
		}
		p.DiffFrom, p.DiffTo, p.Diff = from, to, lineDiff(draftText(a.ModuleDraft), draftText(b.ModuleDraft))
	}
	p.SelectFrom, p.SelectTo = max(m.Revision-1, 1), m.Revision
	if p.Diff != nil {
		p.SelectFrom, p.SelectTo = p.DiffFrom, p.DiffTo
	}
	p.Body = template.HTML(store.Content().Markdown(p.Shown.Body))
	if me := viewer(r); me != nil {
		myIRI := h.cfg.URLs.User(me.Username)
		if p.CanAuthor, err = store.CanAuthor(ctx, q, c.ID, myIRI); err != nil {
			fail(err)
			return
		}
		if mem, err := store.MemberOf(ctx, q, c.ID, myIRI); err == nil && mem.State == courses.StateAccepted && !m.Retired {
			p.CanMark = true
		}
		if p.Progress, err = store.ProgressOf(ctx, q, c.ID, myIRI); err != nil {
			fail(err)
			return
		}
		p.Done = p.Progress.DoneModules[m.ID]
		if p.CanAuthor {
			if p.Refused, err = store.RefusedEdits(ctx, q, m.ID, myIRI); err != nil {
				fail(err)
				return
			}
		}
	}
	if p.Form.Base == 0 {
		p.Form = formOf(m.ModuleDraft, m.Revision)
	}
	slices.Reverse(p.Revisions) // newest first on the page
	title := m.Title
	if m.Retired {
		title += " (retired)"
	}
	summary := m.Summary
	if summary == "" {
		summary = store.Content().Excerpt(m.Body, excerptLen)
	}
	iri := h.cfg.URLs.Module(c.Slug, m.ID)
	h.renderWith(w, r, status, page{Name: "module", Title: title, Data: p,
		Meta: pageMeta{OGType: "article", URL: iri, Alternate: iri, Description: summary}})
}

// moduleURL is the page of module m of course c, at anchor if given.
func moduleURL(c courses.Course, m courses.Module, anchor string) string {
	u := fmt.Sprintf("/courses/%s/modules/%d", c.Slug, m.ID)
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}
