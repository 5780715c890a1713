package web

import (
	"errors"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
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

// actionError translates a domain error from a course form into a status
// and a message; ok is false for server errors. A 422 re-renders the page
// with the message; the other statuses get the error page.
func actionError(err error) (status int, message string, ok bool) {
	switch {
	case errors.Is(err, courses.ErrTaken):
		return http.StatusUnprocessableEntity, "Handle: that name is already taken by a person or a course.", true
	case errors.Is(err, courses.ErrConflict):
		return http.StatusConflict, "Someone else edited this course while you were editing it. Reload the course page to see their changes, then make yours again.", true
	case errors.Is(err, courses.ErrForbidden):
		return http.StatusForbidden, "You may not do that in this course.", true
	case errors.Is(err, outbox.ErrNotEnrolled):
		return http.StatusForbidden, "Only members of the course may do that. Enroll first.", true
	case errors.Is(err, courses.ErrBlocked):
		return http.StatusForbidden, "You were blocked from this course.", true
	case errors.Is(err, courses.ErrNotFound):
		return http.StatusNotFound, "That does not exist (any more).", true
	}
	return formError(err)
}

func fieldLabel(field string) string {
	switch field {
	case "slug":
		return "Handle"
	case "title":
		return "Title"
	case "language":
		return "Language"
	case "licence":
		return "Licence"
	case "tags":
		return "Tags"
	case "content":
		return "Post"
	case "body":
		return "Lesson"
	case "course":
		return "Course"
	case "handle":
		return "Your handle"
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
