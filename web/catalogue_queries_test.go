package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/web"
)

// queryCounter is a pgx tracer that counts the queries a pool sends.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestCatalogueQueriesAreBounded renders the catalogue, anonymously and for
// a signed-in learner with remote enrollments, first with a few courses and
// enrollments and then with hundreds, and counts the queries each GET
// sends: the same bounded few whatever the numbers (no count per course,
// no lookup per enrollment), and no fetch of any enrolled course, even of
// one this instance has never stored.
func TestCatalogueQueriesAreBounded(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := &queryCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	b := setupOn(t, web.Throttle{}, pool)
	peer := peertest.Start(t)
	learner := b.signedIn("lena", false)
	anon := b.client()
	owner := b.createUser(courses.NewUser{Username: "olga", Password: goodPassword})
	lena := b.count(`SELECT id FROM users WHERE username = 'lena'`)
	pem := peertest.PublicKeyPEM(&peer.NewActor("keyholder").Key.PublicKey)

	var courseCount, enrollCount int
	grow := func(courseTo, enrollTo int) {
		t.Helper()
		err := pgx.BeginFunc(b.ctx, pool, func(tx pgx.Tx) error {
			for ; courseCount < courseTo; courseCount++ {
				slug := fmt.Sprintf("c%d", courseCount)
				c, err := b.store.CreateCourse(b.ctx, tx, owner, b.urls.User("olga"), courses.CourseDraft{Slug: slug, Title: "Course " + slug})
				if err != nil {
					return err
				}
				if _, err := tx.Exec(b.ctx, `
					INSERT INTO course_members (course_id, actor_iri, role, state, via)
					SELECT $1, 'https://m.example/users/u' || g, 'learner', 'accepted', 'follow'
					FROM generate_series(1, 3) g`, c.ID); err != nil {
					return err
				}
			}
			for ; enrollCount < enrollTo; enrollCount++ {
				// Every other enrolled course is stored; the rest are on
				// the peer, which must never be asked for them.
				iri := fmt.Sprintf("%s/courses/r%d", peer.URL, enrollCount)
				if _, err := tx.Exec(b.ctx, `INSERT INTO remote_enrollments (user_id, course_iri, state, request_id)
					VALUES ($1, $2, 'accepted', $2 || '#join')`, lena, iri); err != nil {
					return err
				}
				if enrollCount%2 == 0 {
					doc := fmt.Sprintf(`{"id":%q,"type":"Group","preferredUsername":"r%d","name":"Remote %d","inbox":%q,
						"publicKey":{"id":%q,"owner":%q,"publicKeyPem":%q}}`, iri, enrollCount, enrollCount, iri+"/inbox", iri+"#main-key", iri, pem)
					if _, err := tx.Exec(b.ctx, `INSERT INTO remote_actors (iri, key_id, public_key_pem, inbox, host, document)
						VALUES ($1, $1 || '#main-key', '', $1 || '/inbox', $3, $2)`, iri, doc, peer.Host); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	queries := func(c *http.Client, want string) int64 {
		t.Helper()
		before := counter.n.Load()
		r := b.get(c, "/courses")
		n := counter.n.Load() - before
		if r.status != http.StatusOK || !strings.Contains(r.body, want) {
			t.Fatalf("catalogue: status %d, body lacks %q", r.status, want)
		}
		return n
	}

	grow(3, 2)
	anonSmall, learnerSmall := queries(anon, "Course c2"), queries(learner, "Remote 0")
	grow(300, 120)
	anonLarge, learnerLarge := queries(anon, "Course c299"), queries(learner, "Remote 118")
	t.Logf("queries per catalogue GET: anonymous %d → %d, signed in %d → %d (3 → 300 courses, 2 → 120 enrollments)",
		anonSmall, anonLarge, learnerSmall, learnerLarge)
	if anonLarge != anonSmall || learnerLarge != learnerSmall {
		t.Errorf("the catalogue's queries grow with its size: anonymous %d → %d, signed in %d → %d",
			anonSmall, anonLarge, learnerSmall, learnerLarge)
	}
	const bound = 8
	if anonLarge > bound || learnerLarge > bound {
		t.Errorf("a catalogue GET sends %d (anonymous) and %d (signed in) queries, want at most %d", anonLarge, learnerLarge, bound)
	}
	for i := 1; i < enrollCount; i += 2 {
		if n := peer.Hits(fmt.Sprintf("/courses/r%d", i)); n != 0 {
			t.Fatalf("the catalogue fetched an enrolled course %d times", n)
		}
	}
}
