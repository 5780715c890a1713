package courses

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// MaxReplies is how many replies a post's replies collection lists.
const MaxReplies = 500

// Replies returns the IRIs of the live replies to the post iri that this
// instance stores (written here or received), oldest first, at most
// MaxReplies, and how many there are in all.
func (s *Store) Replies(ctx context.Context, q Querier, iri string) ([]string, int, error) {
	rows, err := q.Query(ctx, `SELECT iri, count(*) OVER () FROM posts WHERE in_reply_to = $1 AND NOT deleted
		ORDER BY published, seq LIMIT $2`, iri, MaxReplies)
	if err != nil {
		return nil, 0, fmt.Errorf("replies to %s: %w", iri, err)
	}
	var total int
	iris, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var s string
		return s, r.Scan(&s, &total)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("replies to %s: %w", iri, err)
	}
	return iris, total, nil
}
