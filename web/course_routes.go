package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// courseRoutes mounts the catalogue, the new-course form, the remote-follow
// redirect and every course form. Each form needs a signed-in user.
func (h *Handler) courseRoutes(r chi.Router) {
	r.Get("/courses", h.catalogue)
	r.Get("/courses/new", h.requireUser(h.newCourse))
	r.Post("/courses/new", h.requireUser(h.createCourse))
	r.Get("/courses/{slug}/follow", h.remoteFollow)
	for path, action := range map[string]courseAction{
		"/enroll":          h.enroll,
		"/leave":           h.leave,
		"/members/approve": h.approve,
		"/members/block":   h.block,
		"/posts":           h.coursePost,
		"/posts/edit":      h.courseEditPost,
		"/posts/delete":    h.courseDeletePost,
		"/posts/remove":    h.removePost,
		"/announce":        h.announce,
		"/edit":            h.editCourse,
	} {
		r.Post("/courses/{slug}"+path, h.requireUser(h.withCourse(action)))
	}
	h.moduleRoutes(r)
	h.coauthorRoutes(r) // course_coauthors.go
}

// courseAction handles a form posted to a local course by a signed-in user;
// its form is already parsed.
type courseAction func(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course)

// withCourse parses the form and loads the course named in the path for
// action, answering 404 for an unknown course.
func (h *Handler) withCourse(action courseAction) func(http.ResponseWriter, *http.Request, courses.User) {
	return func(w http.ResponseWriter, r *http.Request, me courses.User) {
		if err := parseCourseForm(w, r); err != nil {
			h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
			return
		}
		if c, ok := h.findCourse(w, r, chi.URLParam(r, "slug")); ok {
			action(w, r, me, c)
		}
	}
}

// findCourse returns the local course slug, or answers 404 (or 500) and
// returns ok false.
func (h *Handler) findCourse(w http.ResponseWriter, r *http.Request, slug string) (courses.Course, bool) {
	c, err := h.cfg.Store.CourseBySlug(r.Context(), slug)
	switch {
	case errors.Is(err, courses.ErrNotFound):
		h.renderError(w, r, http.StatusNotFound, "Not found", "There is no course called "+slug+" here.")
		return c, false
	case err != nil:
		h.serverError(w, r, fmt.Errorf("load course %q: %w", slug, err))
		return c, false
	}
	return c, true
}

// backToCourse sends the browser to the course page, at anchor if given
// ("post-7", "module-2").
func backToCourse(w http.ResponseWriter, r *http.Request, c courses.Course, anchor string) {
	target := "/courses/" + url.PathEscape(c.Slug)
	if anchor != "" {
		target += "#" + anchor
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// courseFailed answers a course form that the domain refused: 422
// re-renders the course page with the message and what was typed (form),
// other refusals get the error page, and anything else is a server error.
func (h *Handler) courseFailed(w http.ResponseWriter, r *http.Request, c courses.Course, err error, form coursePage) {
	status, msg, ok := actionError(err)
	switch {
	case !ok:
		h.serverError(w, r, fmt.Errorf("course %s: %s: %w", c.Slug, r.URL.Path, err))
	case status == http.StatusUnprocessableEntity:
		form.Error = msg
		h.renderCourse(w, r, c, status, form)
	case status == http.StatusConflict:
		h.render(w, r, status, "conflict", "Edit conflict", conflictData{Message: msg, Course: c})
	default:
		h.renderError(w, r, status, http.StatusText(status), msg)
	}
}

type conflictData struct {
	Message string
	Course  courses.Course
}
