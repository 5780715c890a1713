package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// coauthorRoutes mounts the owner's co-authors page of a local course
// (/courses/{slug}/coauthors): the grants, and the invite and revoke forms.
// They run the same outbox actions as colearn course invite and revoke.
func (h *Handler) coauthorRoutes(r chi.Router) {
	r.Get("/courses/{slug}/coauthors", h.requireUser(h.coauthorsPage))
	r.Post("/courses/{slug}/coauthors/invite", h.requireUser(h.withCourse(h.inviteCoauthor)))
	r.Post("/courses/{slug}/coauthors/revoke", h.requireUser(h.withCourse(h.revokeCoauthor)))
}

// grantView is one grant as the co-authors page lists it.
type grantView struct {
	courses.Grant
	Handle    string // @name@host of the grantee, or its IRI when it cannot be had
	GrantedBy string // the owner's @username
	Live      bool   // invited or granted: it can be revoked
}

// coauthorsData is the co-authors page.
type coauthorsData struct {
	Course       courses.Course
	Grants       []grantView
	Handle, Role string // the invite form's input
	Error        string
}

// coauthorsPage shows the course's owner its grants and invitations, with
// the invite form; everyone else gets 403.
func (h *Handler) coauthorsPage(w http.ResponseWriter, r *http.Request, me courses.User) {
	c, ok := h.findCourse(w, r, chi.URLParam(r, "slug"))
	if ok {
		h.showCoauthors(w, r, me, c, http.StatusOK, coauthorsData{Role: courses.RoleAuthor})
	}
}

func (h *Handler) showCoauthors(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course, status int, data coauthorsData) {
	ctx := r.Context()
	m, err := h.cfg.Store.MemberOf(ctx, h.cfg.Pool, c.ID, h.cfg.URLs.User(me.Username))
	if err != nil && !errors.Is(err, courses.ErrNotFound) {
		h.serverError(w, r, fmt.Errorf("co-authors of %s: %w", c.Slug, err))
		return
	}
	if err != nil || m.Role != courses.RoleOwner || m.State != courses.StateAccepted {
		h.renderError(w, r, http.StatusForbidden, "Forbidden", "Only the course's owner manages its co-authors.")
		return
	}
	grants, err := h.cfg.Store.Grants(ctx, h.cfg.Pool, c.ID)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("co-authors of %s: %w", c.Slug, err))
		return
	}
	data.Course = c
	for _, g := range grants {
		data.Grants = append(data.Grants, grantView{Grant: g, Handle: h.handleOf(ctx, g.GranteeIRI),
			GrantedBy: "@" + strings.TrimPrefix(g.GrantedBy, h.cfg.URLs.User("")),
			Live:      g.State == courses.GrantInvited || g.State == courses.GrantGranted})
	}
	h.render(w, r, status, "course_coauthors", "Co-authors of "+c.Title, data)
}

// handleOf names a remote actor by its handle, from the actor cache (a
// fetch of at most two seconds when it is not there), or by its IRI.
func (h *Handler) handleOf(ctx context.Context, iri string) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ra, err := h.cfg.Actions.Resolver.Actor(ctx, iri, false)
	if err != nil || ra.PreferredUsername == "" {
		return iri
	}
	return ra.Handle()
}

// inviteCoauthor invites the handle in the form to the role in the form,
// as the owner; a bad handle, an unknown account or a second invitation
// re-render the page with 422, an unreachable server with 502.
func (h *Handler) inviteCoauthor(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	handle, role := strings.TrimSpace(r.PostForm.Get("handle")), r.PostForm.Get("role")
	data := coauthorsData{Handle: handle, Role: role}
	if federation.Origin(handle) == "" {
		if _, _, err := federation.SplitHandle(handle); err != nil {
			data.Error = "Handle: write it as @name@server.example, or paste the account's address."
			h.showCoauthors(w, r, me, c, http.StatusUnprocessableEntity, data)
			return
		}
	}
	_, err := h.cfg.Actions.Invite(r.Context(), me, c, role, handle)
	if err == nil {
		http.Redirect(w, r, coauthorsPath(c), http.StatusSeeOther)
		return
	}
	status, msg, ok := actionError(err)
	switch {
	case errors.Is(err, courses.ErrAlreadyInvited):
		status, msg = http.StatusUnprocessableEntity, "Handle: that person already has an invitation or a role in this course."
	case ok:
	case errors.Is(err, federation.ErrNotFound), errors.Is(err, federation.ErrGone):
		status, msg = http.StatusUnprocessableEntity, "Handle: there is no such account on that server."
	default:
		h.log.WarnContext(r.Context(), "invite co-author", "course", c.Slug, "handle", handle, "err", err)
		status, msg = http.StatusBadGateway, "That server could not be reached, or did not answer as a fediverse server would. Try again later."
	}
	if status == http.StatusForbidden {
		h.renderError(w, r, status, "Forbidden", "Only the course's owner invites co-authors.")
		return
	}
	data.Error = msg
	h.showCoauthors(w, r, me, c, status, data)
}

// revokeCoauthor ends the grant (or invitation) of the grantee named by
// the form's actor IRI; their next change is refused.
func (h *Handler) revokeCoauthor(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	actor := r.PostForm.Get("actor")
	if federation.Origin(actor) == "" {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "Say whose grant to revoke.")
		return
	}
	if _, err := h.cfg.Actions.Revoke(r.Context(), me, c, actor); err != nil {
		status, msg, ok := actionError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("revoke %s in %s: %w", actor, c.Slug, err))
			return
		}
		h.renderError(w, r, status, http.StatusText(status), msg)
		return
	}
	http.Redirect(w, r, coauthorsPath(c), http.StatusSeeOther)
}

func coauthorsPath(c courses.Course) string {
	return "/courses/" + url.PathEscape(c.Slug) + "/coauthors"
}
