package web

import (
	"fmt"
	"net/http"
)

type signinData struct {
	Username, Next, Error string
}

// signinForm shows the sign-in form; ?next= is where to go afterwards.
func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "signin", "Sign in", signinData{Next: localPath(r.URL.Query().Get("next"))})
}

// signin checks the credentials, starts a fresh session and redirects to the
// local page named by next. Wrong credentials re-render the form with 401.
func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	data := signinData{Username: r.PostForm.Get("username"), Next: localPath(r.PostForm.Get("next"))}
	u, err := h.cfg.Store.Authenticate(r.Context(), data.Username, r.PostForm.Get("password"))
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("sign in: %w", err))
			return
		}
		data.Error = msg
		h.render(w, r, status, "signin", "Sign in", data)
		return
	}
	if err := h.signIn(r, u); err != nil {
		h.serverError(w, r, fmt.Errorf("sign in %q: %w", u.Username, err))
		return
	}
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

// signout ends the session, server side as well as in the browser.
func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	if err := h.sessions.Destroy(r.Context()); err != nil {
		h.serverError(w, r, fmt.Errorf("sign out: %w", err))
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
