package courses

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/internal/plaintext"
)

// States of a co-hosted course: the instance actor's Follow is pending
// until the course accepts it.
const (
	CohostPending  = "pending"
	CohostAccepted = "accepted"
	CohostRejected = "rejected"
)

// CohostedCourse is a course of another server that this instance
// co-hosts, as mirrored here: what its origin last said about it. Summary
// is sanitised HTML.
type CohostedCourse struct {
	IRI, Inbox, Handle, Name, Summary, Language, Licence string
	Tags                                                 []string
	FollowID, State, AddedBy                             string
	AddedAt                                              time.Time
	RefreshedAt                                          *time.Time
	RefreshError                                         string
}

// Host is the server the course lives on (its origin's host[:port]).
func (c CohostedCourse) Host() string {
	h := strings.TrimPrefix(strings.TrimPrefix(c.IRI, "https://"), "http://")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}

// CohostedModule is one mirrored module of a co-hosted course; Content is
// sanitised HTML.
type CohostedModule struct {
	IRI, CourseIRI          string
	Position, Revision      int
	Title, Summary, Content string
	Updated                 time.Time
}

// ErrAlreadyCohosted means the course is already in this instance's
// catalogue.
var ErrAlreadyCohosted = errors.New("this course is already co-hosted here")

const cohostColumns = `course_iri, inbox, handle, name, summary, language, licence, tags, follow_id, state,
	added_by, added_at, refreshed_at, refresh_error`

func scanCohosted(row pgx.Row) (CohostedCourse, error) {
	var c CohostedCourse
	err := row.Scan(&c.IRI, &c.Inbox, &c.Handle, &c.Name, &c.Summary, &c.Language, &c.Licence, &c.Tags,
		&c.FollowID, &c.State, &c.AddedBy, &c.AddedAt, &c.RefreshedAt, &c.RefreshError)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// AddCohosted records a new co-hosted course (pending its Accept); a course
// already co-hosted is ErrAlreadyCohosted.
func (s *Store) AddCohosted(ctx context.Context, q Querier, c CohostedCourse) error {
	tag, err := q.Exec(ctx, `INSERT INTO cohosted_courses (course_iri, inbox, handle, name, summary, language, licence, tags,
		follow_id, state, added_by, refreshed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, now())
		ON CONFLICT (course_iri) DO NOTHING`,
		c.IRI, c.Inbox, c.Handle, c.Name, s.Content().Sanitize(c.Summary), c.Language, c.Licence, nonNil(c.Tags), c.FollowID, c.AddedBy)
	if err != nil {
		return fmt.Errorf("co-host %s: %w", c.IRI, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("co-host %s: %w", c.IRI, ErrAlreadyCohosted)
	}
	return s.Changed(ctx, q, CataloguesScope)
}

// UpdateCohosted replaces the mirrored description of a co-hosted course
// (what its origin now serves) and clears the refresh error. A course not
// co-hosted is ErrNotFound.
func (s *Store) UpdateCohosted(ctx context.Context, q Querier, c CohostedCourse) error {
	tag, err := q.Exec(ctx, `UPDATE cohosted_courses SET handle = $2, name = $3, summary = $4, language = $5,
		licence = $6, tags = $7, inbox = CASE WHEN $8 = '' THEN inbox ELSE $8 END, refreshed_at = now(), refresh_error = ''
		WHERE course_iri = $1`,
		c.IRI, c.Handle, c.Name, s.Content().Sanitize(c.Summary), c.Language, c.Licence, nonNil(c.Tags), c.Inbox)
	if err != nil {
		return fmt.Errorf("update mirror of %s: %w", c.IRI, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update mirror of %s: %w", c.IRI, ErrNotFound)
	}
	return s.Changed(ctx, q, CataloguesScope)
}

// CohostRefreshFailed records why the last refetch of a co-hosted course
// failed; the mirror itself stays as it was.
func (s *Store) CohostRefreshFailed(ctx context.Context, q Querier, iri, reason string) error {
	reason = plaintext.Storable(reason, 500) // it may quote the peer
	_, err := q.Exec(ctx, `UPDATE cohosted_courses SET refresh_error = $2 WHERE course_iri = $1`, iri, reason)
	return err
}

// SetCohostState records the course's answer (CohostAccepted or
// CohostRejected) to the Follow followID sent by courseIRI's co-host; it
// reports false when no co-hosted course of courseIRI has that Follow.
func (s *Store) SetCohostState(ctx context.Context, q Querier, courseIRI, followID, state string) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE cohosted_courses SET state = $3 WHERE course_iri = $1 AND follow_id = $2`, courseIRI, followID, state)
	if err != nil {
		return false, fmt.Errorf("answer to co-host follow %s: %w", followID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, s.Changed(ctx, q, CataloguesScope)
}

// RemoveCohosted takes a course out of the catalogue with its mirror and
// returns what was removed (ErrNotFound if it was not co-hosted).
func (s *Store) RemoveCohosted(ctx context.Context, q Querier, iri string) (CohostedCourse, error) {
	c, err := scanCohosted(q.QueryRow(ctx, `DELETE FROM cohosted_courses WHERE course_iri = $1 RETURNING `+cohostColumns, iri))
	if err != nil {
		return c, fmt.Errorf("stop co-hosting %s: %w", iri, err)
	}
	return c, s.Changed(ctx, q, CataloguesScope)
}

// Cohosted returns the co-hosted course iri, or ErrNotFound.
func (s *Store) Cohosted(ctx context.Context, q Querier, iri string) (CohostedCourse, error) {
	return scanCohosted(q.QueryRow(ctx, `SELECT `+cohostColumns+` FROM cohosted_courses WHERE course_iri = $1`, iri))
}

// CohostedCourses lists the co-hosted courses, the least recently
// refreshed first, at most limit.
func (s *Store) CohostedCourses(ctx context.Context, q Querier, limit int) ([]CohostedCourse, error) {
	rows, err := q.Query(ctx, `SELECT `+cohostColumns+` FROM cohosted_courses
		ORDER BY refreshed_at NULLS FIRST, course_iri LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("co-hosted courses: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CohostedCourse, error) { return scanCohosted(r) })
}

// ReplaceCohostModules makes the mirrored syllabus of a co-hosted course
// exactly mods (what its origin serves now). Content is sanitised here.
func (s *Store) ReplaceCohostModules(ctx context.Context, q Querier, courseIRI string, mods []CohostedModule) error {
	keep := make([]string, 0, len(mods))
	for _, m := range mods {
		m.CourseIRI = courseIRI
		if err := s.SaveCohostModule(ctx, q, m); err != nil {
			return err
		}
		keep = append(keep, m.IRI)
	}
	if _, err := q.Exec(ctx, `DELETE FROM cohosted_modules WHERE course_iri = $1 AND NOT module_iri = ANY($2)`, courseIRI, keep); err != nil {
		return fmt.Errorf("mirror syllabus of %s: %w", courseIRI, err)
	}
	return nil
}

// SaveCohostModule stores one mirrored module, or replaces the stored one
// unless that is newer (a higher revision, or the same revision updated
// later): a delayed retry of an older Update changes nothing.
func (s *Store) SaveCohostModule(ctx context.Context, q Querier, m CohostedModule) error {
	_, err := s.SaveCohostModuleWithin(ctx, q, m, 0)
	return err
}

// SaveCohostModuleWithin is SaveCohostModule for a course's own Create or
// Update: a module not yet mirrored is stored only while the course has
// fewer than max (0: no bound) mirrored modules. It reports whether the
// module was stored (false: an older revision, or the syllabus is full).
func (s *Store) SaveCohostModuleWithin(ctx context.Context, q Querier, m CohostedModule, max int) (bool, error) {
	if m.Updated.IsZero() {
		m.Updated = time.Now()
	}
	tag, err := q.Exec(ctx, `INSERT INTO cohosted_modules (module_iri, course_iri, position, revision, title, summary, content, updated)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8
		WHERE $9 = 0 OR EXISTS (SELECT 1 FROM cohosted_modules WHERE module_iri = $1)
			OR (SELECT count(*) FROM cohosted_modules WHERE course_iri = $2) < $9
		ON CONFLICT (module_iri) DO UPDATE SET position = EXCLUDED.position, revision = EXCLUDED.revision,
			title = EXCLUDED.title, summary = EXCLUDED.summary, content = EXCLUDED.content, updated = EXCLUDED.updated
		WHERE cohosted_modules.course_iri = EXCLUDED.course_iri
			AND (EXCLUDED.revision, EXCLUDED.updated) >= (cohosted_modules.revision, cohosted_modules.updated)`,
		m.IRI, m.CourseIRI, m.Position, m.Revision, m.Title, m.Summary, s.Content().Sanitize(m.Content), m.Updated, max)
	if err != nil {
		return false, fmt.Errorf("mirror module %s: %w", m.IRI, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteCohostModule drops a mirrored module of courseIRI.
func (s *Store) DeleteCohostModule(ctx context.Context, q Querier, courseIRI, iri string) error {
	_, err := q.Exec(ctx, `DELETE FROM cohosted_modules WHERE course_iri = $1 AND module_iri = $2`, courseIRI, iri)
	if err != nil {
		return fmt.Errorf("drop mirrored module %s: %w", iri, err)
	}
	return nil
}

// CohostModules returns the mirrored syllabus of a co-hosted course, in
// order.
func (s *Store) CohostModules(ctx context.Context, q Querier, courseIRI string) ([]CohostedModule, error) {
	rows, err := q.Query(ctx, `SELECT module_iri, course_iri, position, revision, title, summary, content, updated
		FROM cohosted_modules WHERE course_iri = $1 ORDER BY position, module_iri`, courseIRI)
	if err != nil {
		return nil, fmt.Errorf("mirrored syllabus of %s: %w", courseIRI, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CohostedModule, error) {
		var m CohostedModule
		return m, r.Scan(&m.IRI, &m.CourseIRI, &m.Position, &m.Revision, &m.Title, &m.Summary, &m.Content, &m.Updated)
	})
}

// RecordRelay notes that the course announced local post postIRI back:
// it reached the course. It reports whether this was new.
func RecordRelay(ctx context.Context, q Querier, postIRI, announceID string) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO post_relays (post_iri, announce_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, postIRI, announceID)
	if err != nil {
		return false, fmt.Errorf("relay of %s: %w", postIRI, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RelayedPosts returns which of iris the course has announced back.
func RelayedPosts(ctx context.Context, q Querier, iris []string) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT post_iri FROM post_relays WHERE post_iri = ANY($1)`, iris)
	if err != nil {
		return nil, fmt.Errorf("relayed posts: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := make(map[string]bool, len(got))
	for _, iri := range got {
		out[iri] = true
	}
	return out, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
