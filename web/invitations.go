package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// invitationRoutes mounts the invitee's side of co-authoring: the
// invitations courses on other servers sent the signed-in user
// (/invitations), with Accept and Decline, the same actions as colearn
// invitation accept and decline.
func (h *Handler) invitationRoutes(r chi.Router) {
	r.Get("/invitations", h.requireUser(h.invitationsPage))
	r.Post("/invitations/{id}/accept", h.requireUser(h.answerInvitation(true)))
	r.Post("/invitations/{id}/decline", h.requireUser(h.answerInvitation(false)))
}

type invitationsData struct {
	Invitations []invitationView
}

// invitationView is one invitation, with the page of the course's syllabus
// on this instance once the grant is in force.
type invitationView struct {
	courses.Invitation
	SyllabusPath string
}

// invitationsPage lists the user's invitations, newest first.
func (h *Handler) invitationsPage(w http.ResponseWriter, r *http.Request, me courses.User) {
	vs, err := h.cfg.Store.Invitations(r.Context(), h.cfg.Pool, me.ID)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("invitations: %w", err))
		return
	}
	var data invitationsData
	for _, v := range vs {
		data.Invitations = append(data.Invitations, invitationView{Invitation: v, SyllabusPath: remoteSyllabusPath(v.CourseIRI)})
	}
	h.render(w, r, http.StatusOK, "invitations", "Invitations", data)
}

// answerInvitation accepts or declines invitation {id}: the course gets
// Accept or Reject of its Invite. Someone else's invitation is 404, one
// already answered 409.
func (h *Handler) answerInvitation(accept bool) func(http.ResponseWriter, *http.Request, courses.User) {
	return func(w http.ResponseWriter, r *http.Request, me courses.User) {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			h.renderError(w, r, http.StatusNotFound, "Not found", "There is no such invitation.")
			return
		}
		_, err = h.cfg.Actions.AnswerInvitation(r.Context(), me, id, accept)
		switch {
		case err == nil:
			http.Redirect(w, r, "/invitations", http.StatusSeeOther)
		case errors.Is(err, courses.ErrAnswered):
			h.renderError(w, r, http.StatusConflict, "Already answered", "You already answered this invitation.")
		case errors.Is(err, courses.ErrNotFound):
			h.renderError(w, r, http.StatusNotFound, "Not found", "There is no such invitation.")
		default:
			h.serverError(w, r, fmt.Errorf("answer invitation %d: %w", id, err))
		}
	}
}

// pendingInvitations counts the signed-in viewer's unanswered invitations
// (0 for anonymous visitors, whose pages are shared).
func (h *Handler) pendingInvitations(r *http.Request) (int, error) {
	me := viewer(r)
	if me == nil {
		return 0, nil
	}
	return h.cfg.Store.PendingInvitations(r.Context(), h.cfg.Pool, me.ID)
}
