package courses

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Scope names a set of public documents and pages that one kind of change
// alters: everything that shows a course, a user, a post, the instance's
// identity or its counts. A cache of rendered documents tags each entry with
// the scopes it shows and drops it when one of them changes (see Changed).
type Scope string

// CourseScope covers what shows local course id: its Group actor, followers
// collection and pages, HTML page, lessons and the posts of its discussion.
func CourseScope(id int64) Scope { return Scope("course/" + strconv.FormatInt(id, 10)) }

// UserScope covers what shows local user username: the Person actor,
// WebFinger answer and profile page.
func UserScope(username string) Scope { return Scope("user/" + strings.ToLower(username)) }

// PostScope covers the document of one post, whatever course it is in.
func PostScope(iri string) Scope { return Scope("post/" + iri) }

// RepliesScope covers the replies collection of the post iri.
func RepliesScope(iri string) Scope { return Scope("replies/" + iri) }

// OutboxScope covers the outbox collection of a local actor, which every
// public activity it sends changes.
func OutboxScope(actorIRI string) Scope { return Scope("outbox/" + actorIRI) }

const (
	// CataloguesScope covers the lists of courses (the catalogue): every
	// course's creation, edit and membership change alters it.
	CataloguesScope Scope = "courses"
	// SiteScope covers what shows the instance's identity and rules: every
	// HTML page's header, NodeInfo's metadata, the instance actor.
	SiteScope Scope = "site"
	// UsageScope covers the instance's counts (users, local posts), which
	// NodeInfo reports.
	UsageScope Scope = "usage"
)

// ChangeChannel is the PostgreSQL NOTIFY channel on which Changed announces
// changed scopes. The payload is a token and the scopes, separated by
// spaces; PostgreSQL delivers it to every listening session when (and only
// if) the transaction commits.
const ChangeChannel = "colearn_changed"

// Changed records, inside q's transaction, that what scopes show has
// changed, so that every colearn process sharing the database drops what it
// has cached of them once the transaction commits. Call it in the same
// transaction as the change itself (with the pool, the notice goes out at
// once, which is right only after the change has committed).
//
// Before the notice is sent, the store's ChangingFunc (when set) is told the
// scopes and the notice's token, so that this process can stop serving its
// cached copies from now until the notice comes back: a read that follows
// the commit in this process is never served stale, even before the notice
// has arrived. If the transaction rolls back, no notice comes and the
// process serves from the database (never stale) until ChangingFunc's
// owner gives up waiting.
//
// Inside DeferChanges and a transaction, the scopes are only gathered, for
// FlushChanges to announce before the transaction commits; with the pool,
// the notice still goes out at once.
//
// It fails only when the database does.
func (s *Store) Changed(ctx context.Context, q Querier, scopes ...Scope) error {
	if len(scopes) == 0 || inTx(q) && deferred(ctx, scopes) {
		return nil
	}
	return s.notifyChanged(ctx, q, scopes)
}

// notifyChanged sends one change notice of scopes in q's transaction.
func (s *Store) notifyChanged(ctx context.Context, q Querier, scopes []Scope) error {
	token := changeToken()
	if s.ChangingFunc != nil {
		s.ChangingFunc(token, scopes)
	}
	var b strings.Builder
	b.WriteString(token)
	for _, sc := range scopes {
		b.WriteByte(' ')
		b.WriteString(strings.ReplaceAll(string(sc), " ", "%20"))
	}
	if _, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangeChannel, b.String()); err != nil {
		return fmt.Errorf("announce change of %v: %w", scopes, err)
	}
	return nil
}

// courseChanged is Changed for what a change of a course's row or roster
// alters: the course and the catalogue.
func (s *Store) courseChanged(ctx context.Context, q Querier, courseID int64) error {
	return s.Changed(ctx, q, CourseScope(courseID), CataloguesScope)
}

// postChanged is Changed for a post's change: its own document, the local
// course whose discussion shows it (courseIRI ends in /courses/SLUG; the
// host is not checked, so a remote course of the same slug only costs a
// needless refresh), and the counts when the post was written here.
func (s *Store) postChanged(ctx context.Context, q Querier, p Post) error {
	scopes := []Scope{PostScope(p.IRI)}
	// Inside DeferChanges the course is found when the batch flushes.
	if i := strings.LastIndex(p.CourseIRI, "/courses/"); i >= 0 && !(inTx(q) && deferCourseSlug(ctx, p.CourseIRI[i+len("/courses/"):])) {
		var id int64
		err := q.QueryRow(ctx, `SELECT id FROM courses WHERE slug = $1`, p.CourseIRI[i+len("/courses/"):]).Scan(&id)
		switch {
		case err == nil:
			scopes = append(scopes, CourseScope(id))
		case notFound(err) != ErrNotFound:
			return fmt.Errorf("course of post %s: %w", p.IRI, err)
		}
	}
	if p.Local {
		scopes = append(scopes, UsageScope)
	}
	if p.InReplyTo != "" { // the parent's replies collection
		scopes = append(scopes, RepliesScope(p.InReplyTo))
	}
	return s.Changed(ctx, q, scopes...)
}

// ParseChange splits a ChangeChannel payload into its token and scopes.
func ParseChange(payload string) (token string, scopes []Scope) {
	fields := strings.Fields(payload)
	if len(fields) == 0 {
		return "", nil
	}
	for _, f := range fields[1:] {
		scopes = append(scopes, Scope(strings.ReplaceAll(f, "%20", " ")))
	}
	return fields[0], scopes
}

func changeToken() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
