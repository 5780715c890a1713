package web

import (
	"context"
	"net/http"

	"github.com/colearn/colearn/courses"
)

// enroll makes the signed-in user a learner of the course.
func (h *Handler) enroll(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	if _, err := h.cfg.Actions.Enroll(r.Context(), me, c); err != nil {
		h.courseFailed(w, r, c, err, coursePage{})
		return
	}
	backToCourse(w, r, c, "")
}

// leave ends the signed-in user's membership. The owner cannot leave, and
// someone who is not a member gets 404.
func (h *Handler) leave(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	if err := h.cfg.Actions.Leave(r.Context(), me, c); err != nil {
		h.courseFailed(w, r, c, err, coursePage{})
		return
	}
	backToCourse(w, r, c, "")
}

// approve accepts the pending member named by the form's actor field; only
// moderators may (403).
func (h *Handler) approve(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	h.memberAction(w, r, me, c, h.cfg.Actions.Approve)
}

// block removes the member named by the form's actor field and keeps them
// out; only moderators may (403).
func (h *Handler) block(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	h.memberAction(w, r, me, c, h.cfg.Actions.Block)
}

// memberAction runs a moderator's action on the member named by the form's
// actor field and returns to the roster.
func (h *Handler) memberAction(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course,
	act func(context.Context, courses.User, courses.Course, string) error) {
	actor := r.PostForm.Get("actor")
	if actor == "" {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "No member was named.")
		return
	}
	if err := act(r.Context(), me, c, actor); err != nil {
		h.courseFailed(w, r, c, err, coursePage{})
		return
	}
	backToCourse(w, r, c, "roster")
}
