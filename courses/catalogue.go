package courses

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// CatalogueQuery narrows the catalogue: words in the title (case-blind
// substring), one tag (exact, without '#'), one language code. Empty
// fields match everything.
type CatalogueQuery struct {
	Title, Tag, Language string
}

// Validate refuses queries no catalogue could answer sensibly.
func (q CatalogueQuery) Validate() error {
	switch {
	case utf8.RuneCountInString(q.Title) > 200:
		return &ValidationError{Field: "q", Message: "search for at most 200 characters"}
	case len(q.Tag) > 100:
		return &ValidationError{Field: "tag", Message: "a tag has at most 100 characters"}
	case len(q.Language) > 35:
		return &ValidationError{Field: "lang", Message: "a language code has at most 35 characters"}
	}
	return nil
}

// Empty reports whether the query matches everything.
func (q CatalogueQuery) Empty() bool { return q == CatalogueQuery{} }

// CatalogueEntry is one course of the catalogue: local (Slug set, Summary
// Markdown) or co-hosted from another server (Slug empty, Summary
// sanitised HTML, Host its server).
type CatalogueEntry struct {
	IRI, Slug, Handle, Title, Summary, Language string
	Tags                                        []string
	Members                                     int
	Cohosted                                    bool
	Host                                        string
	Published                                   time.Time
}

// Catalogue lists local and co-hosted courses matching q, newest first,
// at most limit, skipping offset, in one query. localBase is this
// instance's base URL (local IRIs are localBase/courses/SLUG).
func (s *Store) Catalogue(ctx context.Context, q CatalogueQuery, localBase string, limit, offset int) ([]CatalogueEntry, error) {
	title := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.TrimSpace(q.Title)) + "%"
	tag := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(q.Tag), "#"))
	lang := strings.ToLower(strings.TrimSpace(q.Language))
	rows, err := s.pool.Query(ctx, `
		SELECT iri, slug, handle, title, summary, language, tags, members, cohosted, host, published FROM (
			SELECT $1 || '/courses/' || c.slug AS iri, c.slug, '' AS handle, c.title, c.summary, c.language, c.tags,
				(SELECT count(*) FROM course_members m WHERE m.course_id = c.id AND m.state = 'accepted')::int AS members,
				false AS cohosted, '' AS host, c.created_at AS published, c.id AS seq
			FROM courses c
			UNION ALL
			SELECT h.course_iri, '', h.handle, h.name, h.summary, h.language, h.tags, 0, true,
				split_part(regexp_replace(h.course_iri, '^[a-z]+://', ''), '/', 1), h.added_at, 0::bigint
			FROM cohosted_courses h WHERE h.state <> 'rejected'
		) e
		WHERE title ILIKE $2 AND ($3 = '' OR EXISTS (SELECT 1 FROM unnest(tags) t WHERE lower(t) = $3))
		  AND ($4 = '' OR lower(language) = $4 OR lower(language) LIKE $4 || '-%')
		ORDER BY published DESC, seq DESC, iri LIMIT $5 OFFSET $6`, localBase, title, tag, lang, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CatalogueEntry, error) {
		var e CatalogueEntry
		err := r.Scan(&e.IRI, &e.Slug, &e.Handle, &e.Title, &e.Summary, &e.Language, &e.Tags, &e.Members, &e.Cohosted, &e.Host, &e.Published)
		return e, err
	})
}

// CatalogueSize counts the catalogue's courses (local and co-hosted).
func (s *Store) CatalogueSize(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM courses) + (SELECT count(*) FROM cohosted_courses WHERE state <> 'rejected')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("catalogue size: %w", err)
	}
	return n, nil
}
