package web

import (
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
)

type signupData struct {
	Mode                          string
	Username, DisplayName, Invite string
	Error                         string
}

// signupForm shows the sign-up form, with an invite field in invite mode
// (pre-filled from ?invite=), or says that registrations are closed.
func (h *Handler) signupForm(w http.ResponseWriter, r *http.Request) {
	mode, err := h.cfg.Store.Registrations(r.Context())
	if err != nil {
		h.serverError(w, r, fmt.Errorf("sign-up form: %w", err))
		return
	}
	h.render(w, r, http.StatusOK, "signup", "Sign up", signupData{Mode: string(mode), Invite: r.URL.Query().Get("invite")})
}

// signup creates the account through RegisterFunc and signs the new user in.
// Refusals re-render the form with a message: 422 for bad input, 403 when
// registrations are closed, 429 with Retry-After when the client's address
// or the requested name made too many attempts within the throttle's window.
func (h *Handler) signup(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	mode, err := h.cfg.Store.Registrations(r.Context())
	if err != nil {
		h.serverError(w, r, fmt.Errorf("sign up: %w", err))
		return
	}
	data := signupData{
		Mode:        string(mode),
		Username:    r.PostForm.Get("username"),
		DisplayName: r.PostForm.Get("display_name"),
		Invite:      r.PostForm.Get("invite"),
	}
	if mode == courses.RegistrationsClosed {
		h.render(w, r, http.StatusForbidden, "signup", "Sign up", data)
		return
	}
	if h.throttle.limited(w, r, "signup", data.Username) {
		data.Error = tooManyAttempts
		h.render(w, r, http.StatusTooManyRequests, "signup", "Sign up", data)
		return
	}
	var u courses.User
	if !h.throttle.hash(r.Context(), func() {
		u, err = h.cfg.RegisterFunc(r.Context(), courses.NewUser{
			Username:    data.Username,
			Password:    r.PostForm.Get("password"),
			DisplayName: data.DisplayName,
			InviteCode:  data.Invite,
		})
	}) {
		h.busy(w, r)
		return
	}
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("sign up %q: %w", data.Username, err))
			return
		}
		if status == http.StatusForbidden {
			data.Mode = string(courses.RegistrationsClosed)
		}
		data.Error = msg
		h.render(w, r, status, "signup", "Sign up", data)
		return
	}
	if err := h.signIn(r, u); err != nil {
		h.serverError(w, r, fmt.Errorf("sign up %q: %w", u.Username, err))
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
