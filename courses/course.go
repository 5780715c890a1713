package courses

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Course is a course hosted on this instance. It is a Group actor named by
// its Slug, a handle shared with users.
type Course struct {
	ID               int64
	Slug             string
	OwnerID          int64
	Title            string
	Summary          string // Markdown
	Language         string
	Licence          string
	Tags             []string
	ManuallyApproves bool // follows wait for a moderator
	OpenDiscussion   bool // anyone may post, not only members
	Version          int  // bumped by every edit, for conflict detection
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// CourseDraft is the editable part of a course.
type CourseDraft struct {
	Slug             string
	Title            string
	Summary          string
	Language         string
	Licence          string
	Tags             []string
	ManuallyApproves bool
	OpenDiscussion   bool
}

// Licences are the licences a course may carry (SPDX ids).
var Licences = []string{"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"}

// ErrForbidden means the actor may not do what it asked.
var ErrForbidden = errors.New("not allowed")

// ErrConflict means an edit was based on an outdated version.
var ErrConflict = errors.New("edit conflicts with a newer version")

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9_][a-z0-9_-]{0,62}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)
)

const courseColumns = `id, slug, owner_id, title, summary, language, licence, tags,
	manually_approves, open_discussion, version, created_at, updated_at`

func scanCourse(row pgx.Row) (Course, error) {
	var c Course
	err := row.Scan(&c.ID, &c.Slug, &c.OwnerID, &c.Title, &c.Summary, &c.Language, &c.Licence, &c.Tags,
		&c.ManuallyApproves, &c.OpenDiscussion, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

func (d *CourseDraft) normalize() {
	d.Slug = strings.ToLower(strings.TrimSpace(d.Slug))
	d.Title = strings.TrimSpace(d.Title)
	d.Language = strings.TrimSpace(d.Language)
	if d.Language == "" {
		d.Language = "en"
	}
	if d.Licence == "" {
		d.Licence = "CC-BY-SA-4.0"
	}
	tags := []string{}
	seen := map[string]bool{}
	for _, t := range d.Tags {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#"))
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	d.Tags = tags
}

func (d CourseDraft) validate() error {
	switch {
	case !slugPattern.MatchString(d.Slug):
		return &ValidationError{Field: "slug", Message: "use 1–63 lower-case letters, digits, _ or -"}
	case IsReservedName(d.Slug):
		return &ValidationError{Field: "slug", Message: "this name is reserved"}
	case d.Title == "" || utf8.RuneCountInString(d.Title) > 200:
		return &ValidationError{Field: "title", Message: "give a title of at most 200 characters"}
	case utf8.RuneCountInString(d.Summary) > 20000:
		return &ValidationError{Field: "summary", Message: "the summary is longer than 20,000 characters"}
	case !languagePattern.MatchString(d.Language):
		return &ValidationError{Field: "language", Message: "use a language tag such as en or pt-BR"}
	case !validLicence(d.Licence):
		return &ValidationError{Field: "licence", Message: "choose one of " + strings.Join(Licences, ", ")}
	case len(d.Tags) > 20:
		return &ValidationError{Field: "tags", Message: "at most 20 tags"}
	}
	for _, t := range d.Tags {
		if !slugPattern.MatchString(strings.ReplaceAll(t, "-", "_")) {
			return &ValidationError{Field: "tags", Message: fmt.Sprintf("tag %q may hold only letters, digits, _ and -", t)}
		}
	}
	return nil
}

func validLicence(l string) bool {
	for _, x := range Licences {
		if x == l {
			return true
		}
	}
	return false
}

// CreateCourse validates d and stores the course inside tx: its handle
// (kind 'course'), the course, and the owner's membership with role owner.
// ownerIRI is the owner's actor IRI. It returns *ValidationError or
// ErrTaken when the handle is in use by a user or a course.
func (s *Store) CreateCourse(ctx context.Context, tx pgx.Tx, owner User, ownerIRI string, d CourseDraft) (Course, error) {
	d.normalize()
	if err := d.validate(); err != nil {
		return Course{}, fmt.Errorf("create course %q: %w", d.Slug, err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO handles (name, kind) VALUES ($1, 'course') ON CONFLICT (name) DO NOTHING`, d.Slug)
	if err != nil {
		return Course{}, fmt.Errorf("create course %q: %w", d.Slug, err)
	}
	if tag.RowsAffected() == 0 {
		return Course{}, fmt.Errorf("create course %q: %w", d.Slug, ErrTaken)
	}
	c, err := scanCourse(tx.QueryRow(ctx, `
		INSERT INTO courses (slug, owner_id, title, summary, language, licence, tags, manually_approves, open_discussion)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+courseColumns,
		d.Slug, owner.ID, d.Title, d.Summary, d.Language, d.Licence, d.Tags, d.ManuallyApproves, d.OpenDiscussion))
	if err != nil {
		return Course{}, fmt.Errorf("create course %q: %w", d.Slug, err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO course_members (course_id, actor_iri, user_id, name, handle, role, state, via)
		VALUES ($1, $2, $3, $4, $5, 'owner', 'accepted', 'local')`,
		c.ID, ownerIRI, owner.ID, owner.DisplayName, owner.Username)
	if err != nil {
		return Course{}, fmt.Errorf("create course %q: add owner: %w", d.Slug, err)
	}
	if err := s.courseChanged(ctx, tx, c.ID); err != nil {
		return Course{}, err
	}
	return c, nil
}

// CourseBySlug returns the local course slug, or ErrNotFound.
func (s *Store) CourseBySlug(ctx context.Context, slug string) (Course, error) {
	c, err := scanCourse(s.pool.QueryRow(ctx, `SELECT `+courseColumns+` FROM courses WHERE slug = $1`, strings.ToLower(slug)))
	if err != nil {
		return Course{}, fmt.Errorf("course %q: %w", slug, notFound(err))
	}
	return c, nil
}

// Courses lists the local courses, newest first.
func (s *Store) Courses(ctx context.Context, limit int) ([]Course, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+courseColumns+` FROM courses ORDER BY created_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Course, error) { return scanCourse(r) })
}

// UpdateCourse applies d to the course as editor (an actor IRI) inside tx.
// Only the owner and moderators may edit; the slug never changes. When
// baseVersion is not 0 and the course has moved past it, the edit is refused
// with ErrConflict instead of silently overwriting the other edit.
func (s *Store) UpdateCourse(ctx context.Context, tx pgx.Tx, courseID int64, editor string, baseVersion int, d CourseDraft) (Course, error) {
	cur, err := scanCourse(tx.QueryRow(ctx, `SELECT `+courseColumns+` FROM courses WHERE id = $1 FOR UPDATE`, courseID))
	if err != nil {
		return Course{}, fmt.Errorf("update course %d: %w", courseID, notFound(err))
	}
	if ok, err := canModerate(ctx, tx, courseID, editor); err != nil {
		return Course{}, err
	} else if !ok {
		return Course{}, fmt.Errorf("update course %s by %s: %w", cur.Slug, editor, ErrForbidden)
	}
	if baseVersion != 0 && baseVersion != cur.Version {
		return Course{}, fmt.Errorf("update course %s from version %d (now %d): %w", cur.Slug, baseVersion, cur.Version, ErrConflict)
	}
	d.Slug = cur.Slug
	d.normalize()
	if err := d.validate(); err != nil {
		return Course{}, fmt.Errorf("update course %s: %w", cur.Slug, err)
	}
	c, err := scanCourse(tx.QueryRow(ctx, `
		UPDATE courses SET title = $2, summary = $3, language = $4, licence = $5, tags = $6,
			manually_approves = $7, open_discussion = $8, version = version + 1, updated_at = now()
		WHERE id = $1 RETURNING `+courseColumns,
		courseID, d.Title, d.Summary, d.Language, d.Licence, d.Tags, d.ManuallyApproves, d.OpenDiscussion))
	if err != nil {
		return Course{}, fmt.Errorf("update course %s: %w", cur.Slug, err)
	}
	if err := s.courseChanged(ctx, tx, c.ID); err != nil {
		return Course{}, err
	}
	return c, nil
}

// Draft returns the editable part of c.
func (c Course) Draft() CourseDraft {
	return CourseDraft{Slug: c.Slug, Title: c.Title, Summary: c.Summary, Language: c.Language, Licence: c.Licence,
		Tags: c.Tags, ManuallyApproves: c.ManuallyApproves, OpenDiscussion: c.OpenDiscussion}
}

// CourseListing is a course as the catalogue lists it, with its count of
// accepted members.
type CourseListing struct {
	Course
	Members int
}

// CourseListings lists the local courses, newest first, each with its
// member count, in one query whatever the number of courses.
func (s *Store) CourseListings(ctx context.Context, limit int) ([]CourseListing, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+courseColumns+`,
		(SELECT count(*) FROM course_members m WHERE m.course_id = courses.id AND m.state = 'accepted')
		FROM courses ORDER BY created_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CourseListing, error) {
		var l CourseListing
		c := &l.Course
		err := r.Scan(&c.ID, &c.Slug, &c.OwnerID, &c.Title, &c.Summary, &c.Language, &c.Licence, &c.Tags,
			&c.ManuallyApproves, &c.OpenDiscussion, &c.Version, &c.CreatedAt, &c.UpdatedAt, &l.Members)
		return l, err
	})
}
