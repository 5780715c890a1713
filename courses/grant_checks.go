package courses

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// HasModeratorGrant reports whether actorIRI, on another server, holds a
// live moderator grant in the course: such a grantee may remove posts of
// the course's discussion as a local moderator does. Read it in the
// transaction of the removal, so a revocation committed before is seen.
func (s *Store) HasModeratorGrant(ctx context.Context, q Querier, courseID int64, actorIRI string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM course_grants WHERE course_id = $1 AND grantee_iri = $2
		AND state = 'granted' AND role = 'moderator')`, courseID, actorIRI).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("moderator grant of %s in course %d: %w", actorIRI, courseID, err)
	}
	return ok, nil
}

// PendingInvitations counts the invitations user userID has not answered
// yet (the header links to them when there are any).
func (s *Store) PendingInvitations(ctx context.Context, q Querier, userID int64) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM received_invitations WHERE user_id = $1 AND state = 'pending'`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pending invitations of user %d: %w", userID, err)
	}
	return n, nil
}

// GrantIn returns the invitation through which user userID holds a role in
// the remote course courseIRI, as the course last told it (state granted:
// the course's Add arrived and no Remove since). ErrNotFound when the user
// holds none. This only decides which controls the user's own instance
// shows: the course checks the grant itself on every change.
func (s *Store) GrantIn(ctx context.Context, q Querier, userID int64, courseIRI string) (Invitation, error) {
	v, err := scanInvitation(q.QueryRow(ctx, `SELECT `+invitationColumns+` FROM received_invitations
		WHERE user_id = $1 AND course_iri = $2 AND state = 'granted' ORDER BY id DESC LIMIT 1`, userID, courseIRI))
	if errors.Is(err, pgx.ErrNoRows) {
		return Invitation{}, fmt.Errorf("grant of user %d in %s: %w", userID, courseIRI, ErrNotFound)
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("grant of user %d in %s: %w", userID, courseIRI, err)
	}
	return v, nil
}

// RemoteEditsIn lists the changes user userID sent to the remote course
// courseIRI, newest first, at most limit.
func (s *Store) RemoteEditsIn(ctx context.Context, q Querier, userID int64, courseIRI string, limit int) ([]RemoteEdit, error) {
	rows, err := q.Query(ctx, `SELECT `+remoteEditColumns+` FROM remote_edits WHERE user_id = $1 AND course_iri = $2
		ORDER BY id DESC LIMIT $3`, userID, courseIRI, limit)
	if err != nil {
		return nil, fmt.Errorf("remote edits of user %d in %s: %w", userID, courseIRI, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RemoteEdit, error) { return scanRemoteEdit(r) })
}
