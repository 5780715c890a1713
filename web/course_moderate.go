package web

import (
	"net/http"
	"strconv"

	"github.com/colearn/colearn/courses"
)

// announce posts an announcement (Markdown) from the course to every
// member; only moderators may (403).
func (h *Handler) announce(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	text := r.PostForm.Get("content")
	if !hasText(text) {
		h.courseFailed(w, r, c, &courses.ValidationError{Field: "content", Message: "write something first"}, coursePage{})
		return
	}
	p, err := h.cfg.Actions.Announce(r.Context(), me, c, text)
	if err != nil {
		h.courseFailed(w, r, c, err, coursePage{AnnounceText: text})
		return
	}
	backToCourse(w, r, c, postAnchor(p))
}

// editCourse applies the metadata form. The form carries the version it
// was made from: if someone else saved in between, the edit is refused
// with 409 rather than overwriting theirs.
func (h *Handler) editCourse(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	form := readCourseForm(r.PostForm)
	version, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil || version < 1 {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "The form does not say which version of the course it edits.")
		return
	}
	form.Version = version
	if _, err := h.cfg.Actions.UpdateCourse(r.Context(), me, c.ID, version, form.CourseDraft); err != nil {
		h.courseFailed(w, r, c, err, coursePage{Edit: form})
		return
	}
	backToCourse(w, r, c, "")
}
