package web

import (
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// coursePost writes the signed-in user's post, or reply (in_reply_to), in
// the course's discussion. Members may post, and anyone who is not blocked
// when the discussion is open; others get 403.
func (h *Handler) coursePost(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	text := r.PostForm.Get("content")
	p, err := h.cfg.Actions.PostWith(r.Context(), me, h.cfg.URLs.Course(c.Slug), text, r.PostForm.Get("in_reply_to"),
		outbox.PostOptions{Summary: r.PostForm.Get("summary")})
	if err != nil {
		h.courseFailed(w, r, c, err, coursePage{PostDraft: text})
		return
	}
	backToCourse(w, r, c, postAnchor(p))
}

// courseEditPost replaces the content of one of the user's own posts.
func (h *Handler) courseEditPost(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	p, err := h.cfg.Actions.EditPost(r.Context(), me, r.PostForm.Get("iri"), r.PostForm.Get("content"))
	if err != nil {
		h.courseFailed(w, r, c, err, coursePage{})
		return
	}
	backToCourse(w, r, c, postAnchor(p))
}

// courseDeletePost deletes one of the user's own posts.
func (h *Handler) courseDeletePost(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	if err := h.cfg.Actions.DeletePost(r.Context(), me, r.PostForm.Get("iri")); err != nil {
		h.courseFailed(w, r, c, err, coursePage{})
		return
	}
	backToCourse(w, r, c, "discussion")
}

// removePost takes anyone's post out of the discussion; only moderators
// may (403).
func (h *Handler) removePost(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	if err := h.cfg.Actions.RemovePost(r.Context(), me, r.PostForm.Get("iri")); err != nil {
		h.courseFailed(w, r, c, err, coursePage{})
		return
	}
	backToCourse(w, r, c, "discussion")
}

func postAnchor(p courses.Post) string { return fmt.Sprintf("post-%d", p.Seq) }
