package outbox

import (
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// queueCohostTargets queues on b the query of the inboxes of the instances
// co-hosting a course, for a fan-out to everyone (via empty), whose rows go
// to out when b runs: the course's own document and syllabus changes, its
// lessons and top-level posts keep their mirrors current. Replies and edits
// (via "join") are not theirs.
func queueCohostTargets(b *pgx.Batch, courseID int64, via string, out *[]string) {
	if via != "" {
		return
	}
	courses.QueueCohostInboxes(b, courseID, out)
}
