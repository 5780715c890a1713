package courses

import "errors"

var (
	// ErrNotFound means the user, handle or invite asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrTaken means a handle (shared by users and courses) is already in use.
	ErrTaken = errors.New("name already taken")
	// ErrBadCredentials means the username or the password is wrong. It does
	// not say which, on purpose.
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrRegistrationsClosed means the instance accepts no sign-ups.
	ErrRegistrationsClosed = errors.New("registrations are closed")
	// ErrBadInvite means sign-up needs an invite and the code given is
	// missing, unknown or already used.
	ErrBadInvite = errors.New("invalid or used invite code")
)

// ValidationError reports user input that breaks a rule, such as a malformed
// username or a short password. Field names the offending input, Message is
// safe to show to the person who typed it.
type ValidationError struct {
	Field   string
	Message string
}

// Error returns "field: message".
func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }
