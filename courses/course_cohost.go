package courses

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cohost is an instance co-hosting a local course: its instance actor
// follows the course, which delivers to it what it sends to everyone. A
// co-host is not a member: it counts in no roster and cannot post.
type Cohost struct {
	CourseID              int64
	InstanceIRI, Inbox    string
	SharedInbox, FollowID string
	AcceptedAt            time.Time
}

// AddCohost records that instanceIRI's Follow followID of the course was
// accepted (a repeated Follow replaces the first).
func (s *Store) AddCohost(ctx context.Context, q Querier, c Cohost) error {
	_, err := q.Exec(ctx, `INSERT INTO course_cohosts (course_id, instance_iri, inbox, shared_inbox, follow_id)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (course_id, instance_iri) DO UPDATE SET inbox = EXCLUDED.inbox,
			shared_inbox = EXCLUDED.shared_inbox, follow_id = EXCLUDED.follow_id`,
		c.CourseID, c.InstanceIRI, c.Inbox, c.SharedInbox, c.FollowID)
	if err != nil {
		return fmt.Errorf("co-host %s of course %d: %w", c.InstanceIRI, c.CourseID, err)
	}
	return s.Changed(ctx, q, CourseScope(c.CourseID), CataloguesScope)
}

// RemoveCohostFollow ends the co-hosting that instanceIRI's Follow
// followID started, and reports whether there was one.
func (s *Store) RemoveCohostFollow(ctx context.Context, q Querier, instanceIRI, followID string) (bool, error) {
	var courseID int64
	err := q.QueryRow(ctx, `DELETE FROM course_cohosts WHERE instance_iri = $1 AND follow_id = $2 RETURNING course_id`,
		instanceIRI, followID).Scan(&courseID)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("end co-hosting by %s: %w", instanceIRI, err)
	}
	return true, s.Changed(ctx, q, CourseScope(courseID), CataloguesScope)
}

// CohostsOf lists the instances co-hosting a local course, oldest first.
func (s *Store) CohostsOf(ctx context.Context, q Querier, courseID int64) ([]Cohost, error) {
	rows, err := q.Query(ctx, `SELECT course_id, instance_iri, inbox, shared_inbox, follow_id, accepted_at
		FROM course_cohosts WHERE course_id = $1 ORDER BY accepted_at, instance_iri LIMIT 1000`, courseID)
	if err != nil {
		return nil, fmt.Errorf("co-hosts of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Cohost, error) {
		var c Cohost
		return c, r.Scan(&c.CourseID, &c.InstanceIRI, &c.Inbox, &c.SharedInbox, &c.FollowID, &c.AcceptedAt)
	})
}

// CohostInboxes returns the inboxes that reach the co-hosts of a local
// course (a shared inbox when the instance has one).
func CohostInboxes(ctx context.Context, q Querier, courseID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END
		FROM course_cohosts WHERE course_id = $1 AND (shared_inbox <> '' OR inbox <> '')`, courseID)
	if err != nil {
		return nil, fmt.Errorf("co-host inboxes of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// GrantedAuthorsAndCohosts returns, in one query, what GrantedAuthors
// returns and the instance actors co-hosting the course (oldest first, at
// most 1000): the course document shows both.
func (s *Store) GrantedAuthorsAndCohosts(ctx context.Context, q Querier, courseID int64) (authors, cohosts []string, err error) {
	rows, err := q.Query(ctx, `
		(SELECT true, grantee_iri FROM course_grants WHERE course_id = $1 AND state = 'granted' ORDER BY granted_at, id LIMIT $2)
		UNION ALL
		(SELECT false, instance_iri FROM course_cohosts WHERE course_id = $1 ORDER BY accepted_at, instance_iri LIMIT 1000)`,
		courseID, MaxStaff)
	if err != nil {
		return nil, nil, fmt.Errorf("granted authors and co-hosts of course %d: %w", courseID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var granted bool
		var iri string
		if err := rows.Scan(&granted, &iri); err != nil {
			return nil, nil, fmt.Errorf("granted authors and co-hosts of course %d: %w", courseID, err)
		}
		if granted {
			authors = append(authors, iri)
		} else {
			cohosts = append(cohosts, iri)
		}
	}
	return authors, cohosts, rows.Err()
}
