package courses

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Award is a credential a local course issued: the signed
// OpenBadgeCredential and what colearn needs to serve, deliver and revoke
// it.
type Award struct {
	ID             int64
	PublicID       string // in its URL: /credentials/PUBLIC_ID
	AchievementID  int64
	CourseID       int64
	RecipientIRI   string
	RecipientName  string
	RecipientInbox string
	ColearnPeer    bool // the recipient's server is colearn: it gets the credential itself
	StatusIndex    int
	Evidence       string
	AwardedBy      string
	Credential     []byte
	IssuedAt       time.Time
	RevokedAt      *time.Time
	RevokedBy      string
}

// ErrAlreadyAwarded means the learner holds this achievement already (and
// it was not revoked).
var ErrAlreadyAwarded = errors.New("already awarded")

// ErrNotMember means the recipient is not an accepted member of the course.
var ErrNotMember = errors.New("not an enrolled learner of this course")

const awardColumns = `id, public_id, achievement_id, course_id, recipient_iri, recipient_name, recipient_inbox, colearn_peer,
	status_index, evidence, awarded_by, credential, issued_at, revoked_at, revoked_by`

func scanAward(row pgx.Row) (Award, error) {
	var a Award
	var cred string
	err := row.Scan(&a.ID, &a.PublicID, &a.AchievementID, &a.CourseID, &a.RecipientIRI, &a.RecipientName, &a.RecipientInbox,
		&a.ColearnPeer, &a.StatusIndex, &a.Evidence, &a.AwardedBy, &cred, &a.IssuedAt, &a.RevokedAt, &a.RevokedBy)
	a.Credential = []byte(cred)
	return a, err
}

// AwardSlot is what PrepareAward reserves: the award's public id, its
// status list index, and the recipient's membership.
type AwardSlot struct {
	PublicID    string
	StatusIndex int
	Recipient   Member
}

// MaxStatusIndex is the number of entries of a course's status list.
const MaxStatusIndex = 131072

// CanAward is the awarding rule: the course's owner and moderators (its
// facilitators) award badges.
func (s *Store) CanAward(ctx context.Context, q Querier, courseID int64, actorIRI string) (bool, error) {
	return canModerate(ctx, q, courseID, actorIRI)
}

// PrepareAward applies the awarding rule inside tx and reserves a slot:
// by must be a facilitator of the course (ErrForbidden), the recipient an
// accepted member (ErrNotMember) who does not hold the achievement
// (ErrAlreadyAwarded). Awards of one course are serialised, so status
// indexes are never handed out twice.
func (s *Store) PrepareAward(ctx context.Context, tx pgx.Tx, a Achievement, recipientIRI, by string) (AwardSlot, error) {
	if ok, err := canModerate(ctx, tx, a.CourseID, by); err != nil || !ok {
		return AwardSlot{}, forbidden(err, "award badges of course", fmt.Sprint(a.CourseID), by)
	}
	return s.prepareAward(ctx, tx, a, recipientIRI)
}

func (s *Store) prepareAward(ctx context.Context, tx pgx.Tx, a Achievement, recipientIRI string) (AwardSlot, error) {
	m, err := s.MemberOf(ctx, tx, a.CourseID, recipientIRI)
	if errors.Is(err, ErrNotFound) || (err == nil && m.State != StateAccepted) {
		return AwardSlot{}, fmt.Errorf("award to %s: %w", recipientIRI, ErrNotMember)
	}
	if err != nil {
		return AwardSlot{}, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(8, $1::int)`, int32(a.CourseID)); err != nil {
		return AwardSlot{}, fmt.Errorf("lock awards of course %d: %w", a.CourseID, err)
	}
	var held bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM awards WHERE achievement_id = $1 AND recipient_iri = $2 AND revoked_at IS NULL)`,
		a.ID, recipientIRI).Scan(&held); err != nil {
		return AwardSlot{}, err
	}
	if held {
		return AwardSlot{}, fmt.Errorf("%s to %s: %w", a.Name, recipientIRI, ErrAlreadyAwarded)
	}
	var next int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(status_index) + 1, 0) FROM awards WHERE course_id = $1`, a.CourseID).Scan(&next); err != nil {
		return AwardSlot{}, err
	}
	if next >= MaxStatusIndex {
		return AwardSlot{}, fmt.Errorf("course %d has issued %d credentials, its status list is full", a.CourseID, next)
	}
	return AwardSlot{PublicID: newPublicID(), StatusIndex: next, Recipient: m}, nil
}

// SaveAward stores an issued credential inside tx.
func (s *Store) SaveAward(ctx context.Context, tx pgx.Tx, a Award) (Award, error) {
	saved, err := scanAward(tx.QueryRow(ctx, `
		INSERT INTO awards (public_id, achievement_id, course_id, recipient_iri, recipient_name, recipient_inbox, colearn_peer,
			status_index, evidence, awarded_by, credential, issued_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+awardColumns,
		a.PublicID, a.AchievementID, a.CourseID, a.RecipientIRI, a.RecipientName, a.RecipientInbox, a.ColearnPeer,
		a.StatusIndex, a.Evidence, a.AwardedBy, string(a.Credential), a.IssuedAt))
	if isUniqueViolation(err) {
		return Award{}, fmt.Errorf("award to %s: %w", a.RecipientIRI, ErrAlreadyAwarded)
	}
	if err != nil {
		return Award{}, fmt.Errorf("store award to %s: %w", a.RecipientIRI, err)
	}
	return saved, nil
}

// AwardByPublicID returns the award publicID, or ErrNotFound.
func (s *Store) AwardByPublicID(ctx context.Context, q Querier, publicID string) (Award, error) {
	a, err := scanAward(q.QueryRow(ctx, `SELECT `+awardColumns+` FROM awards WHERE public_id = $1`, publicID))
	if err != nil {
		return Award{}, fmt.Errorf("award %s: %w", publicID, notFound(err))
	}
	return a, nil
}

// Awards lists the credentials a course issued, newest first.
func (s *Store) Awards(ctx context.Context, q Querier, courseID int64) ([]Award, error) {
	rows, err := q.Query(ctx, `SELECT `+awardColumns+` FROM awards WHERE course_id = $1 ORDER BY id DESC`, courseID)
	if err != nil {
		return nil, fmt.Errorf("awards of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Award, error) { return scanAward(r) })
}

// RevokeAward marks an award revoked by by, a facilitator of its course
// (ErrForbidden otherwise). Revoking twice is harmless: the first
// revocation stands and revoked is false.
func (s *Store) RevokeAward(ctx context.Context, tx pgx.Tx, publicID, by string) (a Award, revoked bool, err error) {
	if a, err = s.AwardByPublicID(ctx, tx, publicID); err != nil {
		return a, false, err
	}
	if ok, err := canModerate(ctx, tx, a.CourseID, by); err != nil || !ok {
		return a, false, forbidden(err, "revoke credential", publicID, by)
	}
	if a.RevokedAt != nil {
		return a, false, nil
	}
	a, err = scanAward(tx.QueryRow(ctx, `UPDATE awards SET revoked_at = now(), revoked_by = $2 WHERE id = $1 RETURNING `+awardColumns, a.ID, by))
	if err != nil {
		return a, false, fmt.Errorf("revoke %s: %w", publicID, err)
	}
	return a, true, nil
}

// RevokedIndexes lists the status list entries of a course's revoked
// credentials.
func (s *Store) RevokedIndexes(ctx context.Context, q Querier, courseID int64) ([]int, error) {
	rows, err := q.Query(ctx, `SELECT status_index FROM awards WHERE course_id = $1 AND revoked_at IS NOT NULL`, courseID)
	if err != nil {
		return nil, fmt.Errorf("revoked credentials of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}
