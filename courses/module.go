package courses

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Module is one lesson of a local course, written in Markdown.
type Module struct {
	ID        int64
	CourseID  int64
	Position  int
	Title     string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AddModule appends a lesson to a course; only its owner and moderators
// may.
func (s *Store) AddModule(ctx context.Context, tx pgx.Tx, courseID int64, author, title, body string) (Module, error) {
	title = strings.TrimSpace(title)
	if title == "" || utf8.RuneCountInString(title) > 200 {
		return Module{}, &ValidationError{Field: "title", Message: "give a title of at most 200 characters"}
	}
	if len(body) > MaxPostLen {
		return Module{}, &ValidationError{Field: "body", Message: fmt.Sprintf("the lesson is longer than %d bytes", MaxPostLen)}
	}
	if ok, err := canModerate(ctx, tx, courseID, author); err != nil || !ok {
		return Module{}, forbidden(err, "add a module to course", fmt.Sprint(courseID), author)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM courses WHERE id = $1 FOR UPDATE`, courseID); err != nil {
		return Module{}, err
	}
	var m Module
	err := tx.QueryRow(ctx, `
		INSERT INTO modules (course_id, position, title, body)
		VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM modules WHERE course_id = $1), $2, $3)
		RETURNING id, course_id, position, title, body, created_at, updated_at`, courseID, title, body).
		Scan(&m.ID, &m.CourseID, &m.Position, &m.Title, &m.Body, &m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return Module{}, fmt.Errorf("add module: %w", err)
	}
	if err := s.courseChanged(ctx, tx, courseID); err != nil {
		return Module{}, err
	}
	return m, nil
}

// Modules lists a course's modules in order.
func (s *Store) Modules(ctx context.Context, q Querier, courseID int64) ([]Module, error) {
	rows, err := q.Query(ctx, `SELECT id, course_id, position, title, body, created_at, updated_at
		FROM modules WHERE course_id = $1 ORDER BY position`, courseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Module, error) {
		var m Module
		err := r.Scan(&m.ID, &m.CourseID, &m.Position, &m.Title, &m.Body, &m.CreatedAt, &m.UpdatedAt)
		return m, err
	})
}
