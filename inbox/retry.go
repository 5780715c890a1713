package inbox

import (
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// MaxApplyAttempts bounds how often an activity is tried when applying it
// keeps failing for passing reasons; with applyBackoff that spans about
// nine hours.
const MaxApplyAttempts = 12

// applyBackoff is the wait after failed attempt n: 5 s doubling, capped at
// two hours.
func applyBackoff(n int) time.Duration {
	d := 5 * time.Second << min(n-1, 12)
	return min(d, 2*time.Hour)
}

// transient reports whether applying an activity failed for a reason that
// may pass: a network error or a peer's 429/5xx while fetching, or a
// database error. Malformed, forbidden, ignored and gone are final, and so
// is a database error of class 22 (data exception): the activity holds
// what PostgreSQL never stores, such as a \u0000 in a post's text, and
// every attempt would fail the same way.
func transient(err error) bool {
	var ve *courses.ValidationError
	var se *federation.StatusError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22"):
		return false
	case errors.Is(err, ErrMalformed), errors.Is(err, errIgnored),
		errors.Is(err, courses.ErrForbidden), errors.Is(err, courses.ErrNotFound),
		errors.Is(err, courses.ErrBlocked), errors.Is(err, courses.ErrTaken), errors.Is(err, courses.ErrTombstoned),
		errors.Is(err, federation.ErrGone), errors.Is(err, federation.ErrForbiddenAddress),
		errors.Is(err, federation.ErrTooLarge), errors.Is(err, federation.ErrDomainBlocked), errors.As(err, &ve):
		return false
	case errors.As(err, &se):
		return se.StatusCode == 429 || se.StatusCode >= 500
	}
	return true
}
