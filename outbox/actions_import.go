package outbox

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// ImportCourse creates a course owned by u from a checked archive
// (courses.ReadArchive), under slug (the archive's when empty), with the
// keys of its Group actor, crediting the archive's origin and authors.
// Nothing is sent: the new course has no followers yet. Either all of it
// is stored or, on any error (ErrTaken for a slug in use), none of it.
func (a *Actions) ImportCourse(ctx context.Context, u courses.User, archive *courses.Archive, slug string) (courses.Course, error) {
	var c courses.Course
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if c, err = a.Courses.ImportCourse(ctx, tx, u, a.userIRI(u), archive, slug); err != nil {
			return err
		}
		_, err = a.Keys.Create(ctx, tx, c.Slug)
		return err
	})
	return c, err
}
