package outbox

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// queueCohostTargets queues on b the query of the inboxes of the instances
// co-hosting a course, for a fan-out to everyone (via empty), whose rows go
// to out when b runs: the course's own document and syllabus changes, its
// lessons and top-level posts keep their mirrors current. Replies and edits
// (via "join") are not theirs. The statement is courses.CohostInboxes',
// queued beside the members' so that a fan-out asks for both in one round
// trip (TestCohostTargetsAsCourses keeps the two the same).
func queueCohostTargets(b *pgx.Batch, courseID int64, via string, out *[]string) {
	if via != "" {
		return
	}
	b.Queue(`SELECT DISTINCT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END
		FROM course_cohosts WHERE course_id = $1 AND (shared_inbox <> '' OR inbox <> '')`, courseID).Query(func(rows pgx.Rows) error {
		var err error
		if *out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("co-host inboxes of course %d: %w", courseID, err)
		}
		return nil
	})
}
