package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// remoteRoutes mounts the pages for courses on other servers: the join form
// (/remote), a joined course's discussion (/remote/course?iri=), and their
// forms. All need a signed-in user.
func (h *Handler) remoteRoutes(r chi.Router) {
	r.Get("/remote", h.requireUser(h.remoteForm))
	r.Post("/remote/join", h.requireUser(h.remoteJoin))
	r.Get("/remote/course", h.requireUser(h.remoteCourse))
	r.Post("/remote/leave", h.requireUser(h.remoteLeave))
	r.Post("/remote/posts", h.requireUser(h.remotePost))
	r.Post("/remote/posts/edit", h.requireUser(h.remoteEditPost))
	r.Post("/remote/posts/delete", h.requireUser(h.remoteDeletePost))
}

type remoteFormData struct {
	Course, Error string
}

// remoteForm shows the form that joins a course on another server, filled
// in from ?course= (a handle or an IRI).
func (h *Handler) remoteForm(w http.ResponseWriter, r *http.Request, me courses.User) {
	h.render(w, r, http.StatusOK, "remote", "Join a course on another server", remoteFormData{Course: r.URL.Query().Get("course")})
}

// remoteJoin sends Join to the course named by a handle (@slug@host) or
// an IRI and shows its page, where the enrollment waits for the course's
// Accept. A course on this instance is simply opened. Malformed input, or
// an actor that is not a course, re-renders the form with 422; a server
// that cannot be reached, with 502.
func (h *Handler) remoteJoin(w http.ResponseWriter, r *http.Request, me courses.User) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	course := strings.TrimSpace(r.PostForm.Get("course"))
	data := remoteFormData{Course: course}
	if slug, ok := h.localCourseSlug(course); ok {
		http.Redirect(w, r, "/courses/"+url.PathEscape(slug), http.StatusSeeOther)
		return
	}
	if federation.Origin(course) == "" {
		if _, _, err := federation.SplitHandle(course); err != nil {
			data.Error = "Course: write its handle as @course@server.example, or paste its address."
			h.render(w, r, http.StatusUnprocessableEntity, "remote", "Join a course on another server", data)
			return
		}
	}
	ra, err := h.cfg.Actions.JoinRemote(r.Context(), me, course)
	if err != nil {
		status, msg, ok := actionError(err)
		switch {
		case ok:
		case errors.Is(err, federation.ErrNotFound), errors.Is(err, federation.ErrGone):
			status, msg = http.StatusUnprocessableEntity, "Course: there is no such course on that server."
		default:
			h.log.WarnContext(r.Context(), "join remote course", "course", course, "err", err)
			status, msg = http.StatusBadGateway, "The course's server could not be reached, or did not answer as a colearn or fediverse server would. Try again later."
		}
		data.Error = msg
		h.render(w, r, status, "remote", "Join a course on another server", data)
		return
	}
	http.Redirect(w, r, remoteCoursePath(ra.IRI, ""), http.StatusSeeOther)
}

// localCourseSlug reports whether course (a handle or an IRI) names a
// course on this instance.
func (h *Handler) localCourseSlug(course string) (string, bool) {
	if slug, ok := h.cfg.URLs.CourseSlug(course); ok {
		return slug, true
	}
	name, host, err := federation.SplitHandle(course)
	if err != nil || !strings.EqualFold(host, h.cfg.Host) {
		return "", false
	}
	return name, true
}

// remoteCoursePath is the page of a joined remote course, at anchor.
func remoteCoursePath(iri, anchor string) string {
	p := "/remote/course?iri=" + url.QueryEscape(iri)
	if anchor != "" {
		p += "#" + anchor
	}
	return p
}
