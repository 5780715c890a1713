package courses

import (
	"context"
	"fmt"
	"strings"
)

// Kinds of handle. Users and courses share one namespace of handles.
const (
	HandleUser   = "user"
	HandleCourse = "course"
)

// HandleKind returns what the handle name belongs to, HandleUser or
// HandleCourse, or ErrNotFound. The name is matched case-insensitively.
func (s *Store) HandleKind(ctx context.Context, name string) (string, error) {
	var kind string
	err := s.pool.QueryRow(ctx, `SELECT kind FROM handles WHERE name = $1`, strings.ToLower(name)).Scan(&kind)
	if err != nil {
		return "", fmt.Errorf("handle %q: %w", name, notFound(err))
	}
	return kind, nil
}
