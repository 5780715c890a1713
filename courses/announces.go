package courses

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RecordAnnounce remembers that the Announce announceID of course courseID
// boosted postIRI, so that the boost can be undone by its id later. It runs
// in q, the transaction that publishes the Announce.
func RecordAnnounce(ctx context.Context, q Querier, courseID int64, postIRI, announceID string) error {
	_, err := q.Exec(ctx, `INSERT INTO post_announces (announce_id, post_iri, course_id) VALUES ($1, $2, $3)
		ON CONFLICT (announce_id) DO NOTHING`, announceID, postIRI, courseID)
	if err != nil {
		return fmt.Errorf("record announce of %s: %w", postIRI, err)
	}
	return nil
}

// Announce is one boost of a post by a local course, for RecordAnnounces.
type Announce struct {
	AnnounceID string
	PostIRI    string
	CourseID   int64
}

// RecordAnnounces is RecordAnnounce for many boosts, in one statement. It
// fails only when the database does (a course that does not exist is one).
func RecordAnnounces(ctx context.Context, q Querier, as []Announce) error {
	if len(as) == 0 {
		return nil
	}
	ids, posts, courses := make([]string, len(as)), make([]string, len(as)), make([]int64, len(as))
	for i, a := range as {
		ids[i], posts[i], courses[i] = a.AnnounceID, a.PostIRI, a.CourseID
	}
	_, err := q.Exec(ctx, `INSERT INTO post_announces (announce_id, post_iri, course_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (announce_id) DO NOTHING`, ids, posts, courses)
	if err != nil {
		return fmt.Errorf("record %d announces: %w", len(as), err)
	}
	return nil
}

// TakeAnnounces marks the Announces of postIRI by course courseID undone
// and returns their ids: each is returned once, however often it is called,
// so each boost is undone once.
func TakeAnnounces(ctx context.Context, q Querier, courseID int64, postIRI string) ([]string, error) {
	rows, err := q.Query(ctx, `UPDATE post_announces SET undone_at = now()
		WHERE post_iri = $1 AND course_id = $2 AND undone_at IS NULL RETURNING announce_id`, postIRI, courseID)
	if err != nil {
		return nil, fmt.Errorf("announces of %s: %w", postIRI, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
