package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

type remoteCourseData struct {
	Course remoteCourse
	Thread threadView
	// OlderPosts links to the next page of older posts, if any.
	OlderPosts string
	CanPost    bool // the enrollment is accepted
	Error      string
	PostDraft  string
}

// remoteCourse shows a course on another server that the user joined: the
// state of the enrollment and the discussion stored here, with a post
// form once the course has accepted them. Courses they have not joined get
// 404.
func (h *Handler) remoteCourse(w http.ResponseWriter, r *http.Request, me courses.User) {
	h.showRemoteCourse(w, r, me, r.URL.Query().Get("iri"), http.StatusOK, remoteCourseData{})
}

func (h *Handler) showRemoteCourse(w http.ResponseWriter, r *http.Request, me courses.User, iri string, status int, data remoteCourseData) {
	ctx := r.Context()
	e, err := h.cfg.Store.Enrollment(ctx, h.cfg.Pool, me.ID, iri)
	switch {
	case errors.Is(err, courses.ErrNotFound):
		h.renderError(w, r, http.StatusNotFound, "Not found", "You have not joined that course. Join it from the courses page first.")
		return
	case err != nil:
		h.serverError(w, r, fmt.Errorf("remote course: %w", err))
		return
	}
	before, err := beforeParam(r)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	posts, older, err := h.cfg.Store.RecentPosts(ctx, h.cfg.Pool, iri, before, postPageSize)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("remote course: %w", err))
		return
	}
	data.OlderPosts = olderPostsLink("/remote/course?iri="+url.QueryEscape(iri), older)
	data.Course = h.describeRemote(ctx, iri)
	data.Course.State = e.State
	data.CanPost = e.State == courses.StateAccepted
	data.Thread = threadView{
		Posts:  h.postViews(courses.ThreadNewestFirst(posts), h.cfg.URLs.User(me.Username)),
		Course: iri, EditAction: "/remote/posts/edit", DeleteAction: "/remote/posts/delete",
	}
	if data.CanPost {
		data.Thread.PostAction = "/remote/posts"
	}
	if g, err := h.cfg.Store.GrantIn(ctx, h.cfg.Pool, me.ID, iri); err == nil && g.Role == courses.RoleModerator {
		data.Thread.RemoveAction = "/remote/posts/remove" // a moderator by a grant (remote_syllabus.go)
	}
	h.render(w, r, status, "remote_course", data.Course.Name, data)
}

// remoteFailed answers a refused remote-course form like courseFailed does
// for local ones.
func (h *Handler) remoteFailed(w http.ResponseWriter, r *http.Request, me courses.User, iri string, err error, data remoteCourseData) {
	status, msg, ok := actionError(err)
	switch {
	case !ok:
		h.serverError(w, r, fmt.Errorf("remote course %s: %s: %w", iri, r.URL.Path, err))
	case status == http.StatusUnprocessableEntity:
		data.Error = msg
		h.showRemoteCourse(w, r, me, iri, status, data)
	default:
		h.renderError(w, r, status, http.StatusText(status), msg)
	}
}

// remoteCourseForm reads a remote-course form and its course IRI.
func (h *Handler) remoteCourseForm(w http.ResponseWriter, r *http.Request) (iri string, ok bool) {
	if err := parseCourseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return "", false
	}
	return r.PostForm.Get("course"), true
}

// remotePost sends the user's post, or reply, to a remote course they are
// an accepted member of (403 otherwise).
func (h *Handler) remotePost(w http.ResponseWriter, r *http.Request, me courses.User) {
	iri, ok := h.remoteCourseForm(w, r)
	if !ok {
		return
	}
	text := r.PostForm.Get("content")
	p, err := h.cfg.Actions.PostWith(r.Context(), me, iri, text, r.PostForm.Get("in_reply_to"),
		outbox.PostOptions{Summary: r.PostForm.Get("summary")})
	if err != nil {
		h.remoteFailed(w, r, me, iri, err, remoteCourseData{PostDraft: text})
		return
	}
	http.Redirect(w, r, remoteCoursePath(iri, postAnchor(p)), http.StatusSeeOther)
}

// remoteEditPost replaces the content of one of the user's own posts in a
// remote course.
func (h *Handler) remoteEditPost(w http.ResponseWriter, r *http.Request, me courses.User) {
	iri, ok := h.remoteCourseForm(w, r)
	if !ok {
		return
	}
	p, err := h.cfg.Actions.EditPost(r.Context(), me, r.PostForm.Get("iri"), r.PostForm.Get("content"))
	if err != nil {
		h.remoteFailed(w, r, me, iri, err, remoteCourseData{})
		return
	}
	http.Redirect(w, r, remoteCoursePath(iri, postAnchor(p)), http.StatusSeeOther)
}

// remoteDeletePost deletes one of the user's own posts in a remote course.
func (h *Handler) remoteDeletePost(w http.ResponseWriter, r *http.Request, me courses.User) {
	iri, ok := h.remoteCourseForm(w, r)
	if !ok {
		return
	}
	if err := h.cfg.Actions.DeletePost(r.Context(), me, r.PostForm.Get("iri")); err != nil {
		h.remoteFailed(w, r, me, iri, err, remoteCourseData{})
		return
	}
	http.Redirect(w, r, remoteCoursePath(iri, "discussion"), http.StatusSeeOther)
}

// remoteLeave ends the user's membership of a remote course and sends the
// course a Leave.
func (h *Handler) remoteLeave(w http.ResponseWriter, r *http.Request, me courses.User) {
	iri, ok := h.remoteCourseForm(w, r)
	if !ok {
		return
	}
	if _, err := h.cfg.Store.Enrollment(r.Context(), h.cfg.Pool, me.ID, iri); err != nil {
		h.remoteFailed(w, r, me, iri, err, remoteCourseData{})
		return
	}
	if err := h.cfg.Actions.LeaveRemote(r.Context(), me, iri); err != nil {
		h.remoteFailed(w, r, me, iri, err, remoteCourseData{})
		return
	}
	http.Redirect(w, r, "/courses", http.StatusSeeOther)
}
