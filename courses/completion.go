package courses

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Course completion.
//
// A course is complete for a learner who marked every live module done
// (module progress, progress.go) and whose completion a facilitator (the
// owner or a moderator) approved. Achievements marked OnCompletion are
// awarded when a completion is recorded (outbox.Actions.CompleteCourse).
// CompletionReady is the rule's one place: a self-paced course that needs
// no approval would call CompleteCourse when the last module is marked
// done.

// ErrNotReady means the learner has not met the course's completion rule:
// not an accepted member, or modules left to do.
var ErrNotReady = errors.New("has not finished the course: every module must be marked done")

// CompletionReady reports whether learner meets the course's completion
// rule apart from the facilitator's approval: an accepted member who has
// marked every live module done (a course without modules asks only for
// the approval).
func (s *Store) CompletionReady(ctx context.Context, q Querier, c Course, learner string) (bool, error) {
	m, err := s.MemberOf(ctx, q, c.ID, learner)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if m.State != StateAccepted {
		return false, nil
	}
	p, err := s.ProgressOf(ctx, q, c.ID, learner)
	if err != nil {
		return false, err
	}
	return p.Done == p.Total, nil
}

// ApproveCompletion records that by, a facilitator (ErrForbidden
// otherwise), approved learner's completion of c; the learner must meet
// CompletionReady (ErrNotReady otherwise). fresh is false when it was
// recorded before.
func (s *Store) ApproveCompletion(ctx context.Context, tx pgx.Tx, c Course, learner, by string) (fresh bool, err error) {
	if ok, err := canModerate(ctx, tx, c.ID, by); err != nil || !ok {
		return false, forbidden(err, "approve completion of", c.Slug, by)
	}
	ready, err := s.CompletionReady(ctx, tx, c, learner)
	if err != nil {
		return false, err
	}
	if !ready {
		return false, fmt.Errorf("completion of %s by %s: %w", c.Slug, learner, ErrNotReady)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO course_completions (course_id, learner_iri, approved_by) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, c.ID, learner, by)
	if err != nil {
		return false, fmt.Errorf("record completion of %s by %s: %w", c.Slug, learner, err)
	}
	return tag.RowsAffected() == 1, nil
}

// CompletionAchievements lists the achievements c awards on completion.
func (s *Store) CompletionAchievements(ctx context.Context, q Querier, courseID int64) ([]Achievement, error) {
	rows, err := q.Query(ctx, `SELECT `+achievementColumns+` FROM achievements WHERE course_id = $1 AND on_completion ORDER BY id`, courseID)
	if err != nil {
		return nil, fmt.Errorf("completion achievements of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Achievement, error) { return scanAchievement(r) })
}

// PrepareCompletionAward reserves an award of a completion achievement for
// learner, whose completion is recorded (ErrForbidden otherwise). A
// learner holding it already gets ErrAlreadyAwarded.
func (s *Store) PrepareCompletionAward(ctx context.Context, tx pgx.Tx, a Achievement, learner string) (AwardSlot, error) {
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM course_completions WHERE course_id = $1 AND learner_iri = $2)`,
		a.CourseID, learner).Scan(&done); err != nil {
		return AwardSlot{}, err
	}
	if !done || !a.OnCompletion {
		return AwardSlot{}, forbidden(nil, "award on completion", a.Name, learner)
	}
	return s.prepareAward(ctx, tx, a, learner)
}

// PrepareRequestAward reserves an award for an approved badge request.
func (s *Store) PrepareRequestAward(ctx context.Context, tx pgx.Tx, a Achievement, r BadgeRequest) (AwardSlot, error) {
	return s.prepareAward(ctx, tx, a, r.RequesterIRI)
}
