package courses

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// RoleAuthor is the role of a co-author on another server (RoleModerator
// is the other role a course grants).
const RoleAuthor = "author"

// States of a grant.
const (
	GrantInvited  = "invited"
	GrantGranted  = "granted"
	GrantDeclined = "declined"
	GrantRevoked  = "revoked"
)

// Grant is a course's record of a role given to an actor on another
// server: born as an invitation (the Invite the course sent, InviteID),
// granted when the invitee accepts, and kept when it is declined or
// revoked, so the record says who granted what, when, and who ended it.
type Grant struct {
	ID           int64
	CourseID     int64
	GranteeIRI   string
	GranteeInbox string
	Role         string
	State        string
	InviteID     string
	GrantID      string
	GrantedBy    string
	InvitedAt    time.Time
	GrantedAt    *time.Time
	EndedAt      *time.Time
	EndedBy      string
}

// ErrAlreadyInvited means the actor already holds, or was already sent, a
// live invitation or grant for the course.
var ErrAlreadyInvited = errors.New("already invited to or granted a role in this course")

const grantColumns = `id, course_id, grantee_iri, grantee_inbox, role, state, invite_id, grant_id, granted_by,
	invited_at, granted_at, ended_at, ended_by`

func scanGrant(row pgx.Row) (Grant, error) {
	var g Grant
	err := row.Scan(&g.ID, &g.CourseID, &g.GranteeIRI, &g.GranteeInbox, &g.Role, &g.State, &g.InviteID, &g.GrantID,
		&g.GrantedBy, &g.InvitedAt, &g.GrantedAt, &g.EndedAt, &g.EndedBy)
	return g, err
}

// Invite records that by (the owner) invites granteeIRI to role in the
// course, with inviteID the id of the Invite activity. Only the owner may
// invite: ErrForbidden otherwise; ErrAlreadyInvited for a live invitation
// or grant; *ValidationError for an unknown role.
func (s *Store) Invite(ctx context.Context, tx pgx.Tx, courseID int64, by, granteeIRI, granteeInbox, role, inviteID string) (Grant, error) {
	if role != RoleAuthor && role != RoleModerator {
		return Grant{}, &ValidationError{Field: "role", Message: fmt.Sprintf("the role is author or moderator, not %q", role)}
	}
	if err := s.requireOwner(ctx, tx, courseID, by, "invite"); err != nil {
		return Grant{}, err
	}
	g, err := scanGrant(tx.QueryRow(ctx, `INSERT INTO course_grants (course_id, grantee_iri, grantee_inbox, role, state, invite_id, granted_by)
		VALUES ($1, $2, $3, $4, 'invited', $5, $6) RETURNING `+grantColumns, courseID, granteeIRI, granteeInbox, role, inviteID, by))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Grant{}, fmt.Errorf("invite %s: %w", granteeIRI, ErrAlreadyInvited)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("invite %s: %w", granteeIRI, err)
	}
	return g, nil
}

func (s *Store) requireOwner(ctx context.Context, q Querier, courseID int64, actorIRI, what string) error {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM course_members WHERE course_id = $1 AND actor_iri = $2
		AND state = 'accepted' AND role = 'owner')`, courseID, actorIRI).Scan(&ok)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !ok {
		return fmt.Errorf("%s by %s (only the owner may): %w", what, actorIRI, ErrForbidden)
	}
	return nil
}

// AnswerInvite applies the invitee's answer to invitation inviteID: only
// the invitee (actorIRI, the signed actor of the answer) can answer, and
// only a pending invitation. Accepting makes it a grant with id grantID.
// ErrNotFound when there is no such pending invitation for actorIRI.
func (s *Store) AnswerInvite(ctx context.Context, tx pgx.Tx, actorIRI, inviteID string, accepted bool, grantID string) (Grant, error) {
	state := GrantDeclined
	if accepted {
		state = GrantGranted
	}
	g, err := scanGrant(tx.QueryRow(ctx, `UPDATE course_grants SET state = $3, grant_id = $4,
			granted_at = CASE WHEN $3 = 'granted' THEN now() END, ended_at = CASE WHEN $3 = 'declined' THEN now() END
		WHERE invite_id = $1 AND grantee_iri = $2 AND state = 'invited' RETURNING `+grantColumns, inviteID, actorIRI, state, grantID))
	if err != nil {
		return Grant{}, fmt.Errorf("answer of %s to %s: %w", actorIRI, inviteID, notFound(err))
	}
	// A grant changes the course's attributedTo.
	if err := s.courseChanged(ctx, tx, g.CourseID); err != nil {
		return Grant{}, err
	}
	return g, nil
}

// Revoke ends the live grant (or pending invitation) of granteeIRI in the
// course; only the owner (by) may. ErrNotFound when there is none.
func (s *Store) Revoke(ctx context.Context, tx pgx.Tx, courseID int64, by, granteeIRI string) (Grant, error) {
	if err := s.requireOwner(ctx, tx, courseID, by, "revoke"); err != nil {
		return Grant{}, err
	}
	g, err := scanGrant(tx.QueryRow(ctx, `UPDATE course_grants SET state = 'revoked', ended_at = now(), ended_by = $3
		WHERE course_id = $1 AND grantee_iri = $2 AND state IN ('invited', 'granted') RETURNING `+grantColumns, courseID, granteeIRI, by))
	if err != nil {
		return Grant{}, fmt.Errorf("revoke %s: %w", granteeIRI, notFound(err))
	}
	if err := s.courseChanged(ctx, tx, courseID); err != nil {
		return Grant{}, err
	}
	return g, nil
}

// Grants lists every grant and invitation of a course, newest first.
func (s *Store) Grants(ctx context.Context, q Querier, courseID int64) ([]Grant, error) {
	rows, err := q.Query(ctx, `SELECT `+grantColumns+` FROM course_grants WHERE course_id = $1 ORDER BY id DESC`, courseID)
	if err != nil {
		return nil, fmt.Errorf("grants of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) { return scanGrant(r) })
}

// GrantedAuthors returns the IRIs of the actors holding a live grant in
// the course, in the order they were granted (at most MaxStaff): they
// appear in the course's attributedTo.
func (s *Store) GrantedAuthors(ctx context.Context, q Querier, courseID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT grantee_iri FROM course_grants WHERE course_id = $1 AND state = 'granted' ORDER BY granted_at, id LIMIT $2`, courseID, MaxStaff)
	if err != nil {
		return nil, fmt.Errorf("granted authors of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// hasGrant reports whether actorIRI holds a live grant (author or
// moderator) in the course. Read in the writer's transaction, so a
// revocation committed before the edit is seen by it.
func hasGrant(ctx context.Context, q Querier, courseID int64, actorIRI string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM course_grants WHERE course_id = $1 AND grantee_iri = $2 AND state = 'granted')`,
		courseID, actorIRI).Scan(&ok)
	return ok, err
}
