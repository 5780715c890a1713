package courses

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// CoursePost is a post offered to CreatePosts: the post and the local
// course whose discussion it is posted in, which its CourseIRI must name
// (the course's membership rule and change notices are taken from it).
type CoursePost struct {
	Post   Post
	Course Course
}

// CreatePosts stores, in one statement, those of ps that are plainly new
// posts, and returns, for each of ps, the stored post and whether it was
// created by this call. It is SavePost for many posts at once, restricted
// to the case that needs no decision beyond the statement itself: a post
// is created only when
//
//   - it passes preparePost, the checks and sanitising SavePost applies;
//   - its author may post in its course (CanPost's rule: an accepted
//     member, or anyone not blocked when the discussion is open);
//   - its IRI has no tombstone, is not stored yet, and is not repeated by
//     an earlier post of ps;
//   - its author is not a course this instance co-hosts (whose posts the
//     inbox applies to the mirror first).
//
// Every post left out is exactly one that SavePost (or the caller's own
// checks before it) treats otherwise: an edit, a replay, another owner's
// post, a tombstone, a refused author or an invalid post. The caller hands
// those to its one-at-a-time path, which reaches the same outcome it would
// have reached without CreatePosts, so the stored rows are the same either
// way. Change notices are those of SavePost (postChanged), in one Changed.
//
// It fails only when the database does; the statement is all or nothing,
// so run it in a savepoint when a failure should not abort q's
// transaction.
func (s *Store) CreatePosts(ctx context.Context, q Querier, ps []CoursePost) (saved []Post, created []bool, err error) {
	saved, created = make([]Post, len(ps)), make([]bool, len(ps))
	var cols postArrays
	index := map[string]int{} // IRI -> its position in ps, for the first occurrence offered
	for i, cp := range ps {
		p := cp.Post
		if _, dup := index[p.IRI]; dup || s.preparePost(&p) != nil || p.CourseIRI == "" {
			continue
		}
		index[p.IRI] = i
		if err := cols.add(p, cp.Course); err != nil {
			return nil, nil, fmt.Errorf("create %d posts: %w", len(ps), err)
		}
	}
	if len(index) == 0 {
		return saved, created, nil
	}
	rows, err := q.Query(ctx, createPosts, cols.args()...)
	if err != nil {
		return nil, nil, fmt.Errorf("create %d posts: %w", len(index), err)
	}
	stored, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Post, error) { return scanPost(r) })
	if err != nil {
		return nil, nil, fmt.Errorf("create %d posts: %w", len(index), err)
	}
	for _, sp := range stored {
		i := index[sp.IRI]
		saved[i], created[i] = sp, true
	}
	// postChanged's scopes, with the course's id at hand rather than
	// looked up by slug.
	var scopes []Scope
	for i, cp := range ps {
		if !created[i] {
			continue
		}
		scopes = append(scopes, PostScope(saved[i].IRI), CourseScope(cp.Course.ID))
		if saved[i].Local {
			scopes = append(scopes, UsageScope)
		}
		if saved[i].InReplyTo != "" {
			scopes = append(scopes, RepliesScope(saved[i].InReplyTo))
		}
	}
	if err := s.Changed(ctx, q, scopes...); err != nil {
		return nil, nil, err
	}
	return saved, created, nil
}

// postArrays are the columns of the posts CreatePosts inserts, one array
// per column for unnest.
type postArrays struct {
	iri, course, author, authorName, authorHandle, inReplyTo, typ, name, content, url []string
	published, updated                                                                []pgtype.Timestamptz
	local, sensitive, open                                                            []bool
	summary, tags, attachments                                                        []string
	courseID                                                                          []int64
}

func (a *postArrays) add(p Post, c Course) error {
	tags, err := json.Marshal(p.Tags)
	if err != nil {
		return fmt.Errorf("tags of %s: %w", p.IRI, err)
	}
	atts, err := json.Marshal(p.Attachments)
	if err != nil {
		return fmt.Errorf("attachments of %s: %w", p.IRI, err)
	}
	a.iri = append(a.iri, p.IRI)
	a.course = append(a.course, p.CourseIRI)
	a.author = append(a.author, p.AuthorIRI)
	a.authorName = append(a.authorName, p.AuthorName)
	a.authorHandle = append(a.authorHandle, p.AuthorHandle)
	a.inReplyTo = append(a.inReplyTo, p.InReplyTo)
	a.typ = append(a.typ, p.Type)
	a.name = append(a.name, p.Name)
	a.content = append(a.content, p.Content)
	a.url = append(a.url, p.URL)
	a.published = append(a.published, pgtype.Timestamptz{Time: p.Published, Valid: true})
	a.updated = append(a.updated, pgtype.Timestamptz{Time: p.Updated, Valid: !p.Updated.IsZero()})
	a.local = append(a.local, p.Local)
	a.summary = append(a.summary, p.Summary)
	a.sensitive = append(a.sensitive, p.Sensitive)
	a.tags = append(a.tags, string(tags))
	a.attachments = append(a.attachments, string(atts))
	a.courseID = append(a.courseID, c.ID)
	a.open = append(a.open, c.OpenDiscussion)
	return nil
}

func (a *postArrays) args() []any {
	return []any{a.iri, a.course, a.author, a.authorName, a.authorHandle, a.inReplyTo, a.typ, a.name, a.content, a.url,
		a.published, a.updated, a.local, a.summary, a.sensitive, a.tags, a.attachments, a.courseID, a.open}
}

// createPosts inserts the offered posts that CanPost allows, that no
// tombstone names and that are not stored yet, and returns those it
// inserted. Each check is one index lookup per post (course_members',
// tombstones' and cohosted_courses' primary keys): the membership is read
// in a LATERAL subquery with LIMIT 1, which PostgreSQL does not flatten
// into a join, so it never hashes a whole table of members.
const createPosts = `
	INSERT INTO posts (iri, course_iri, author_iri, author_name, author_handle, in_reply_to, type, name, content, url,
		published, updated, local, summary, sensitive, tags, attachments)
	SELECT n.iri, n.course_iri, n.author_iri, n.author_name, n.author_handle, n.in_reply_to, n.type, n.name, n.content, n.url,
		n.published, n.updated, n.local, n.summary, n.sensitive, n.tags::jsonb, n.attachments::jsonb
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
		$11::timestamptz[], $12::timestamptz[], $13::bool[], $14::text[], $15::bool[], $16::text[], $17::text[], $18::bigint[], $19::bool[])
		AS n(iri, course_iri, author_iri, author_name, author_handle, in_reply_to, type, name, content, url,
			published, updated, local, summary, sensitive, tags, attachments, course_id, open)
	LEFT JOIN LATERAL (SELECT m.state FROM course_members m WHERE m.course_id = n.course_id AND m.actor_iri = n.author_iri LIMIT 1) m ON true
	WHERE CASE WHEN n.open THEN m.state IS DISTINCT FROM '` + StateBlocked + `' ELSE m.state = '` + StateAccepted + `' END
	  AND NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.iri = n.iri)
	  AND NOT EXISTS (SELECT 1 FROM cohosted_courses h WHERE h.course_iri = n.author_iri)
	ON CONFLICT (iri) DO NOTHING
	RETURNING ` + postColumns
