package courses

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// MemberInboxes returns the distinct inboxes that reach every accepted remote
// member of a local course, preferring each server's shared inbox, so that a
// post to ten thousand learners on a hundred servers is a hundred deliveries.
// It runs in q (a transaction or the pool).
func MemberInboxes(ctx context.Context, q Querier, courseID int64) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END
		FROM course_members
		WHERE course_id = $1 AND state = 'accepted' AND user_id IS NULL
		  AND (shared_inbox <> '' OR inbox <> '')`, courseID)
	if err != nil {
		return nil, fmt.Errorf("member inboxes of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
