package courses

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrTombstoned means an object or activity was deleted or undone before:
// a Create, Follow or Join of that id arriving now is a late retry and is
// refused, whatever order the two were delivered in.
var ErrTombstoned = errors.New("deleted or undone before")

// Tombstone records that actorIRI deleted the object, or undid the activity,
// iri. Recording it again changes nothing. Tombstones are never pruned.
func (s *Store) Tombstone(ctx context.Context, q Querier, iri, actorIRI string) error {
	if _, err := q.Exec(ctx, `INSERT INTO tombstones (iri, actor_iri) VALUES ($1, $2) ON CONFLICT (iri) DO NOTHING`, iri, actorIRI); err != nil {
		return fmt.Errorf("tombstone %s: %w", iri, err)
	}
	return nil
}

// Tombstoned returns ErrTombstoned (wrapped, naming who) when iri has a
// tombstone, nil when it has none.
func (s *Store) Tombstoned(ctx context.Context, q Querier, iri string) error {
	var by string
	err := q.QueryRow(ctx, `SELECT actor_iri FROM tombstones WHERE iri = $1`, iri).Scan(&by)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("tombstone of %s: %w", iri, err)
	}
	return fmt.Errorf("%s by %s: %w", iri, by, ErrTombstoned)
}

// RecordDeparture remembers that actorIRI left course courseID with an
// activity sent at leftAt, so that a Join sent before it and delivered after
// it does not enroll them again. early says the Leave found no membership
// to end, so the Join it undoes has not arrived yet. A later departure
// replaces an earlier one.
func (s *Store) RecordDeparture(ctx context.Context, q Querier, courseID int64, actorIRI string, leftAt time.Time, early bool) error {
	_, err := q.Exec(ctx, `INSERT INTO course_departures (course_id, actor_iri, left_at, early) VALUES ($1, $2, $3, $4)
		ON CONFLICT (course_id, actor_iri) DO UPDATE SET left_at = greatest(course_departures.left_at, excluded.left_at),
			early = excluded.early`,
		courseID, actorIRI, leftAt, early)
	if err != nil {
		return fmt.Errorf("record departure of %s: %w", actorIRI, err)
	}
	return nil
}

// StaleRequest returns ErrTombstoned when a Join (or Follow) of actorIRI
// to course courseID is older than the actor's last Leave: it was sent
// before the Leave (sentAt, when the request says) or, when it carries no
// time, it is the first request after a Leave that came early. An early
// Leave is used up by the request it refuses.
func (s *Store) StaleRequest(ctx context.Context, q Querier, courseID int64, actorIRI string, sentAt time.Time) error {
	var leftAt time.Time
	var early bool
	err := q.QueryRow(ctx, `SELECT left_at, early FROM course_departures WHERE course_id = $1 AND actor_iri = $2`, courseID, actorIRI).Scan(&leftAt, &early)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("departure of %s: %w", actorIRI, err)
	case !sentAt.IsZero() && !sentAt.After(leftAt):
		return fmt.Errorf("request of %s sent %s, before its Leave of %s: %w", actorIRI,
			sentAt.UTC().Format(time.RFC3339), leftAt.UTC().Format(time.RFC3339), ErrTombstoned)
	case sentAt.IsZero() && early:
		if _, err := q.Exec(ctx, `UPDATE course_departures SET early = false WHERE course_id = $1 AND actor_iri = $2`, courseID, actorIRI); err != nil {
			return fmt.Errorf("departure of %s: %w", actorIRI, err)
		}
		return fmt.Errorf("request of %s after a Leave that came first: %w", actorIRI, ErrTombstoned)
	}
	return nil
}
