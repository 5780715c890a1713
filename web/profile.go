package web

import (
	"context"
	"html/template"
	"net/http"
	"strings"

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
	h.publicPage(w, r, "profile:"+strings.ToLower(username), "There is no one called @"+username+" here.",
		func(ctx context.Context) (page, []courses.Scope, error) {
			u, err := h.cfg.Store.UserByUsername(ctx, username)
			if err != nil {
				return page{}, nil, err
			}
			title := u.DisplayName
			if title == "" {
				title = u.Username
			}
			me := viewer(r)
			badges, err := h.backpack(ctx, u)
			if err != nil {
				return page{}, nil, err
			}
			content := h.cfg.Store.Content()
			return page{Name: "profile", Title: title, Data: profileData{
				User:    u,
				Summary: template.HTML(content.Markdown(u.Summary)),
				Own:     me != nil && me.ID == u.ID,
				Badges:  badges,
			}, Meta: pageMeta{
				OGType: "profile", URL: h.cfg.URLs.Profile(u.Username), Alternate: h.cfg.URLs.User(u.Username),
				Description: content.Excerpt(u.Summary, excerptLen),
			}}, []courses.Scope{courses.UserScope(u.Username)}, nil
		})
}
