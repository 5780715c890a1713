package courses

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// NormalizeTag returns a hashtag's name as courses store it (lower case,
// without "#"), with ok false when it is not a name a tag may have
// (letters, digits, _ and -).
func NormalizeTag(name string) (string, bool) {
	t := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "#"))
	return t, t != "" && slugPattern.MatchString(strings.ReplaceAll(t, "-", "_"))
}

// CoursesTagged lists the local courses carrying tag (a normalized name),
// newest first, at most limit.
func (s *Store) CoursesTagged(ctx context.Context, q Querier, tag string, limit int) ([]Course, error) {
	rows, err := q.Query(ctx, `SELECT `+courseColumns+` FROM courses WHERE $1 = ANY(tags) ORDER BY created_at DESC LIMIT $2`, tag, limit)
	if err != nil {
		return nil, fmt.Errorf("courses tagged %s: %w", tag, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Course, error) { return scanCourse(r) })
}
