package outbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// RequestBadge records u's request, with evidence, for achievement ach of c.
func (a *Actions) RequestBadge(ctx context.Context, u courses.User, c courses.Course, ach courses.Achievement, evidence string) (courses.BadgeRequest, error) {
	if ach.CourseID != c.ID {
		return courses.BadgeRequest{}, fmt.Errorf("achievement %s: %w", ach.PublicID, courses.ErrNotFound)
	}
	return a.Courses.RequestBadge(ctx, a.Pool, ach, a.userIRI(u), evidence)
}

// ReviewBadgeRequest records u's review of a request of course c. A
// facilitator's review decides; peers' reviews decide once the achievement's
// number of approvals is reached. An approval awards the badge in the same
// transaction, with the request's evidence; award is nil otherwise.
func (a *Actions) ReviewBadgeRequest(ctx context.Context, u courses.User, c courses.Course, requestID int64, approve bool, comment string) (courses.Verdict, *courses.Award, error) {
	req, err := a.Courses.BadgeRequestByID(ctx, a.Pool, requestID)
	if err != nil {
		return courses.VerdictPending, nil, err
	}
	ach, err := a.Courses.AchievementByID(ctx, a.Pool, req.AchievementID)
	if err != nil || ach.CourseID != c.ID {
		return courses.VerdictPending, nil, fmt.Errorf("badge request %d: %w", requestID, courses.ErrNotFound)
	}
	// Resolve the requester before the transaction: it may be remote.
	r, err := a.findRecipient(ctx, req.RequesterIRI)
	if err != nil {
		return courses.VerdictPending, nil, err
	}
	var verdict courses.Verdict
	var award *courses.Award
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		req, ach, v, err := a.Courses.ReviewBadgeRequest(ctx, tx, requestID, a.userIRI(u), approve, comment)
		if err != nil {
			return err
		}
		verdict = v
		switch v {
		case courses.VerdictReject:
			return a.Courses.DecideBadgeRequest(ctx, tx, requestID, courses.RequestRejected, a.userIRI(u), 0)
		case courses.VerdictApprove:
			slot, err := a.Courses.PrepareRequestAward(ctx, tx, ach, req)
			if err != nil {
				return err
			}
			aw, err := a.issue(ctx, tx, c, ach, r, slot, req.Evidence, a.userIRI(u))
			if err != nil {
				return err
			}
			award = &aw
			return a.Courses.DecideBadgeRequest(ctx, tx, requestID, courses.RequestApproved, a.userIRI(u), aw.ID)
		}
		return nil
	})
	return verdict, award, err
}

// CompleteCourse records that u, a facilitator of c, approved learner's
// completion, and awards every achievement of c marked OnCompletion that
// the learner does not hold yet, in one transaction. This is the hook for
// module progress (see courses/completion.go): call it when the rule is met.
func (a *Actions) CompleteCourse(ctx context.Context, u courses.User, c courses.Course, learner string) ([]courses.Award, error) {
	r, err := a.findRecipient(ctx, learner)
	if err != nil {
		return nil, err
	}
	var awards []courses.Award
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if _, err := a.Courses.ApproveCompletion(ctx, tx, c, r.IRI, a.userIRI(u)); err != nil {
			return err
		}
		achs, err := a.Courses.CompletionAchievements(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		for _, ach := range achs {
			slot, err := a.Courses.PrepareCompletionAward(ctx, tx, ach, r.IRI)
			if errors.Is(err, courses.ErrAlreadyAwarded) {
				continue
			}
			if err != nil {
				return err
			}
			aw, err := a.issue(ctx, tx, c, ach, r, slot, "Completed the course "+c.Title+".", a.userIRI(u))
			if err != nil {
				return err
			}
			awards = append(awards, aw)
		}
		return nil
	})
	return awards, err
}
