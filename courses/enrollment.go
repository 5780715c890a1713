package courses

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Enrollment is a local user's membership of a course (or any group) on
// another server, asked for with a Join (colearn courses) or a Follow
// (other groups: Lemmy, Mbin, PieFed, Friendica, Guppe).
type Enrollment struct {
	UserID    int64
	CourseIRI string
	State     string // pending, accepted or rejected
	RequestID string // the Join's or Follow's id
	Via       string // EnrollJoin or EnrollFollow
	CreatedAt time.Time
}

// How a local user asked to enroll in a remote group.
const (
	EnrollJoin   = "join"
	EnrollFollow = "follow"
)

// RequestEnrollment records that userID sent Join requestID to courseIRI.
// Asking again replaces the request.
func (s *Store) RequestEnrollment(ctx context.Context, q Querier, userID int64, courseIRI, requestID string) error {
	return s.RequestEnrollmentVia(ctx, q, userID, courseIRI, requestID, EnrollJoin)
}

// RequestEnrollmentVia records that userID sent requestID, a Join (via
// EnrollJoin) or a Follow (EnrollFollow), to the group courseIRI. Asking
// again replaces the request; any other via fails the table's check.
func (s *Store) RequestEnrollmentVia(ctx context.Context, q Querier, userID int64, courseIRI, requestID, via string) error {
	_, err := q.Exec(ctx, `
		INSERT INTO remote_enrollments (user_id, course_iri, state, request_id, via) VALUES ($1, $2, 'pending', $3, $4)
		ON CONFLICT (user_id, course_iri) DO UPDATE SET state = 'pending', request_id = $3, via = $4, created_at = now()`,
		userID, courseIRI, requestID, via)
	if err != nil {
		return fmt.Errorf("request enrollment in %s: %w", courseIRI, err)
	}
	return nil
}

// AnswerEnrollment applies the course's Accept or Reject of the Join (or
// Follow) requestID. Only the course itself may answer, so courseIRI is the
// answering actor; an answer naming an unknown request changes nothing and
// returns ErrNotFound.
func (s *Store) AnswerEnrollment(ctx context.Context, q Querier, courseIRI, requestID string, accepted bool) (Enrollment, error) {
	state := "rejected"
	if accepted {
		state = StateAccepted
	}
	e, err := scanEnrollment(q.QueryRow(ctx, `UPDATE remote_enrollments SET state = $3
		WHERE course_iri = $1 AND request_id = $2 RETURNING `+enrollmentColumns, courseIRI, requestID, state))
	if err != nil {
		return Enrollment{}, fmt.Errorf("answer to %s from %s: %w", requestID, courseIRI, notFound(err))
	}
	return e, nil
}

// EndEnrollment forgets a user's membership of a remote course (after a
// Leave).
func (s *Store) EndEnrollment(ctx context.Context, q Querier, userID int64, courseIRI string) error {
	_, err := q.Exec(ctx, `DELETE FROM remote_enrollments WHERE user_id = $1 AND course_iri = $2`, userID, courseIRI)
	return err
}

// EnrollmentsOf lists a local user's remote enrollments.
func (s *Store) EnrollmentsOf(ctx context.Context, q Querier, userID int64) ([]Enrollment, error) {
	rows, err := q.Query(ctx, `SELECT `+enrollmentColumns+` FROM remote_enrollments WHERE user_id = $1 ORDER BY created_at`, userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Enrollment, error) { return scanEnrollment(r) })
}

// Enrollment returns one of a user's remote enrollments, or ErrNotFound.
func (s *Store) Enrollment(ctx context.Context, q Querier, userID int64, courseIRI string) (Enrollment, error) {
	e, err := scanEnrollment(q.QueryRow(ctx, `SELECT `+enrollmentColumns+` FROM remote_enrollments WHERE user_id = $1 AND course_iri = $2`, userID, courseIRI))
	if err != nil {
		return Enrollment{}, fmt.Errorf("enrollment in %s: %w", courseIRI, notFound(err))
	}
	return e, nil
}

const enrollmentColumns = `user_id, course_iri, state, request_id, via, created_at`

func scanEnrollment(row pgx.Row) (Enrollment, error) {
	var e Enrollment
	err := row.Scan(&e.UserID, &e.CourseIRI, &e.State, &e.RequestID, &e.Via, &e.CreatedAt)
	return e, err
}

// HasEnrollments reports whether any local user is an accepted member of
// the remote course courseIRI.
func (s *Store) HasEnrollments(ctx context.Context, q Querier, courseIRI string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM remote_enrollments WHERE course_iri = $1 AND state = 'accepted')`, courseIRI).Scan(&ok)
	return ok, err
}
