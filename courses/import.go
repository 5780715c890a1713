package courses

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Limits on a course archive.
const (
	MaxArchiveBytes      = 32 << 20 // uncompressed, all files together
	MaxArchiveEntryBytes = 8 << 20
	MaxArchiveModules    = 500
	MaxArchiveRevisions  = 1000 // per module
)

// ErrBadArchive means a course archive was refused; the wrapped message
// says why, precisely enough for the person who made it.
var ErrBadArchive = errors.New("invalid course archive")

// ErrNoDerivatives means the archive's licence forbids derivative works
// (a Creative Commons ND licence), so it may not be imported as a new
// course. It wraps ErrBadArchive.
var ErrNoDerivatives = fmt.Errorf("%w: the licence forbids derivatives", ErrBadArchive)

var moduleEntry = regexp.MustCompile(`^modules/([0-9]{4})\.json$`)

func badArchive(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadArchive, fmt.Sprintf(format, args...))
}

// ReadArchive reads and checks a course archive, changing nothing. It
// refuses, with ErrBadArchive and the reason: anything not a gzipped tar,
// more than MaxArchiveBytes, entries other than regular files named
// colearn-course.json and modules/NNNN.json (absolute paths, "..", links,
// duplicates), JSON of the wrong shape or types or with unknown fields,
// modules that are not numbered 0001… in order or whose revisions are not
// 1…n, text that is not UTF-8 or holds a NUL character (which PostgreSQL
// does not store), invalid content (the same rules as the web forms),
// Markdown with scripts, event handlers or javascript: links, and unknown
// licences.
// A licence that forbids derivatives gets ErrNoDerivatives.
func ReadArchive(r io.Reader) (*Archive, error) {
	gz, err := gzip.NewReader(io.LimitReader(r, MaxArchiveBytes+1))
	if err != nil {
		return nil, badArchive("not a gzip file: %v", err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, badArchive("not a readable tar archive: %v", err)
		}
		name := hdr.Name
		if hdr.Typeflag != tar.TypeReg {
			return nil, badArchive("%q is not a regular file (links and folders are not allowed)", name)
		}
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.Contains(name, "..") || path.Clean(name) != name {
			return nil, badArchive("%q is not a plain relative path", name)
		}
		if name != manifestName && !moduleEntry.MatchString(name) {
			return nil, badArchive("unexpected file %q (only %s and modules/NNNN.json belong in a course archive)", name, manifestName)
		}
		if _, dup := files[name]; dup {
			return nil, badArchive("%q appears twice", name)
		}
		if hdr.Size > MaxArchiveEntryBytes {
			return nil, badArchive("%q is larger than %d bytes", name, MaxArchiveEntryBytes)
		}
		total += hdr.Size
		if total > MaxArchiveBytes {
			return nil, badArchive("the archive unpacks to more than %d bytes", MaxArchiveBytes)
		}
		body, err := io.ReadAll(io.LimitReader(tr, hdr.Size+1))
		if err != nil || int64(len(body)) != hdr.Size {
			return nil, badArchive("%q is truncated", name)
		}
		files[name] = body
		if len(files) > MaxArchiveModules+1 {
			return nil, badArchive("more than %d modules", MaxArchiveModules)
		}
	}
	a := &Archive{}
	body, ok := files[manifestName]
	if !ok {
		return nil, badArchive("%s is missing", manifestName)
	}
	if err := strictJSON(body, &a.Manifest); err != nil {
		return nil, badArchive("%s: %v", manifestName, err)
	}
	if err := a.Manifest.check(); err != nil {
		return nil, err
	}
	if len(files)-1 != a.Manifest.Modules {
		return nil, badArchive("the manifest announces %d modules, the archive holds %d", a.Manifest.Modules, len(files)-1)
	}
	positions := map[int]bool{}
	for i := 1; i <= a.Manifest.Modules; i++ {
		name := fmt.Sprintf(moduleNameFmt, i)
		body, ok := files[name]
		if !ok {
			return nil, badArchive("%s is missing (modules are numbered from 0001 without gaps)", name)
		}
		var m ArchivedModule
		if err := strictJSON(body, &m); err != nil {
			return nil, badArchive("%s: %v", name, err)
		}
		if err := m.check(name); err != nil {
			return nil, err
		}
		pos := m.Revisions[len(m.Revisions)-1].Position
		if positions[pos] {
			return nil, badArchive("%s: two modules hold position %d", name, pos)
		}
		positions[pos] = true
		a.Modules = append(a.Modules, m)
	}
	return a, nil
}

// strictJSON decodes exactly one JSON value into v, refusing unknown
// fields, values of the wrong type, and text PostgreSQL does not store:
// bytes that are not UTF-8 (which encoding/json would quietly turn into
// U+FFFD) and NUL characters (written \u0000), which would otherwise fail
// the import in the database with a server error.
func strictJSON(body []byte, v any) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("not UTF-8 text (byte %d)", invalidUTF8At(body))
	}
	if path := nulPath(body); path != "" {
		return fmt.Errorf("%s holds a NUL character (\\u0000)", path)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of b that is not
// part of a UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// nulPath returns where in the JSON document body a string holds a NUL
// character ("revisions[0].body"), or "" when none does or body does not
// parse (strictJSON then says why). A JSON string carries a NUL only as
// the escape \u0000, so documents without one are not walked.
func nulPath(body []byte) string {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return ""
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return nulIn(v, "")
}

func nulIn(v any, path string) string {
	switch v := v.(type) {
	case string:
		if strings.ContainsRune(v, 0) {
			return cmp.Or(path, "the document")
		}
	case []any:
		for i, e := range v {
			if p := nulIn(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			key := k
			if path != "" {
				key = path + "." + k
			}
			if strings.ContainsRune(k, 0) {
				return "a field name in " + cmp.Or(path, "the document")
			}
			if p := nulIn(v[k], key); p != "" {
				return p
			}
		}
	}
	return ""
}

func (m *Manifest) check() error {
	switch {
	case m.Format != ArchiveFormat:
		return badArchive("format %q, want %q", m.Format, ArchiveFormat)
	case m.Version != ArchiveVersion:
		return badArchive("version %d, this colearn reads version %d", m.Version, ArchiveVersion)
	case m.Modules < 0 || m.Modules > MaxArchiveModules:
		return badArchive("%d modules (at most %d)", m.Modules, MaxArchiveModules)
	}
	if forbidsDerivatives(m.Licence) {
		return fmt.Errorf("%w: %s does not allow adapted copies, so the course cannot be imported", ErrNoDerivatives, m.Licence)
	}
	d := CourseDraft{Slug: m.Course.Slug, Title: m.Course.Title, Summary: m.Course.Summary, Language: m.Course.Language,
		Licence: m.Licence, Tags: m.Course.Tags}
	if m.Licence == "" {
		return badArchive("no licence: an archive must say under which licence its content may be reused")
	}
	d.normalize()
	if err := d.validate(); err != nil {
		return badArchive("course: %v", err)
	}
	if err := checkMarkup("course summary", m.Course.Summary); err != nil {
		return err
	}
	if err := checkIRI("origin", m.Origin.IRI); err != nil {
		return err
	}
	if len(m.Authors) > 1000 {
		return badArchive("more than 1000 authors")
	}
	for _, a := range m.Authors {
		if err := checkIRI("author", a.IRI); err != nil {
			return err
		}
	}
	return nil
}

func (m *ArchivedModule) check(name string) error {
	if len(m.Revisions) == 0 || len(m.Revisions) > MaxArchiveRevisions {
		return badArchive("%s: a module has 1 to %d revisions, not %d", name, MaxArchiveRevisions, len(m.Revisions))
	}
	for i := range m.Revisions {
		r := &m.Revisions[i]
		if r.Number != i+1 {
			return badArchive("%s: revision %d is numbered %d (revisions are numbered from 1 in order)", name, i+1, r.Number)
		}
		if r.Base < 0 || r.Base >= r.Number {
			return badArchive("%s: revision %d is based on revision %d, which is not before it", name, r.Number, r.Base)
		}
		if r.Retired && i != len(m.Revisions)-1 {
			return badArchive("%s: revision %d retires the module, but revisions follow it", name, r.Number)
		}
		if r.Position < 1 {
			return badArchive("%s: revision %d has position %d", name, r.Number, r.Position)
		}
		d := r.ModuleDraft
		d.normalize()
		if err := d.validate(); err != nil {
			return badArchive("%s: revision %d: %v", name, r.Number, err)
		}
		for field, text := range map[string]string{"body": r.Body, "summary": r.Summary, "title": r.Title} {
			if err := checkMarkup(fmt.Sprintf("%s: revision %d: %s", name, r.Number, field), text); err != nil {
				return err
			}
		}
		if err := checkIRI(fmt.Sprintf("%s: revision %d: author", name, r.Number), r.Author.IRI); err != nil {
			return err
		}
		if len(r.Change) > 200 || len(r.Author.Name) > 200 || len(r.Author.Server) > 300 {
			return badArchive("%s: revision %d: change, author name or server too long", name, r.Number)
		}
		r.ModuleDraft = d
	}
	return nil
}

func checkIRI(what, iri string) error {
	if err := checkURL(what, iri); err != nil {
		return badArchive("%s %q is not an http or https address", what, iri)
	}
	return nil
}

// forbidsDerivatives reports whether an SPDX licence id is a Creative
// Commons NoDerivatives licence (CC-BY-ND-4.0, CC-BY-NC-ND-4.0, …).
func forbidsDerivatives(spdx string) bool {
	for _, part := range strings.Split(strings.ToUpper(spdx), "-") {
		if part == "ND" {
			return true
		}
	}
	return false
}

// ImportCourse creates a course owned by owner (ownerIRI) from a checked
// archive, inside tx: its metadata under slug (the archive's when empty),
// every module with its revisions as they were (authors, times, changes),
// and the origin and authors it credits. The caller creates the course
// actor's keys in the same transaction. It returns the errors of
// CreateCourse (ErrTaken for a slug in use).
func (s *Store) ImportCourse(ctx context.Context, tx pgx.Tx, owner User, ownerIRI string, a *Archive, slug string) (Course, error) {
	m := a.Manifest
	if slug == "" {
		slug = m.Course.Slug
	}
	c, err := s.CreateCourse(ctx, tx, owner, ownerIRI, CourseDraft{
		Slug: slug, Title: m.Course.Title, Summary: m.Course.Summary, Language: m.Course.Language, Licence: m.Licence, Tags: m.Course.Tags,
	})
	if err != nil {
		return Course{}, fmt.Errorf("import course: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE courses SET origin_iri = $2, origin_title = $3, origin_authors = $4 WHERE id = $1`,
		c.ID, m.Origin.IRI, m.Origin.Title, m.Authors); err != nil {
		return Course{}, fmt.Errorf("import course %s: %w", slug, err)
	}
	for _, am := range a.Modules {
		revs := am.Revisions
		last, first := revs[len(revs)-1], revs[0]
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO modules (course_id, position, title, summary, body, estimated_minutes, links, attachments, retired, revision, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			c.ID, last.Position, last.Title, last.Summary, last.Body, last.EstimatedMinutes, last.Links, last.Attachments,
			last.Retired, last.Number, first.Created, last.Created).Scan(&id)
		if err != nil {
			return Course{}, fmt.Errorf("import course %s: module: %w", slug, err)
		}
		rows := make([][]any, 0, len(revs))
		for _, r := range revs {
			rows = append(rows, []any{id, r.Number, r.Title, r.Summary, r.Body, r.EstimatedMinutes, r.Links, r.Attachments,
				r.Position, r.Retired, r.Author.IRI, r.Author.Name, r.Author.server(), r.Base, r.Change, r.Created})
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"module_revisions"}, []string{"module_id", "number", "title", "summary", "body",
			"estimated_minutes", "links", "attachments", "position", "retired", "author_iri", "author_name", "author_server",
			"base", "change", "created_at"}, pgx.CopyFromRows(rows))
		if err != nil {
			return Course{}, fmt.Errorf("import course %s: revisions: %w", slug, err)
		}
	}
	return c, nil
}
