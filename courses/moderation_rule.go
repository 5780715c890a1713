package courses

import (
	"context"
	"errors"
	"fmt"
)

// mayModerate is the rule over whom a moderator acts on: the owner is out
// of every moderator's reach, and a moderator is out of reach of everyone
// but the owner. It returns ErrForbidden when by may not block or remove
// target, nil otherwise (also when target is not a member yet).
func mayModerate(ctx context.Context, q Querier, courseID int64, target, by string) error {
	t, err := memberRole(ctx, q, courseID, target)
	if err != nil {
		return err
	}
	if t == RoleLearner || t == "" {
		return nil
	}
	b, err := memberRole(ctx, q, courseID, by)
	if err != nil {
		return err
	}
	if t == RoleOwner || b != RoleOwner {
		return fmt.Errorf("%s (a %s) may not act on %s (the %s): %w", by, b, target, t, ErrForbidden)
	}
	return nil
}

// memberRole is actorIRI's role in the course, "" when not a member.
func memberRole(ctx context.Context, q Querier, courseID int64, actorIRI string) (string, error) {
	var role string
	err := q.QueryRow(ctx, `SELECT role FROM course_members WHERE course_id = $1 AND actor_iri = $2`, courseID, actorIRI).Scan(&role)
	if errors.Is(notFound(err), ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("role of %s: %w", actorIRI, err)
	}
	return role, nil
}
