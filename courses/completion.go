package courses

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Course completion.
//
// A course is complete for a learner when a facilitator (the owner or a
// moderator) approves it. This is the one completion rule until courses
// track module progress; then CompletionReady is the hook: make it also
// require every module done, and call outbox.Actions.CompleteCourse when
// the last module is marked done (the facilitator's approval can stay
// required, or be dropped for self-paced courses). Achievements marked
// OnCompletion are awarded when a completion is recorded.

// CompletionReady reports whether learner meets the course's completion
// rule apart from the facilitator's approval. Today every accepted member
// does: there is no module progress to require yet.
func (s *Store) CompletionReady(ctx context.Context, q Querier, c Course, learner string) (bool, error) {
	m, err := s.MemberOf(ctx, q, c.ID, learner)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return m.State == StateAccepted, nil
}

// ApproveCompletion records that by, a facilitator (ErrForbidden
// otherwise), approved learner's completion of c; the learner must meet
// CompletionReady (ErrNotMember otherwise). fresh is false when it was
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
		return false, fmt.Errorf("completion of %s by %s: %w", c.Slug, learner, ErrNotMember)
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
