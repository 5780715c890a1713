package courses

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// BadgeRequest is a learner asking for an achievement with evidence. A
// facilitator decides it, or, when the achievement allows peer assessment,
// enough approving reviews by fellow members do.
type BadgeRequest struct {
	ID            int64
	AchievementID int64
	RequesterIRI  string
	Evidence      string
	State         string // pending, approved or rejected
	DecidedBy     string
	AwardID       int64
	CreatedAt     time.Time
	DecidedAt     *time.Time
	Reviews       []Review
}

// Review is one member's opinion of a badge request.
type Review struct {
	ReviewerIRI string
	Approve     bool
	Comment     string
	CreatedAt   time.Time
}

// States of a badge request.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRejected = "rejected"
)

// ErrDecided means the request was already approved or rejected.
var ErrDecided = errors.New("request already decided")

const requestColumns = `id, achievement_id, requester_iri, evidence, state, decided_by, coalesce(award_id, 0), created_at, decided_at`

func scanRequest(row pgx.Row) (BadgeRequest, error) {
	var r BadgeRequest
	err := row.Scan(&r.ID, &r.AchievementID, &r.RequesterIRI, &r.Evidence, &r.State, &r.DecidedBy, &r.AwardID, &r.CreatedAt, &r.DecidedAt)
	return r, err
}

// RequestBadge records requester's request for achievement a with
// evidence. The requester must be an accepted member (ErrNotMember) who
// does not hold it (ErrAlreadyAwarded); one pending request per learner
// and achievement (a second one is a *ValidationError).
func (s *Store) RequestBadge(ctx context.Context, q Querier, a Achievement, requester, evidence string) (BadgeRequest, error) {
	evidence = strings.TrimSpace(evidence)
	if evidence == "" || utf8.RuneCountInString(evidence) > 10000 {
		return BadgeRequest{}, &ValidationError{Field: "evidence", Message: "describe or link what you did, in at most 10,000 characters"}
	}
	m, err := s.MemberOf(ctx, q, a.CourseID, requester)
	if errors.Is(err, ErrNotFound) || (err == nil && m.State != StateAccepted) {
		return BadgeRequest{}, fmt.Errorf("request by %s: %w", requester, ErrNotMember)
	} else if err != nil {
		return BadgeRequest{}, err
	}
	var held bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM awards WHERE achievement_id = $1 AND recipient_iri = $2 AND revoked_at IS NULL)`,
		a.ID, requester).Scan(&held); err != nil {
		return BadgeRequest{}, err
	}
	if held {
		return BadgeRequest{}, fmt.Errorf("request by %s: %w", requester, ErrAlreadyAwarded)
	}
	r, err := scanRequest(q.QueryRow(ctx, `INSERT INTO badge_requests (achievement_id, requester_iri, evidence) VALUES ($1, $2, $3) RETURNING `+requestColumns,
		a.ID, requester, evidence))
	if isUniqueViolation(err) {
		return BadgeRequest{}, &ValidationError{Field: "evidence", Message: "you already asked for this badge; wait for the decision"}
	}
	if err != nil {
		return BadgeRequest{}, fmt.Errorf("request %s by %s: %w", a.Name, requester, err)
	}
	return r, nil
}

// BadgeRequestByID returns a request with its reviews, or ErrNotFound.
func (s *Store) BadgeRequestByID(ctx context.Context, q Querier, id int64) (BadgeRequest, error) {
	r, err := scanRequest(q.QueryRow(ctx, `SELECT `+requestColumns+` FROM badge_requests WHERE id = $1`, id))
	if err != nil {
		return r, fmt.Errorf("badge request %d: %w", id, notFound(err))
	}
	rows, err := q.Query(ctx, `SELECT reviewer_iri, approve, comment, created_at FROM badge_reviews WHERE request_id = $1 ORDER BY created_at`, id)
	if err != nil {
		return r, err
	}
	r.Reviews, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Review])
	return r, err
}

// BadgeRequests lists the requests for a course's achievements, pending
// first, with their reviews.
func (s *Store) BadgeRequests(ctx context.Context, q Querier, courseID int64) ([]BadgeRequest, error) {
	rows, err := q.Query(ctx, `SELECT r.id FROM badge_requests r JOIN achievements a ON a.id = r.achievement_id
		WHERE a.course_id = $1 ORDER BY r.state <> 'pending', r.id DESC LIMIT 200`, courseID)
	if err != nil {
		return nil, fmt.Errorf("badge requests of course %d: %w", courseID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	out := make([]BadgeRequest, 0, len(ids))
	for _, id := range ids {
		r, err := s.BadgeRequestByID(ctx, q, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Verdict is what a review leads to.
type Verdict int

// Verdicts of ReviewBadgeRequest.
const (
	VerdictPending Verdict = iota // recorded; not enough approvals yet
	VerdictApprove                // award the badge now
	VerdictReject
)

// ReviewBadgeRequest records reviewer's review of a pending request
// (ErrDecided otherwise) and says what follows. A facilitator's review
// decides at once (facilitator approval). Another accepted member may
// review only when the achievement allows peer assessment, never their own
// request; the request is approved once PeerReviews members approve
// (ErrForbidden for anyone else).
func (s *Store) ReviewBadgeRequest(ctx context.Context, tx pgx.Tx, requestID int64, reviewer string, approve bool, comment string) (BadgeRequest, Achievement, Verdict, error) {
	r, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM badge_requests WHERE id = $1 FOR UPDATE`, requestID))
	if err != nil {
		return r, Achievement{}, VerdictPending, fmt.Errorf("badge request %d: %w", requestID, notFound(err))
	}
	a, err := s.AchievementByID(ctx, tx, r.AchievementID)
	if err != nil {
		return r, a, VerdictPending, err
	}
	if r.State != RequestPending {
		return r, a, VerdictPending, fmt.Errorf("badge request %d: %w", requestID, ErrDecided)
	}
	facilitator, err := canModerate(ctx, tx, a.CourseID, reviewer)
	if err != nil {
		return r, a, VerdictPending, err
	}
	if !facilitator {
		m, err := s.MemberOf(ctx, tx, a.CourseID, reviewer)
		peerOK := err == nil && m.State == StateAccepted && a.PeerReviews > 0 && reviewer != r.RequesterIRI
		if !peerOK {
			return r, a, VerdictPending, forbidden(nil, "review badge request", fmt.Sprint(requestID), reviewer)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO badge_reviews (request_id, reviewer_iri, approve, comment) VALUES ($1, $2, $3, $4)
		ON CONFLICT (request_id, reviewer_iri) DO UPDATE SET approve = $3, comment = $4, created_at = now()`,
		requestID, reviewer, approve, strings.TrimSpace(comment)); err != nil {
		return r, a, VerdictPending, fmt.Errorf("review badge request %d: %w", requestID, err)
	}
	if facilitator {
		if approve {
			return r, a, VerdictApprove, nil
		}
		return r, a, VerdictReject, nil
	}
	var approvals int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM badge_reviews WHERE request_id = $1 AND approve AND reviewer_iri <> $2`,
		requestID, r.RequesterIRI).Scan(&approvals); err != nil {
		return r, a, VerdictPending, err
	}
	if approvals >= a.PeerReviews {
		return r, a, VerdictApprove, nil
	}
	return r, a, VerdictPending, nil
}

// DecideBadgeRequest records the decision on a request: approved with the
// award it led to, or rejected (awardID 0).
func (s *Store) DecideBadgeRequest(ctx context.Context, tx pgx.Tx, requestID int64, state, by string, awardID int64) error {
	var award *int64
	if awardID != 0 {
		award = &awardID
	}
	tag, err := tx.Exec(ctx, `UPDATE badge_requests SET state = $2, decided_by = $3, award_id = $4, decided_at = now()
		WHERE id = $1 AND state = 'pending'`, requestID, state, by, award)
	if err != nil {
		return fmt.Errorf("decide badge request %d: %w", requestID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("badge request %d: %w", requestID, ErrDecided)
	}
	return nil
}
