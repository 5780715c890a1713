package outbox

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// cohostTargets returns the inboxes of the instances co-hosting a course,
// for a fan-out to everyone (via empty): the course's own document and
// syllabus changes, its lessons and top-level posts keep their mirrors
// current. Replies and edits (via "join") are not theirs.
func cohostTargets(ctx context.Context, tx pgx.Tx, courseID int64, via string) ([]string, error) {
	if via != "" {
		return nil, nil
	}
	return courses.CohostInboxes(ctx, tx, courseID)
}
