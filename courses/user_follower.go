package courses

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// UserFollower is a remote actor following a local user.
type UserFollower struct {
	UserID      int64
	ActorIRI    string
	Inbox       string
	SharedInbox string
	RequestID   string // the Follow that asked, which the Accept names
	FollowedAt  time.Time
}

const userFollowerColumns = `user_id, actor_iri, inbox, shared_inbox, request_id, followed_at`

func scanUserFollower(row pgx.Row) (UserFollower, error) {
	var f UserFollower
	err := row.Scan(&f.UserID, &f.ActorIRI, &f.Inbox, &f.SharedInbox, &f.RequestID, &f.FollowedAt)
	return f, err
}

// FollowUser records that f.ActorIRI follows local user u (a Follow of
// /users/NAME). Following again is harmless: it refreshes the inboxes and
// the request id, keeping the original date (and so the follower's place in
// the followers pages). It fails only when the database does.
func (s *Store) FollowUser(ctx context.Context, q Querier, u User, f UserFollower) (UserFollower, error) {
	saved, err := scanUserFollower(q.QueryRow(ctx, `
		INSERT INTO user_followers (user_id, actor_iri, inbox, shared_inbox, request_id)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, actor_iri) DO UPDATE SET inbox = $3, shared_inbox = $4, request_id = $5
		RETURNING `+userFollowerColumns, u.ID, f.ActorIRI, f.Inbox, f.SharedInbox, f.RequestID))
	if err != nil {
		return UserFollower{}, fmt.Errorf("%s follows %s: %w", f.ActorIRI, u.Username, err)
	}
	return saved, s.Changed(ctx, q, UserScope(u.Username))
}

// UnfollowUser ends actorIRI's follow of a local user, named either by the
// Follow's id (requestID, as an Undo names it) or, when userID is not 0, by
// the user. It returns the username that lost a follower, or ErrNotFound
// when there was no such follow.
func (s *Store) UnfollowUser(ctx context.Context, q Querier, actorIRI, requestID string, userID int64) (string, error) {
	var name string
	err := q.QueryRow(ctx, `
		WITH gone AS (
			DELETE FROM user_followers WHERE actor_iri = $1 AND ((request_id = $2 AND $2 <> '') OR user_id = $3)
			RETURNING user_id)
		SELECT u.username FROM gone JOIN users u ON u.id = gone.user_id LIMIT 1`, actorIRI, requestID, userID).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("unfollow by %s: %w", actorIRI, notFound(err))
	}
	return name, s.Changed(ctx, q, UserScope(name))
}

// UserFollowerCount counts the followers of a local user.
func (s *Store) UserFollowerCount(ctx context.Context, q Querier, userID int64) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM user_followers WHERE user_id = $1`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("followers of user %d: %w", userID, err)
	}
	return n, nil
}

// UserFollowersPage returns up to limit followers of a local user after the
// cursor (from the start when after is nil), in the order they followed,
// and the cursor of the next page (nil on the last). Like AcceptedPage it
// reads by keyset, so every page costs the same.
func (s *Store) UserFollowersPage(ctx context.Context, q Querier, userID int64, after *MemberCursor, limit int) ([]UserFollower, *MemberCursor, error) {
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = q.Query(ctx, `SELECT `+userFollowerColumns+` FROM user_followers
			WHERE user_id = $1 ORDER BY followed_at, actor_iri LIMIT $2`, userID, limit+1)
	} else {
		rows, err = q.Query(ctx, `SELECT `+userFollowerColumns+` FROM user_followers
			WHERE user_id = $1 AND (followed_at, actor_iri) > ($2, $3)
			ORDER BY followed_at, actor_iri LIMIT $4`, userID, after.JoinedAt, after.ActorIRI, limit+1)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("followers of user %d: %w", userID, err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UserFollower, error) { return scanUserFollower(r) })
	if err != nil {
		return nil, nil, fmt.Errorf("followers of user %d: %w", userID, err)
	}
	if len(fs) <= limit {
		return fs, nil, nil
	}
	fs = fs[:limit]
	last := fs[limit-1]
	return fs, &MemberCursor{JoinedAt: last.FollowedAt, ActorIRI: last.ActorIRI}, nil
}

// RemoveDomainFollowers ends every follow of a local user by an actor on a
// host the block entry covers (HostCovered), and returns how many ended.
func (s *Store) RemoveDomainFollowers(ctx context.Context, q Querier, blocked string) (int, error) {
	name, _, _ := strings.Cut(blocked, ":")
	rows, err := q.Query(ctx, `SELECT f.actor_iri, u.username FROM user_followers f JOIN users u ON u.id = f.user_id
		WHERE lower(f.actor_iri) LIKE '%' || $1 || '%'`, name)
	if err != nil {
		return 0, fmt.Errorf("followers on %s: %w", blocked, err)
	}
	type row struct{ Actor, User string }
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return 0, fmt.Errorf("followers on %s: %w", blocked, err)
	}
	var scopes []Scope
	n := 0
	for _, f := range all {
		u, err := url.Parse(f.Actor)
		if err != nil || !HostCovered(blocked, strings.ToLower(u.Host)) {
			continue
		}
		if _, err := q.Exec(ctx, `DELETE FROM user_followers WHERE actor_iri = $1`, f.Actor); err != nil {
			return 0, fmt.Errorf("remove follower %s: %w", f.Actor, err)
		}
		scopes = append(scopes, UserScope(f.User))
		n++
	}
	return n, s.Changed(ctx, q, scopes...)
}

// removeGoneFollower ends the follows of local users by the actor whose IRI
// or personal inbox is iriOrInbox, and returns the users who lost one.
func (s *Store) removeGoneFollower(ctx context.Context, q Querier, iriOrInbox string) ([]string, error) {
	rows, err := q.Query(ctx, `DELETE FROM user_followers f USING users u
		WHERE (f.actor_iri = $1 OR f.inbox = $1) AND u.id = f.user_id RETURNING u.username`, iriOrInbox)
	if err != nil {
		return nil, fmt.Errorf("remove gone follower %s: %w", iriOrInbox, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("remove gone follower %s: %w", iriOrInbox, err)
	}
	return users, nil
}
