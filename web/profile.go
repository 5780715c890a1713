package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/colearn/colearn/courses"
)

type profileData struct {
	User courses.User
	// Summary is the user's summary, Markdown rendered and sanitised.
	Summary template.HTML
	// Own is set when the viewer is this user.
	Own bool
	// Badges is the user's backpack (badge_backpack.go).
	Badges []backpackView
}

// ProfileHTML writes the HTML profile page of the local user username, or a
// 404 page. The actor route calls it for browsers; it loads the session
// itself when the request did not come through Routes.
func (h *Handler) ProfileHTML(w http.ResponseWriter, r *http.Request, username string) {
	if sessionLoaded(r) {
		h.profile(w, r, username)
		return
	}
	h.withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.profile(w, r, username)
	})).ServeHTTP(w, r)
}

func (h *Handler) profile(w http.ResponseWriter, r *http.Request, username string) {
	u, err := h.cfg.Store.UserByUsername(r.Context(), username)
	switch {
	case errors.Is(err, courses.ErrNotFound):
		h.renderError(w, r, http.StatusNotFound, "Not found", "There is no one called @"+username+" here.")
	case err != nil:
		h.serverError(w, r, fmt.Errorf("profile: %w", err))
	default:
		title := u.DisplayName
		if title == "" {
			title = u.Username
		}
		me := viewer(r)
		badges, err := h.backpack(r.Context(), u)
		if err != nil {
			h.serverError(w, r, fmt.Errorf("profile: %w", err))
			return
		}
		h.render(w, r, http.StatusOK, "profile", title, profileData{
			User:    u,
			Summary: template.HTML(h.cfg.Store.Content().Markdown(u.Summary)),
			Own:     me != nil && me.ID == u.ID,
			Badges:  badges,
		})
	}
}
