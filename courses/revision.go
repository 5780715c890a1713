package courses

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Author is who made a revision: an actor IRI (a local user today, a
// co-author on another server once grants exist), the name shown, and the
// server it wrote from (scheme://host, derived from the IRI when empty).
type Author struct {
	IRI    string `json:"iri"`
	Name   string `json:"name,omitempty"`
	Server string `json:"server,omitempty"`
}

// server is the origin of the author's IRI: a claimed Server that
// disagrees with the IRI is not believed.
func (a Author) server() string {
	if u, err := url.Parse(a.IRI); err == nil && u.Host != "" {
		return strings.ToLower(u.Scheme + "://" + u.Host)
	}
	return a.Server
}

// Revision is one state a module went through: its content and place, who
// made it, from which server and when, the revision it was based on, and
// what changed ("created", "edited title, body", "restored revision 2",
// "moved", "retired").
type Revision struct {
	ModuleID int64
	Number   int
	ModuleDraft
	Position  int
	Retired   bool
	Author    Author
	Base      int
	Change    string
	CreatedAt time.Time
}

// ConflictError is an edit refused because the module's text changed
// since the revision the edit was based on. Current names the revision the
// author must merge with. It matches ErrConflict with errors.Is.
type ConflictError struct {
	ModuleID int64
	Base     int
	Current  int
}

// Error says which revision the edit was based on and which is current.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("module %d: the edit is based on revision %d, but the module is at revision %d; merge with revision %d and try again",
		e.ModuleID, e.Base, e.Current, e.Current)
}

// Is makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// EditConflicts is the rule every edit of a module passes, whether it comes
// from a page on this instance or (later) from a co-author's server: an
// edit based on revision base conflicts with the current revision when
// they differ and the module's content has changed in between. Revisions
// that only moved the module (reordering) do not conflict with a text edit.
func EditConflicts(base, current Revision) bool {
	return base.Number != current.Number && !base.ModuleDraft.Equal(current.ModuleDraft)
}

// checkBase applies EditConflicts to an edit of cur based on revision
// base (0: the current revision).
func (s *Store) checkBase(ctx context.Context, q Querier, cur Module, base int) error {
	if base == 0 || base == cur.Revision {
		return nil
	}
	if base < 0 || base > cur.Revision {
		return &ValidationError{Field: "base", Message: fmt.Sprintf("module %d has no revision %d (it is at revision %d)", cur.ID, base, cur.Revision)}
	}
	b, err := s.Revision(ctx, q, cur.ID, base)
	if err != nil {
		return err
	}
	current := Revision{Number: cur.Revision, ModuleDraft: cur.ModuleDraft}
	if EditConflicts(b, current) {
		return &ConflictError{ModuleID: cur.ID, Base: base, Current: cur.Revision}
	}
	return nil
}

const revisionColumns = `module_id, number, title, summary, body, estimated_minutes, links, attachments, position, retired,
	author_iri, author_name, author_server, base, change, created_at`

func scanRevision(row pgx.Row) (Revision, error) {
	var r Revision
	err := row.Scan(&r.ModuleID, &r.Number, &r.Title, &r.Summary, &r.Body, &r.EstimatedMinutes, &r.Links, &r.Attachments,
		&r.Position, &r.Retired, &r.Author.IRI, &r.Author.Name, &r.Author.Server, &r.Base, &r.Change, &r.CreatedAt)
	return r, err
}

// Revisions lists a module's revisions, oldest first.
func (s *Store) Revisions(ctx context.Context, q Querier, moduleID int64) ([]Revision, error) {
	rows, err := q.Query(ctx, `SELECT `+revisionColumns+` FROM module_revisions WHERE module_id = $1 ORDER BY number`, moduleID)
	if err != nil {
		return nil, fmt.Errorf("revisions of module %d: %w", moduleID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Revision, error) { return scanRevision(r) })
}

// Revision returns revision number of a module, or ErrNotFound.
func (s *Store) Revision(ctx context.Context, q Querier, moduleID int64, number int) (Revision, error) {
	r, err := scanRevision(q.QueryRow(ctx, `SELECT `+revisionColumns+` FROM module_revisions WHERE module_id = $1 AND number = $2`, moduleID, number))
	if err != nil {
		return Revision{}, fmt.Errorf("revision %d of module %d: %w", number, moduleID, notFound(err))
	}
	return r, nil
}

// RefusedEdit is an edit refused by the conflict rule, kept so that the
// author can merge it: nothing anyone writes is lost without a trace.
type RefusedEdit struct {
	ID        int64
	ModuleID  int64
	AuthorIRI string
	Base      int
	Current   int
	Title     string
	Summary   string
	Body      string
	CreatedAt time.Time
}

// RecordConflict keeps the text of an edit that EditModule refused with
// *ConflictError; call it outside the refused edit's transaction (which
// rolls back). Other errors are not recorded and returned as they are.
func (s *Store) RecordConflict(ctx context.Context, q Querier, authorIRI string, d ModuleDraft, refusal error) (RefusedEdit, error) {
	var ce *ConflictError
	if !errors.As(refusal, &ce) {
		return RefusedEdit{}, refusal
	}
	e := RefusedEdit{ModuleID: ce.ModuleID, AuthorIRI: authorIRI, Base: ce.Base, Current: ce.Current, Title: d.Title, Summary: d.Summary, Body: d.Body}
	err := q.QueryRow(ctx, `INSERT INTO module_conflicts (module_id, author_iri, base, current, title, summary, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
		e.ModuleID, e.AuthorIRI, e.Base, e.Current, e.Title, e.Summary, e.Body).Scan(&e.ID, &e.CreatedAt)
	if err != nil {
		return RefusedEdit{}, fmt.Errorf("record refused edit of module %d: %w", ce.ModuleID, err)
	}
	return e, nil
}

// RefusedEdits lists the refused edits of a module by authorIRI, newest
// first.
func (s *Store) RefusedEdits(ctx context.Context, q Querier, moduleID int64, authorIRI string) ([]RefusedEdit, error) {
	rows, err := q.Query(ctx, `SELECT id, module_id, author_iri, base, current, title, summary, body, created_at
		FROM module_conflicts WHERE module_id = $1 AND author_iri = $2 ORDER BY id DESC`, moduleID, authorIRI)
	if err != nil {
		return nil, fmt.Errorf("refused edits of module %d: %w", moduleID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RefusedEdit, error) {
		var e RefusedEdit
		err := r.Scan(&e.ID, &e.ModuleID, &e.AuthorIRI, &e.Base, &e.Current, &e.Title, &e.Summary, &e.Body, &e.CreatedAt)
		return e, err
	})
}
