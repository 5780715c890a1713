package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// cohostRoutes mounts the pages of co-hosted courses (read from the
// mirror, so they stay up while the course's own server is down), the
// one-click enrollment, and the admin's co-hosting page.
func (h *Handler) cohostRoutes(r chi.Router) {
	r.Get("/cohosted", h.cohostedCourse)
	r.Get("/cohosted/module", h.cohostedModule)
	r.Post("/cohosted/enroll", h.requireUser(h.cohostedEnroll))
	r.Get("/admin/cohost", h.requireAdmin(h.adminCohost))
	r.Post("/admin/cohost", h.requireAdmin(h.adminCohostPost))
}

// cohostedPost is a post of a co-hosted course's discussion; Pending marks
// a post written here that the course has not announced back yet (its
// server may be down: the delivery is retried until it is back).
type cohostedPost struct {
	IRI, Author, Handle, Published string
	Content                        template.HTML
	Pending, Reply                 bool
}

type cohostedPage struct {
	Course  courses.CohostedCourse
	Summary template.HTML
	Modules []courses.CohostedModule
	State   string // the viewer's enrollment: "", pending, accepted, rejected
	Posts   []cohostedPost
	// OlderPosts links to the next page of older posts, if any.
	OlderPosts string
	Error      string
}

// cohostedCourse shows a co-hosted course from the mirror: what its own
// server last said about it, its syllabus, the viewer's enrollment and
// the discussion kept here. It never fetches.
func (h *Handler) cohostedCourse(w http.ResponseWriter, r *http.Request) {
	h.showCohosted(w, r, http.StatusOK, "")
}

func (h *Handler) showCohosted(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	iri := r.URL.Query().Get("iri")
	if r.Method == http.MethodPost {
		iri = r.PostForm.Get("course")
	}
	c, err := h.cfg.Store.Cohosted(ctx, h.cfg.Pool, iri)
	if errors.Is(err, courses.ErrNotFound) {
		h.renderError(w, r, http.StatusNotFound, "Not found", "This instance does not co-host that course.")
		return
	}
	if err != nil {
		h.serverError(w, r, fmt.Errorf("co-hosted course: %w", err))
		return
	}
	data := cohostedPage{Course: c, Summary: template.HTML(c.Summary), Error: msg}
	if data.Modules, err = h.cfg.Store.CohostModules(ctx, h.cfg.Pool, iri); err != nil {
		h.serverError(w, r, err)
		return
	}
	if me := viewer(r); me != nil {
		switch e, err := h.cfg.Store.Enrollment(ctx, h.cfg.Pool, me.ID, iri); {
		case err == nil:
			data.State = e.State
		case !errors.Is(err, courses.ErrNotFound):
			h.serverError(w, r, err)
			return
		}
	}
	before, err := beforeParam(r)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	var older int64
	if data.Posts, older, err = h.cohostedPosts(r, iri, before); err != nil {
		h.serverError(w, r, err)
		return
	}
	data.OlderPosts = olderPostsLink("/cohosted?iri="+url.QueryEscape(iri), older)
	h.renderWith(w, r, status, page{Name: "cohosted", Title: c.Name, Data: data, Meta: pageMeta{
		OGType: "website", URL: h.cfg.URLs.Base() + "/cohosted?iri=" + url.QueryEscape(iri), Alternate: iri,
	}})
}

// cohostedPosts is a page of the discussion of a co-hosted course stored
// here, newest first (before as in RecentPosts), with the local posts the
// course has not announced back marked pending, and the number to ask for
// the next, older page with (0 on the last).
func (h *Handler) cohostedPosts(r *http.Request, iri string, before int64) ([]cohostedPost, int64, error) {
	posts, older, err := h.cfg.Store.RecentPosts(r.Context(), h.cfg.Pool, iri, before, postPageSize)
	if err != nil {
		return nil, 0, err
	}
	var local []string
	for _, p := range posts {
		if p.Local {
			local = append(local, p.IRI)
		}
	}
	relayed, err := courses.RelayedPosts(r.Context(), h.cfg.Pool, local)
	if err != nil {
		return nil, 0, err
	}
	out := make([]cohostedPost, 0, len(posts))
	for _, p := range posts {
		out = append(out, cohostedPost{IRI: p.IRI, Author: p.AuthorName, Handle: p.AuthorHandle,
			Published: p.Published.UTC().Format("2 Jan 2006, 15:04 UTC"), Content: template.HTML(p.Content),
			Pending: p.Local && !relayed[p.IRI], Reply: p.InReplyTo != ""})
	}
	return out, older, nil
}

type cohostedModulePage struct {
	Course  courses.CohostedCourse
	Module  courses.CohostedModule
	Content template.HTML
}

// cohostedModule shows one mirrored module of a co-hosted course.
func (h *Handler) cohostedModule(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	iri := r.URL.Query().Get("iri")
	for _, c := range []string{r.URL.Query().Get("course")} {
		course, err := h.cfg.Store.Cohosted(ctx, h.cfg.Pool, c)
		if errors.Is(err, courses.ErrNotFound) {
			break
		}
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		mods, err := h.cfg.Store.CohostModules(ctx, h.cfg.Pool, c)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, m := range mods {
			if m.IRI == iri {
				h.render(w, r, http.StatusOK, "cohosted_module", m.Title,
					cohostedModulePage{Course: course, Module: m, Content: template.HTML(m.Content)})
				return
			}
		}
	}
	h.renderError(w, r, http.StatusNotFound, "Not found", "This instance keeps no such module of a co-hosted course.")
}

// cohostedEnroll enrolls the signed-in user in a co-hosted course with one
// click: the usual Join to the course's own server, queued for delivery
// (and retried while that server is down).
func (h *Handler) cohostedEnroll(w http.ResponseWriter, r *http.Request, me courses.User) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	iri := r.PostForm.Get("course")
	if _, err := h.cfg.Store.Cohosted(r.Context(), h.cfg.Pool, iri); err != nil {
		if errors.Is(err, courses.ErrNotFound) {
			h.renderError(w, r, http.StatusNotFound, "Not found", "This instance does not co-host that course.")
			return
		}
		h.serverError(w, r, err)
		return
	}
	if _, err := h.cfg.Actions.JoinRemote(r.Context(), me, iri); err != nil {
		status, msg, ok := actionError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("enroll in co-hosted %s: %w", iri, err))
			return
		}
		h.showCohosted(w, r, status, msg)
		return
	}
	http.Redirect(w, r, "/cohosted?iri="+url.QueryEscape(iri), http.StatusSeeOther)
}
