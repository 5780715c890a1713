package web

import (
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
)

// tooManyAttempts is the message of a throttled sign-in or sign-up.
const tooManyAttempts = "Too many attempts. Please wait a minute and try again."

// busy answers 503 when every password-hashing slot stayed taken.
func (h *Handler) busy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	h.renderError(w, r, http.StatusServiceUnavailable, "Busy", "The server is busy. Please try again in a few seconds.")
}

type signinData struct {
	Username, Next, Error string
}

// signinForm shows the sign-in form; ?next= is where to go afterwards.
func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "signin", "Sign in", signinData{Next: localPath(r.URL.Query().Get("next"))})
}

// signin checks the credentials, starts a fresh session and redirects to the
// local page named by next. Wrong credentials re-render the form with 401;
// too many attempts from the client's address or for the account within
// the throttle's window get 429 with Retry-After, and are not checked at
// all; 503 when no password-hashing slot frees up in time.
func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	data := signinData{Username: r.PostForm.Get("username"), Next: localPath(r.PostForm.Get("next"))}
	if h.throttle.limited(w, r, "signin", data.Username) {
		data.Error = tooManyAttempts
		h.render(w, r, http.StatusTooManyRequests, "signin", "Sign in", data)
		return
	}
	var u courses.User
	var err error
	if !h.throttle.hash(r.Context(), func() {
		u, err = h.cfg.Store.Authenticate(r.Context(), data.Username, r.PostForm.Get("password"))
	}) {
		h.busy(w, r)
		return
	}
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
