package courses

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RemoteActorChange is what a remote actor's own document, fetched afresh
// from its origin, says about it now.
type RemoteActorChange struct {
	IRI         string
	Name        string
	Handle      string // @name@host
	Inbox       string
	SharedInbox string
}

// RefreshRemoteActor copies a remote actor's current name, handle and
// inboxes onto its memberships of local courses and its follows of local
// users, so the next delivery goes where the actor now says. It returns how
// many rows changed; it fails only when the database does.
func (s *Store) RefreshRemoteActor(ctx context.Context, q Querier, a RemoteActorChange) (int, error) {
	rows, err := q.Query(ctx, `UPDATE course_members SET name = $2, handle = $3, inbox = $4, shared_inbox = $5
		WHERE actor_iri = $1 AND user_id IS NULL RETURNING course_id`, a.IRI, a.Name, a.Handle, a.Inbox, a.SharedInbox)
	if err != nil {
		return 0, fmt.Errorf("refresh %s: %w", a.IRI, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("refresh %s: %w", a.IRI, err)
	}
	rows, err = q.Query(ctx, `UPDATE user_followers f SET inbox = $2, shared_inbox = $3 FROM users u
		WHERE f.actor_iri = $1 AND u.id = f.user_id RETURNING u.username`, a.IRI, a.Inbox, a.SharedInbox)
	if err != nil {
		return 0, fmt.Errorf("refresh %s: %w", a.IRI, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("refresh %s: %w", a.IRI, err)
	}
	return len(ids) + len(users), s.Changed(ctx, q, actorScopes(ids, users)...)
}

// ForgetActor applies a remote actor's deletion of itself: it leaves every
// local course (owners excepted), stops following local users, and its
// posts are hidden (deleted, with tombstones, so no late copy brings them
// back). It returns the posts it hid, for their boosts to be undone.
func (s *Store) ForgetActor(ctx context.Context, q Querier, actorIRI string) ([]Post, error) {
	if _, err := s.RemoveGone(ctx, q, actorIRI); err != nil { // memberships and follows
		return nil, err
	}
	rows, err := q.Query(ctx, `UPDATE posts SET deleted = true, content = '', name = '', updated = now()
		WHERE author_iri = $1 AND NOT deleted AND NOT local RETURNING `+postColumns, actorIRI)
	if err != nil {
		return nil, fmt.Errorf("hide posts of %s: %w", actorIRI, err)
	}
	posts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Post, error) { return scanPost(r) })
	if err != nil {
		return nil, fmt.Errorf("hide posts of %s: %w", actorIRI, err)
	}
	for _, p := range posts {
		if err := s.Tombstone(ctx, q, p.IRI, actorIRI); err != nil {
			return nil, err
		}
		if err := s.postChanged(ctx, q, p); err != nil {
			return nil, err
		}
	}
	return posts, nil
}

// Move is a remote actor's move to another account.
type Move struct {
	ActorIRI   string
	MovedTo    string
	ActivityID string
	MovedAt    time.Time
}

// RecordMove records that actorIRI moved to movedTo (a Move whose target's
// own document lists actorIRI in alsoKnownAs; the caller checked that). A
// later Move replaces an earlier one. Memberships and follows stay as they
// are: followers follow the new account themselves.
func (s *Store) RecordMove(ctx context.Context, q Querier, m Move) error {
	if _, err := q.Exec(ctx, `INSERT INTO actor_moves (actor_iri, moved_to, activity_id) VALUES ($1, $2, $3)
		ON CONFLICT (actor_iri) DO UPDATE SET moved_to = $2, activity_id = $3, moved_at = now()`,
		m.ActorIRI, m.MovedTo, m.ActivityID); err != nil {
		return fmt.Errorf("record move of %s: %w", m.ActorIRI, err)
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT course_id FROM course_members WHERE actor_iri = $1`, m.ActorIRI)
	if err != nil {
		return fmt.Errorf("courses of %s: %w", m.ActorIRI, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("courses of %s: %w", m.ActorIRI, err)
	}
	return s.Changed(ctx, q, actorScopes(ids, nil)...)
}

// MoveOf returns where actorIRI moved to, or ErrNotFound.
func (s *Store) MoveOf(ctx context.Context, q Querier, actorIRI string) (Move, error) {
	var m Move
	err := q.QueryRow(ctx, `SELECT actor_iri, moved_to, activity_id, moved_at FROM actor_moves WHERE actor_iri = $1`, actorIRI).
		Scan(&m.ActorIRI, &m.MovedTo, &m.ActivityID, &m.MovedAt)
	if err != nil {
		return Move{}, fmt.Errorf("move of %s: %w", actorIRI, notFound(err))
	}
	return m, nil
}

// withMoves fills MovedTo of the members that moved, in one query.
func withMoves(ctx context.Context, q Querier, ms []Member) error {
	if len(ms) == 0 {
		return nil
	}
	iris := make([]string, len(ms))
	for i, m := range ms {
		iris[i] = m.ActorIRI
	}
	rows, err := q.Query(ctx, `SELECT actor_iri, moved_to FROM actor_moves WHERE actor_iri = ANY($1)`, iris)
	if err != nil {
		return fmt.Errorf("moves of members: %w", err)
	}
	type row struct{ Actor, To string }
	moves, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return fmt.Errorf("moves of members: %w", err)
	}
	to := make(map[string]string, len(moves))
	for _, m := range moves {
		to[m.Actor] = m.To
	}
	for i := range ms {
		ms[i].MovedTo = to[ms[i].ActorIRI]
	}
	return nil
}

// actorScopes are the scopes of local courses ids and users names.
func actorScopes(ids []int64, users []string) []Scope {
	var scopes []Scope
	seen := map[Scope]bool{}
	add := func(sc Scope) {
		if !seen[sc] {
			seen[sc] = true
			scopes = append(scopes, sc)
		}
	}
	for _, id := range ids {
		add(CourseScope(id))
	}
	if len(ids) > 0 {
		add(CataloguesScope)
	}
	for _, u := range users {
		add(UserScope(u))
	}
	return scopes
}
