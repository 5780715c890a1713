package courses

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Module is one module of a local course's syllabus in its current state.
// Position is a sort key among the course's modules; Number is the module's
// place (from 1) among the live ones, 0 for a retired module. Revision is
// the number of its latest revision.
type Module struct {
	ID       int64
	CourseID int64
	Position int
	Number   int
	ModuleDraft
	Retired   bool
	Revision  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ErrRetired means the module was retired and can no longer be changed.
var ErrRetired = errors.New("the module was retired")

const moduleColumns = `id, course_id, position, title, summary, body, estimated_minutes, links, attachments,
	retired, revision, created_at, updated_at`

func scanModule(row pgx.Row) (Module, error) {
	var m Module
	err := row.Scan(&m.ID, &m.CourseID, &m.Position, &m.Title, &m.Summary, &m.Body, &m.EstimatedMinutes,
		&m.Links, &m.Attachments, &m.Retired, &m.Revision, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

// CanAuthor is the authorship rule: the owner and the moderators of a
// course may add, edit, reorder and retire its modules, and so may anyone
// on another server holding a live grant (author or moderator, grant.go).
func (s *Store) CanAuthor(ctx context.Context, q Querier, courseID int64, actorIRI string) (bool, error) {
	ok, err := canModerate(ctx, q, courseID, actorIRI)
	if err != nil || ok {
		return ok, err
	}
	return hasGrant(ctx, q, courseID, actorIRI)
}

func (s *Store) requireAuthor(ctx context.Context, q Querier, courseID int64, author Author, what string) error {
	ok, err := s.CanAuthor(ctx, q, courseID, author.IRI)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !ok {
		return fmt.Errorf("%s by %s: %w", what, author.IRI, ErrForbidden)
	}
	return nil
}

// AddModule appends a module to the end of a course's syllabus as its
// revision 1, credited to author. It returns *ValidationError for a bad
// draft and ErrForbidden when author may not write the course.
func (s *Store) AddModule(ctx context.Context, tx pgx.Tx, courseID int64, author Author, d ModuleDraft) (Module, error) {
	d.normalize()
	if err := d.validate(); err != nil {
		return Module{}, fmt.Errorf("add module: %w", err)
	}
	if err := s.requireAuthor(ctx, tx, courseID, author, "add a module"); err != nil {
		return Module{}, err
	}
	// Serialises appends, so two authors adding at once get distinct places.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM courses WHERE id = $1 FOR UPDATE`, courseID); err != nil {
		return Module{}, fmt.Errorf("add module: %w", err)
	}
	m, err := scanModule(tx.QueryRow(ctx, `
		INSERT INTO modules (course_id, position, title, summary, body, estimated_minutes, links, attachments, revision)
		VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM modules WHERE course_id = $1), $2, $3, $4, $5, $6, $7, 1)
		RETURNING `+moduleColumns, courseID, d.Title, d.Summary, d.Body, d.EstimatedMinutes, d.Links, d.Attachments))
	if err != nil {
		return Module{}, fmt.Errorf("add module: %w", err)
	}
	if err := insertRevision(ctx, tx, m, author, 0, "created"); err != nil {
		return Module{}, err
	}
	if err := s.courseChanged(ctx, tx, courseID); err != nil {
		return Module{}, err
	}
	return s.numbered(ctx, tx, m)
}

// EditModule replaces the content of a module as a new revision by author.
// base is the revision the edit was made from (0: the current one); when
// the module's text has changed since base, the edit is refused with a
// *ConflictError naming the current revision (errors.Is ErrConflict), and
// nothing changes: record the refused text with RecordConflict. An edit
// that changes nothing is not a revision: the module is returned as it is.
func (s *Store) EditModule(ctx context.Context, tx pgx.Tx, moduleID int64, author Author, base int, d ModuleDraft) (Module, error) {
	d.normalize()
	if err := d.validate(); err != nil {
		return Module{}, fmt.Errorf("edit module %d: %w", moduleID, err)
	}
	cur, err := s.lockModule(ctx, tx, moduleID, author, "edit module")
	if err != nil {
		return Module{}, err
	}
	if err := s.checkBase(ctx, tx, cur, base); err != nil {
		return Module{}, err
	}
	if cur.ModuleDraft.Equal(d) {
		return s.numbered(ctx, tx, cur)
	}
	return s.saveRevision(ctx, tx, cur, d, cur.Position, false, author, base, "edited "+cur.ModuleDraft.Changes(d))
}

// RestoreRevision makes the content of an earlier revision the module's
// content again, as a new revision (nothing is rewritten). base is checked
// as for EditModule. Restoring what is already the content changes nothing.
func (s *Store) RestoreRevision(ctx context.Context, tx pgx.Tx, moduleID int64, author Author, number, base int) (Module, error) {
	cur, err := s.lockModule(ctx, tx, moduleID, author, "restore module")
	if err != nil {
		return Module{}, err
	}
	if err := s.checkBase(ctx, tx, cur, base); err != nil {
		return Module{}, err
	}
	old, err := s.Revision(ctx, tx, moduleID, number)
	if err != nil {
		return Module{}, err
	}
	if old.ModuleDraft.Equal(cur.ModuleDraft) {
		return s.numbered(ctx, tx, cur) // already the current content
	}
	return s.saveRevision(ctx, tx, cur, old.ModuleDraft, cur.Position, false, author, base, fmt.Sprintf("restored revision %d", number))
}

// RetireModule takes a module out of the syllabus, as a last revision. Its
// history stays readable; it can no longer be edited.
func (s *Store) RetireModule(ctx context.Context, tx pgx.Tx, moduleID int64, author Author) (Module, error) {
	cur, err := s.lockModule(ctx, tx, moduleID, author, "retire module")
	if err != nil {
		return Module{}, err
	}
	return s.saveRevision(ctx, tx, cur, cur.ModuleDraft, cur.Position, true, author, cur.Revision, "retired")
}

// MoveModule swaps a live module with its live neighbour before (delta -1)
// or after (delta +1) it, recording a revision of each. It returns the
// modules that moved, or none when the module is already at that end.
func (s *Store) MoveModule(ctx context.Context, tx pgx.Tx, moduleID int64, author Author, delta int) ([]Module, error) {
	if delta != -1 && delta != 1 {
		return nil, &ValidationError{Field: "direction", Message: "move a module up or down by one place"}
	}
	cur, err := s.lockModule(ctx, tx, moduleID, author, "move module")
	if err != nil {
		return nil, err
	}
	order, cmp := "DESC", "<"
	if delta > 0 {
		order, cmp = "ASC", ">"
	}
	other, err := scanModule(tx.QueryRow(ctx, `SELECT `+moduleColumns+` FROM modules
		WHERE course_id = $1 AND NOT retired AND position `+cmp+` $2 ORDER BY position `+order+` LIMIT 1 FOR UPDATE`,
		cur.CourseID, cur.Position))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("move module %d: %w", moduleID, err)
	}
	a, err := s.saveRevision(ctx, tx, cur, cur.ModuleDraft, other.Position, false, author, cur.Revision, "moved")
	if err != nil {
		return nil, err
	}
	b, err := s.saveRevision(ctx, tx, other, other.ModuleDraft, cur.Position, false, author, other.Revision, "moved")
	if err != nil {
		return nil, err
	}
	// Numbers were computed before both rows moved.
	if a, err = s.numbered(ctx, tx, a); err != nil {
		return nil, err
	}
	if b, err = s.numbered(ctx, tx, b); err != nil {
		return nil, err
	}
	return []Module{a, b}, nil
}

// lockModule loads a live module for change and checks that author may
// change it.
func (s *Store) lockModule(ctx context.Context, tx pgx.Tx, moduleID int64, author Author, what string) (Module, error) {
	cur, err := scanModule(tx.QueryRow(ctx, `SELECT `+moduleColumns+` FROM modules WHERE id = $1 FOR UPDATE`, moduleID))
	if err != nil {
		return Module{}, fmt.Errorf("%s %d: %w", what, moduleID, notFound(err))
	}
	if err := s.requireAuthor(ctx, tx, cur.CourseID, author, fmt.Sprintf("%s %d", what, moduleID)); err != nil {
		return Module{}, err
	}
	if cur.Retired {
		return Module{}, fmt.Errorf("%s %d: %w", what, moduleID, ErrRetired)
	}
	return cur, nil
}

// saveRevision stores d as the module's next revision and its new state.
func (s *Store) saveRevision(ctx context.Context, tx pgx.Tx, cur Module, d ModuleDraft, position int, retired bool, author Author, base int, change string) (Module, error) {
	m, err := scanModule(tx.QueryRow(ctx, `
		UPDATE modules SET title = $2, summary = $3, body = $4, estimated_minutes = $5, links = $6, attachments = $7,
			position = $8, retired = $9, revision = revision + 1, updated_at = now()
		WHERE id = $1 RETURNING `+moduleColumns,
		cur.ID, d.Title, d.Summary, d.Body, d.EstimatedMinutes, d.Links, d.Attachments, position, retired))
	if err != nil {
		return Module{}, fmt.Errorf("save module %d: %w", cur.ID, err)
	}
	if base == 0 {
		base = cur.Revision
	}
	if err := insertRevision(ctx, tx, m, author, base, change); err != nil {
		return Module{}, err
	}
	// Every edit, restore, retirement and move is a revision: the course's
	// documents and pages show it.
	if err := s.courseChanged(ctx, tx, m.CourseID); err != nil {
		return Module{}, err
	}
	return s.numbered(ctx, tx, m)
}

func insertRevision(ctx context.Context, tx pgx.Tx, m Module, author Author, base int, change string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO module_revisions (module_id, number, title, summary, body, estimated_minutes, links, attachments,
			position, retired, author_iri, author_name, author_server, base, change, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		m.ID, m.Revision, m.Title, m.Summary, m.Body, m.EstimatedMinutes, m.Links, m.Attachments,
		m.Position, m.Retired, author.IRI, author.Name, author.server(), base, change, m.UpdatedAt)
	if err != nil {
		return fmt.Errorf("record revision %d of module %d: %w", m.Revision, m.ID, err)
	}
	return nil
}

// numbered fills in m.Number: its place among the live modules.
func (s *Store) numbered(ctx context.Context, q Querier, m Module) (Module, error) {
	m.Number = 0
	if m.Retired {
		return m, nil
	}
	err := q.QueryRow(ctx, `SELECT count(*) FROM modules WHERE course_id = $1 AND NOT retired AND position <= $2`,
		m.CourseID, m.Position).Scan(&m.Number)
	if err != nil {
		return Module{}, fmt.Errorf("number of module %d: %w", m.ID, err)
	}
	return m, nil
}

// Modules lists a course's live modules in syllabus order, numbered.
func (s *Store) Modules(ctx context.Context, q Querier, courseID int64) ([]Module, error) {
	return s.modules(ctx, q, courseID, false)
}

// AllModules lists every module of a course, retired ones included, in
// syllabus order; live ones are numbered.
func (s *Store) AllModules(ctx context.Context, q Querier, courseID int64) ([]Module, error) {
	return s.modules(ctx, q, courseID, true)
}

func (s *Store) modules(ctx context.Context, q Querier, courseID int64, retired bool) ([]Module, error) {
	rows, err := q.Query(ctx, `SELECT `+moduleColumns+` FROM modules WHERE course_id = $1 AND ($2 OR NOT retired)
		ORDER BY position`, courseID, retired)
	if err != nil {
		return nil, fmt.Errorf("modules of course %d: %w", courseID, err)
	}
	mods, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Module, error) { return scanModule(r) })
	if err != nil {
		return nil, fmt.Errorf("modules of course %d: %w", courseID, err)
	}
	n := 0
	for i := range mods {
		if !mods[i].Retired {
			n++
			mods[i].Number = n
		}
	}
	return mods, nil
}

// ModuleOf returns module id of course courseID, retired or not, or
// ErrNotFound (also when it belongs to another course).
func (s *Store) ModuleOf(ctx context.Context, q Querier, courseID, id int64) (Module, error) {
	m, err := scanModule(q.QueryRow(ctx, `SELECT `+moduleColumns+` FROM modules WHERE id = $1 AND course_id = $2`, id, courseID))
	if err != nil {
		return Module{}, fmt.Errorf("module %d of course %d: %w", id, courseID, notFound(err))
	}
	return s.numbered(ctx, q, m)
}

// ModuleAuthors returns everyone who wrote a revision of the module, in
// the order of their first revision.
func (s *Store) ModuleAuthors(ctx context.Context, q Querier, moduleID int64) ([]Author, error) {
	rows, err := q.Query(ctx, `SELECT author_iri, author_name, author_server FROM (
			SELECT DISTINCT ON (author_iri) author_iri, author_name, author_server, number
			FROM module_revisions WHERE module_id = $1 AND author_iri <> '' ORDER BY author_iri, number) a
		ORDER BY number`, moduleID)
	if err != nil {
		return nil, fmt.Errorf("authors of module %d: %w", moduleID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Author, error) {
		var a Author
		err := r.Scan(&a.IRI, &a.Name, &a.Server)
		return a, err
	})
}
