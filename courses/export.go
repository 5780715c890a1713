package courses

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// A course archive is a gzipped tar holding colearn-course.json (the
// Manifest) and one modules/NNNN.json per module (ArchivedModule), in
// syllabus order from 0001. Nothing else may be in it; ReadArchive says
// exactly what it refuses.
const (
	ArchiveFormat   = "colearn-course"
	ArchiveVersion  = 1
	manifestName    = "colearn-course.json"
	moduleNameFmt   = "modules/%04d.json"
	archiveFileMode = 0o644
)

// Manifest is the course part of an archive.
type Manifest struct {
	Format   string    `json:"format"`
	Version  int       `json:"version"`
	Exported time.Time `json:"exported"`
	// Source is the course the archive was exported from.
	Source string `json:"source"`
	Course struct {
		Slug     string   `json:"slug"`
		Title    string   `json:"title"`
		Summary  string   `json:"summary"`
		Language string   `json:"language"`
		Tags     []string `json:"tags"`
	} `json:"course"`
	// Licence is an SPDX id; it must allow derivatives for an import.
	Licence string `json:"licence"`
	// Authors are everyone credited with the course's content.
	Authors []Author `json:"authors"`
	// Origin is where the course was first made: the course itself, or the
	// origin it was imported with.
	Origin  Origin `json:"origin"`
	Modules int    `json:"modules"`
}

// Origin credits the course a copy came from.
type Origin struct {
	IRI   string `json:"iri"`
	Title string `json:"title"`
}

// ArchivedModule is a module with its whole history; its current state is
// its last revision.
type ArchivedModule struct {
	Revisions []ArchivedRevision `json:"revisions"`
}

// ArchivedRevision is one revision in an archive.
type ArchivedRevision struct {
	Number int `json:"number"`
	ModuleDraft
	Position int       `json:"position"`
	Retired  bool      `json:"retired"`
	Author   Author    `json:"author"`
	Base     int       `json:"base"`
	Change   string    `json:"change"`
	Created  time.Time `json:"created"`
}

// Archive is a read, checked course archive.
type Archive struct {
	Manifest Manifest
	Modules  []ArchivedModule
}

// BuildArchive collects course c (whose IRI is courseIRI) with every
// module and revision, retired ones included, for WriteArchive.
func (s *Store) BuildArchive(ctx context.Context, q Querier, c Course, courseIRI string) (*Archive, error) {
	a := &Archive{}
	m := &a.Manifest
	m.Format, m.Version, m.Exported, m.Source = ArchiveFormat, ArchiveVersion, time.Now().UTC().Truncate(time.Second), courseIRI
	m.Course.Slug, m.Course.Title, m.Course.Summary, m.Course.Language, m.Course.Tags = c.Slug, c.Title, c.Summary, c.Language, c.Tags
	m.Licence = c.Licence
	var origin Origin
	var authors []Author
	err := q.QueryRow(ctx, `SELECT origin_iri, origin_title, origin_authors FROM courses WHERE id = $1`, c.ID).
		Scan(&origin.IRI, &origin.Title, &authors)
	if err != nil {
		return nil, fmt.Errorf("export course %s: %w", c.Slug, notFound(err))
	}
	if origin.IRI == "" {
		origin = Origin{IRI: courseIRI, Title: c.Title}
		var owner Author
		err := q.QueryRow(ctx, `SELECT actor_iri, name FROM course_members WHERE course_id = $1 AND role = 'owner'`, c.ID).Scan(&owner.IRI, &owner.Name)
		if err != nil {
			return nil, fmt.Errorf("export course %s: owner: %w", c.Slug, notFound(err))
		}
		owner.Server = owner.server()
		authors = []Author{owner}
	}
	m.Origin = origin
	seen := map[string]bool{}
	add := func(au Author) {
		if au.IRI != "" && !seen[au.IRI] {
			seen[au.IRI] = true
			m.Authors = append(m.Authors, au)
		}
	}
	for _, au := range authors {
		add(au)
	}
	mods, err := s.AllModules(ctx, q, c.ID)
	if err != nil {
		return nil, err
	}
	for _, mod := range mods {
		revs, err := s.Revisions(ctx, q, mod.ID)
		if err != nil {
			return nil, err
		}
		var am ArchivedModule
		for _, r := range revs {
			add(r.Author)
			am.Revisions = append(am.Revisions, ArchivedRevision{
				Number: r.Number, ModuleDraft: r.ModuleDraft, Position: r.Position, Retired: r.Retired,
				Author: r.Author, Base: r.Base, Change: r.Change, Created: r.CreatedAt.UTC(),
			})
		}
		a.Modules = append(a.Modules, am)
	}
	if m.Authors == nil {
		m.Authors = []Author{}
	}
	m.Modules = len(a.Modules)
	return a, nil
}

// WriteArchive writes a as a gzipped tar to w.
func WriteArchive(w io.Writer, a *Archive) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	put := func(name string, v any) error {
		body, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("write archive: %s: %w", name, err)
		}
		hdr := &tar.Header{Name: name, Mode: archiveFileMode, Size: int64(len(body)), ModTime: a.Manifest.Exported, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write archive: %s: %w", name, err)
		}
		if _, err := tw.Write(body); err != nil {
			return fmt.Errorf("write archive: %s: %w", name, err)
		}
		return nil
	}
	if err := put(manifestName, a.Manifest); err != nil {
		return err
	}
	for i, m := range a.Modules {
		if err := put(fmt.Sprintf(moduleNameFmt, i+1), m); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}
