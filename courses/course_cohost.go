package courses

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
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

// ErrCohostTaken means another actor of the same host already co-hosts the
// course: a server co-hosts a course once, through one instance actor.
var ErrCohostTaken = errors.New("another actor of this host already co-hosts the course")

// AddCohost records that instanceIRI's Follow followID of the course was
// accepted (a repeated Follow of the same actor replaces the first). When
// another actor of instanceIRI's host (host[:port], any case) co-hosts the
// course already, nothing is recorded and the error is ErrCohostTaken.
func (s *Store) AddCohost(ctx context.Context, q Querier, c Cohost) error {
	tag, err := q.Exec(ctx, `INSERT INTO course_cohosts (course_id, instance_iri, inbox, shared_inbox, follow_id)
		SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM course_cohosts
			WHERE course_id = $1 AND instance_iri <> $2 AND lower(split_part(instance_iri, '/', 3)) = lower(split_part($2, '/', 3)))
		ON CONFLICT (course_id, instance_iri) DO UPDATE SET inbox = EXCLUDED.inbox,
			shared_inbox = EXCLUDED.shared_inbox, follow_id = EXCLUDED.follow_id`,
		c.CourseID, c.InstanceIRI, c.Inbox, c.SharedInbox, c.FollowID)
	if err != nil {
		return fmt.Errorf("co-host %s of course %d: %w", c.InstanceIRI, c.CourseID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("co-host %s of course %d: %w", c.InstanceIRI, c.CourseID, ErrCohostTaken)
	}
	return s.Changed(ctx, q, CourseScope(c.CourseID), CataloguesScope)
}

// RemoveCohost ends instanceIRI's co-hosting of a local course (a course
// block of that actor), reporting whether there was one.
func (s *Store) RemoveCohost(ctx context.Context, q Querier, courseID int64, instanceIRI string) (bool, error) {
	tag, err := q.Exec(ctx, `DELETE FROM course_cohosts WHERE course_id = $1 AND instance_iri = $2`, courseID, instanceIRI)
	if err != nil {
		return false, fmt.Errorf("end co-hosting by %s of course %d: %w", instanceIRI, courseID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, s.Changed(ctx, q, CourseScope(courseID), CataloguesScope)
}

// removeCohostsWhere deletes the co-host rows cond (an SQL condition on
// $1) selects and marks their courses changed; it returns how many went.
func (s *Store) removeCohostsWhere(ctx context.Context, q Querier, cond string, arg any) (int, error) {
	rows, err := q.Query(ctx, `DELETE FROM course_cohosts WHERE `+cond+` RETURNING course_id`, arg)
	if err != nil {
		return 0, fmt.Errorf("end co-hosting: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("end co-hosting: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	scopes := []Scope{CataloguesScope}
	seen := map[int64]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			scopes = append(scopes, CourseScope(id))
		}
	}
	return len(ids), s.Changed(ctx, q, scopes...)
}

// RemoveDomainCohosts ends the co-hosting of every local course by actors
// on a host the block entry covers (HostCovered's rule); it returns how
// many co-hostings it ended.
func (s *Store) RemoveDomainCohosts(ctx context.Context, q Querier, blocked string) (int, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT instance_iri FROM course_cohosts`)
	if err != nil {
		return 0, fmt.Errorf("co-hosts of %s: %w", blocked, err)
	}
	iris, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("co-hosts of %s: %w", blocked, err)
	}
	var gone []string
	for _, iri := range iris {
		if u, err := url.Parse(iri); err == nil && HostCovered(blocked, strings.ToLower(u.Host)) {
			gone = append(gone, iri)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	return s.removeCohostsWhere(ctx, q, `instance_iri = ANY($1)`, gone)
}

// removeGoneCohosts ends the co-hosting by an actor that was deleted or
// whose inbox (or shared inbox) answered 410 Gone.
func (s *Store) removeGoneCohosts(ctx context.Context, q Querier, iriOrInbox string) (int, error) {
	return s.removeCohostsWhere(ctx, q, `instance_iri = $1 OR inbox = $1 OR shared_inbox = $1`, iriOrInbox)
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
	rows, err := q.Query(ctx, cohostInboxes, courseID)
	if err != nil {
		return nil, fmt.Errorf("co-host inboxes of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

const cohostInboxes = `SELECT DISTINCT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END
	FROM course_cohosts WHERE course_id = $1 AND (shared_inbox <> '' OR inbox <> '')`

// QueueCohostInboxes queues on b the query of CohostInboxes, whose rows go
// to out when b runs, so that a fan-out asks for them beside its members
// in one round trip.
func QueueCohostInboxes(b *pgx.Batch, courseID int64, out *[]string) {
	b.Queue(cohostInboxes, courseID).Query(func(rows pgx.Rows) error {
		var err error
		if *out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("co-host inboxes of course %d: %w", courseID, err)
		}
		return nil
	})
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
