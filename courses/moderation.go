package courses

import (
	"context"
	"fmt"
)

// MayModerate is the moderation rule: the instance's admins may moderate
// every local course; otherwise only its owner and moderators (actorIRI is
// u's actor IRI).
func (s *Store) MayModerate(ctx context.Context, q Querier, u User, actorIRI string, courseID int64) (bool, error) {
	if u.IsAdmin {
		return true, nil
	}
	return canModerate(ctx, q, courseID, actorIRI)
}

// BlockMember removes actorIRI from course courseID and keeps it out,
// without checking who asks: the caller applied MayModerate. The owner
// cannot be blocked (ErrForbidden).
func BlockMember(ctx context.Context, q Querier, courseID int64, actorIRI string) error {
	tag, err := q.Exec(ctx, `
		INSERT INTO course_members (course_id, actor_iri, state, via) VALUES ($1, $2, 'blocked', 'follow')
		ON CONFLICT (course_id, actor_iri) DO UPDATE SET state = 'blocked' WHERE course_members.role <> 'owner'`, courseID, actorIRI)
	if err != nil {
		return fmt.Errorf("block %s: %w", actorIRI, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("block the owner %s: %w", actorIRI, ErrForbidden)
	}
	return nil
}

// CourseByID returns the local course id, read in q, or ErrNotFound.
func (s *Store) CourseByID(ctx context.Context, q Querier, id int64) (Course, error) {
	c, err := scanCourse(q.QueryRow(ctx, `SELECT `+courseColumns+` FROM courses WHERE id = $1`, id))
	if err != nil {
		return Course{}, fmt.Errorf("course %d: %w", id, notFound(err))
	}
	return c, nil
}
