package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/colearn/colearn/courses"
)

const (
	sessionCookie  = "colearn_session"
	sessionUserKey = "user_id"
)

func newSessionManager(store scs.Store, secure bool) *scs.SessionManager {
	s := scs.New()
	s.Store = store
	s.Lifetime = 30 * 24 * time.Hour
	s.IdleTimeout = 14 * 24 * time.Hour
	s.Cookie.Name = sessionCookie
	s.Cookie.HttpOnly = true
	s.Cookie.SameSite = http.SameSiteLaxMode
	s.Cookie.Secure = secure
	s.Cookie.Path = "/"
	s.Cookie.Persist = true
	return s
}

// viewerKey is the context key of the signed-in user (nil when anonymous).
// Its presence also says that the session has been loaded.
type viewerKey struct{}

// withSession loads the session and the signed-in user, if any, for next.
// A GET or HEAD without a session cookie is an anonymous visitor whose
// page writes no session (only sign-in and sign-out do, by POST), so it
// skips the session store: that is most of the traffic of public pages.
func (h *Handler) withSession(next http.Handler) http.Handler {
	loaded := h.loadSession(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if _, err := r.Cookie(sessionCookie); err != nil {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, (*courses.User)(nil))))
				return
			}
		}
		loaded.ServeHTTP(w, r)
	})
}

func (h *Handler) loadSession(next http.Handler) http.Handler {
	return h.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var me *courses.User
		if id := h.sessions.GetInt64(r.Context(), sessionUserKey); id != 0 {
			u, err := h.cfg.Store.UserByID(r.Context(), id)
			switch {
			case errors.Is(err, courses.ErrNotFound):
				h.sessions.Remove(r.Context(), sessionUserKey)
			case err != nil:
				h.serverError(w, r, fmt.Errorf("load signed-in user: %w", err))
				return
			default:
				me = &u
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, me)))
	}))
}

// viewer returns the signed-in user, or nil.
func viewer(r *http.Request) *courses.User {
	me, _ := r.Context().Value(viewerKey{}).(*courses.User)
	return me
}

// sessionLoaded reports whether withSession has run for r.
func sessionLoaded(r *http.Request) bool {
	_, ok := r.Context().Value(viewerKey{}).(*courses.User)
	return ok
}

// signIn starts a fresh session for u. The new token defeats session
// fixation.
func (h *Handler) signIn(r *http.Request, u courses.User) error {
	if err := h.sessions.RenewToken(r.Context()); err != nil {
		return fmt.Errorf("renew session token: %w", err)
	}
	h.sessions.Put(r.Context(), sessionUserKey, u.ID)
	return nil
}

// requireAdmin lets admins through to next, sends anonymous visitors to sign
// in, and refuses everyone else with 403.
func (h *Handler) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		me := viewer(r)
		switch {
		case me == nil:
			http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.Path), http.StatusSeeOther)
		case !me.IsAdmin:
			h.renderError(w, r, http.StatusForbidden, "Forbidden", "Only the instance's admins may open this page.")
		default:
			next(w, r)
		}
	}
}

// requireUser runs next for a signed-in user and sends anonymous visitors
// to sign in, coming back to the page that holds the form (see returnPath).
func (h *Handler) requireUser(next func(w http.ResponseWriter, r *http.Request, me courses.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		me := viewer(r)
		if me == nil {
			http.Redirect(w, r, "/signin?next="+urlQueryEscape(returnPath(r)), http.StatusSeeOther)
			return
		}
		next(w, r, *me)
	}
}
