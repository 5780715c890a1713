package courses

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Post is a message in a course's discussion, a lesson (Article) or an
// announcement, from any server. Content is sanitised HTML.
type Post struct {
	IRI          string
	CourseIRI    string
	AuthorIRI    string
	AuthorName   string
	AuthorHandle string
	InReplyTo    string
	Type         string // Note or Article
	Name         string // an Article's title
	Content      string
	URL          string
	Published    time.Time
	Updated      time.Time // zero until edited
	Deleted      bool
	Seq          int64
	// Local is set on posts written on this instance, not copies of
	// remote ones.
	Local bool
	// Summary is the content warning, plain text; Sensitive marks the post
	// as one to show collapsed (post_rich.go).
	Summary   string
	Sensitive bool
	// Tags are the post's mentions and hashtags, Attachments its images
	// and links, checked when saved (post_rich.go).
	Tags        []PostTag
	Attachments []PostAttachment
}

// MaxPostLen is the longest post body accepted, in bytes of HTML.
const MaxPostLen = 100_000

const postColumns = `iri, course_iri, author_iri, author_name, author_handle, in_reply_to, type, name, content, url,
	published, coalesce(updated, 'epoch'::timestamptz), deleted, seq, local, summary, sensitive, tags, attachments`

func scanPost(row pgx.Row) (Post, error) {
	var p Post
	err := row.Scan(&p.IRI, &p.CourseIRI, &p.AuthorIRI, &p.AuthorName, &p.AuthorHandle, &p.InReplyTo, &p.Type, &p.Name,
		&p.Content, &p.URL, &p.Published, &p.Updated, &p.Deleted, &p.Seq, &p.Local, &p.Summary, &p.Sensitive, &p.Tags, &p.Attachments)
	if p.Updated.Equal(time.Unix(0, 0)) {
		p.Updated = time.Time{}
	}
	return p, err
}

// ErrNotOwner means an activity tried to change a post that belongs to
// another author or another course; it wraps ErrForbidden.
var ErrNotOwner = fmt.Errorf("post belongs to another author or course: %w", ErrForbidden)

// SavePost stores a post or, when it exists, applies it as an edit. The
// content is sanitised here, whatever its source. A post has owners: when
// the stored post has another author or another course than p claims,
// nothing changes and the error is ErrNotOwner. An edit never changes the
// thread and never brings back a deleted post; an edit older than the
// stored one is ignored. A post whose id has a tombstone (deleted before
// it arrived) is refused with ErrTombstoned. created reports whether the
// post is new.
func (s *Store) SavePost(ctx context.Context, q Querier, p Post) (saved Post, created bool, err error) {
	if err := s.preparePost(&p); err != nil {
		return Post{}, false, err
	}
	if err := s.Tombstoned(ctx, q, p.IRI); err != nil {
		return Post{}, false, fmt.Errorf("save post: %w", err)
	}
	var updated *time.Time
	if !p.Updated.IsZero() {
		updated = &p.Updated
	}
	row := q.QueryRow(ctx, `
		INSERT INTO posts (iri, course_iri, author_iri, author_name, author_handle, in_reply_to, type, name, content, url, published, updated, local,
			summary, sensitive, tags, attachments)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (iri) DO UPDATE SET content = excluded.content, name = excluded.name, updated = excluded.updated,
			author_name = excluded.author_name, summary = excluded.summary, sensitive = excluded.sensitive,
			tags = excluded.tags, attachments = excluded.attachments
		WHERE NOT posts.deleted AND excluded.updated IS NOT NULL
		  AND posts.author_iri = excluded.author_iri AND posts.course_iri = excluded.course_iri
		  AND (posts.updated IS NULL OR posts.updated <= excluded.updated)
		RETURNING `+postColumns+`, (xmax = 0)`,
		p.IRI, p.CourseIRI, p.AuthorIRI, p.AuthorName, p.AuthorHandle, p.InReplyTo, p.Type, p.Name, p.Content, p.URL, p.Published, updated, p.Local,
		p.Summary, p.Sensitive, p.Tags, p.Attachments)
	var sp Post
	err = row.Scan(&sp.IRI, &sp.CourseIRI, &sp.AuthorIRI, &sp.AuthorName, &sp.AuthorHandle, &sp.InReplyTo, &sp.Type, &sp.Name,
		&sp.Content, &sp.URL, &sp.Published, &sp.Updated, &sp.Deleted, &sp.Seq, &sp.Local,
		&sp.Summary, &sp.Sensitive, &sp.Tags, &sp.Attachments, &created)
	if err == pgx.ErrNoRows {
		// Unchanged: a replay, a stale edit, a deleted post, or someone
		// else's.
		cur, err := s.PostByIRI(ctx, q, p.IRI)
		if err == nil && (cur.AuthorIRI != p.AuthorIRI || cur.CourseIRI != p.CourseIRI) {
			return cur, false, fmt.Errorf("save post %s as %s in %s (stored: %s in %s): %w",
				p.IRI, p.AuthorIRI, p.CourseIRI, cur.AuthorIRI, cur.CourseIRI, ErrNotOwner)
		}
		return cur, false, err
	}
	if err != nil {
		return Post{}, false, fmt.Errorf("save post %s: %w", p.IRI, err)
	}
	if sp.Updated.Equal(time.Unix(0, 0)) {
		sp.Updated = time.Time{}
	}
	if err := s.postChanged(ctx, q, sp); err != nil {
		return Post{}, false, err
	}
	return sp, created, nil
}

// preparePost checks p and makes it safe to store, whatever its source:
// its type, its sanitised content (not empty, at most MaxPostLen), its
// plain-text title, its tags and attachments (cleanRich). A post with no
// publication time is published now. SavePost and CreatePosts share it, so
// a post is stored the same way by either.
func (s *Store) preparePost(p *Post) error {
	if p.Type == "" {
		p.Type = "Note"
	}
	if p.Type != "Note" && p.Type != "Article" {
		return &ValidationError{Field: "type", Message: "a post is a Note or an Article"}
	}
	p.Content = s.content.Sanitize(p.Content)
	p.Name = strings.TrimSpace(s.content.policyText(p.Name))
	if strings.TrimSpace(p.Content) == "" {
		return &ValidationError{Field: "content", Message: "the post is empty"}
	}
	if err := s.cleanRich(p); err != nil {
		return err
	}
	if len(p.Content) > MaxPostLen {
		return &ValidationError{Field: "content", Message: fmt.Sprintf("the post is longer than %d bytes", MaxPostLen)}
	}
	if p.Published.IsZero() {
		p.Published = time.Now()
	}
	return nil
}

// PostByIRI returns a post, deleted or not, or ErrNotFound.
func (s *Store) PostByIRI(ctx context.Context, q Querier, iri string) (Post, error) {
	p, err := scanPost(q.QueryRow(ctx, `SELECT `+postColumns+` FROM posts WHERE iri = $1`, iri))
	if err != nil {
		return Post{}, fmt.Errorf("post %s: %w", iri, notFound(err))
	}
	return p, nil
}

// DeletePost marks a post deleted and drops its content; the row stays as a
// tombstone so a late redelivery cannot bring it back.
func (s *Store) DeletePost(ctx context.Context, q Querier, iri string) (Post, error) {
	p, err := scanPost(q.QueryRow(ctx, `UPDATE posts SET deleted = true, content = '', name = '', summary = '', tags = '[]', attachments = '[]', updated = now()
		WHERE iri = $1 AND NOT deleted RETURNING `+postColumns, iri))
	if err != nil {
		return Post{}, fmt.Errorf("delete post %s: %w", iri, notFound(err))
	}
	if err := s.postChanged(ctx, q, p); err != nil {
		return Post{}, err
	}
	return p, nil
}

// RecentPosts returns a page of a course's live posts, newest first: up to
// limit posts written before the post numbered before (from the newest
// when before is 0), and the number to ask for the next, older page with
// (0 on the last page). It reads by keyset on seq, so every page costs the
// same however long the discussion.
func (s *Store) RecentPosts(ctx context.Context, q Querier, courseIRI string, before int64, limit int) ([]Post, int64, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := q.Query(ctx, `SELECT `+postColumns+` FROM posts WHERE course_iri = $1 AND NOT deleted AND seq < $2
		ORDER BY seq DESC LIMIT $3`, courseIRI, before, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("posts of %s: %w", courseIRI, err)
	}
	posts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Post, error) { return scanPost(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("posts of %s: %w", courseIRI, err)
	}
	if len(posts) <= limit {
		return posts, 0, nil
	}
	posts = posts[:limit]
	return posts, posts[limit-1].Seq, nil
}

// ThreadedPost is a post with its depth in its thread.
type ThreadedPost struct {
	Post
	Depth int
}

// Thread orders posts as threads: each reply right after its parent (and
// its parent's earlier replies), deeper by one. Replies whose parent is
// missing start threads of their own.
func Thread(posts []Post) []ThreadedPost { return thread(posts, false) }

// ThreadNewestFirst is Thread with the newest threads first; replies stay
// in the order they were written, under their parents.
func ThreadNewestFirst(posts []Post) []ThreadedPost { return thread(posts, true) }

func thread(posts []Post, newestFirst bool) []ThreadedPost {
	byIRI := make(map[string]bool, len(posts))
	for _, p := range posts {
		byIRI[p.IRI] = true
	}
	children := map[string][]Post{}
	var roots []Post
	for _, p := range posts {
		if p.InReplyTo != "" && byIRI[p.InReplyTo] && p.InReplyTo != p.IRI {
			children[p.InReplyTo] = append(children[p.InReplyTo], p)
		} else {
			roots = append(roots, p)
		}
	}
	for _, c := range children {
		sort.SliceStable(c, func(i, j int) bool {
			return c[i].Published.Before(c[j].Published) || c[i].Published.Equal(c[j].Published) && c[i].Seq < c[j].Seq
		})
	}
	sort.SliceStable(roots, func(i, j int) bool {
		if newestFirst {
			return roots[i].Published.After(roots[j].Published) ||
				roots[i].Published.Equal(roots[j].Published) && roots[i].Seq > roots[j].Seq
		}
		return roots[i].Published.Before(roots[j].Published)
	})
	out := make([]ThreadedPost, 0, len(posts))
	seen := map[string]bool{}
	var walk func(p Post, depth int)
	walk = func(p Post, depth int) {
		if seen[p.IRI] {
			return
		}
		seen[p.IRI] = true
		out = append(out, ThreadedPost{Post: p, Depth: depth})
		for _, c := range children[p.IRI] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return out
}
