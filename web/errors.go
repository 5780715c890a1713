package web

import (
	"errors"
	"net/http"

	"github.com/colearn/colearn/courses"
)

// formError translates a domain error from a form submission into the status
// and the message shown above the form. ok is false for errors that are not
// the user's doing; those are server errors.
func formError(err error) (status int, message string, ok bool) {
	var verr *courses.ValidationError
	switch {
	case errors.As(err, &verr):
		return http.StatusUnprocessableEntity, fieldLabel(verr.Field) + ": " + verr.Message + ".", true
	case errors.Is(err, courses.ErrTaken):
		return http.StatusUnprocessableEntity, "That username is already taken.", true
	case errors.Is(err, courses.ErrBadInvite):
		return http.StatusUnprocessableEntity, "That invite code is not valid, or has already been used.", true
	case errors.Is(err, courses.ErrRegistrationsClosed):
		return http.StatusForbidden, "Registrations on this instance are closed.", true
	case errors.Is(err, courses.ErrBadCredentials):
		return http.StatusUnauthorized, "Wrong username or password.", true
	}
	return http.StatusInternalServerError, "", false
}

func fieldLabel(field string) string {
	switch field {
	case "username":
		return "Username"
	case "password":
		return "Password"
	case "display_name":
		return "Display name"
	case "summary":
		return "Summary"
	case "registrations":
		return "Registrations"
	}
	return field
}
