package inbox

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/outbox"
)

// panickyFetcher serves calm's actor document and panics for any other.
type panickyFetcher struct{ calm string }

func (f panickyFetcher) Actor(_ context.Context, iri string, _ bool) (federation.RemoteActor, error) {
	if iri != f.calm {
		panic("fetcher bug for " + iri)
	}
	return federation.RemoteActor{IRI: iri, Type: "Person", PreferredUsername: "calm", Inbox: iri + "/inbox"}, nil
}

func (f panickyFetcher) Object(_ context.Context, iri string) ([]byte, error) {
	panic("fetcher bug for " + iri)
}

// TestPanicsDropTheActivityNotTheProcess: a panic while fetching for an
// activity, and one while applying it (here the Accept of a Follow, sent
// through a Sender with no outbox), each fail that activity for good and
// leave the processor applying the next ones. Without the recovery the
// panic ends the test binary.
func TestPanicsDropTheActivityNotTheProcess(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, urls, store, course := panicCourse(t)
	courseIRI := urls.Course("calm")
	calm, boom := "https://peer.example/users/calm", "https://peer.example/users/boom"
	activities := []struct{ id, actor, typ, body string }{
		{"https://peer.example/a/1", boom, "Follow", `{"id":"https://peer.example/a/1","type":"Follow","actor":"` + boom + `","object":"` + courseIRI + `"}`},
		{"https://peer.example/a/2", calm, "Follow", `{"id":"https://peer.example/a/2","type":"Follow","actor":"` + calm + `","object":"` + courseIRI + `"}`},
		{"https://peer.example/a/3", calm, "Like", `{"id":"https://peer.example/a/3","type":"Like","actor":"` + calm + `","object":"https://peer.example/notes/1"}`},
	}
	for _, a := range activities {
		if _, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, recipient, body) VALUES ($1, $2, $3, $4, $5)`,
			a.id, a.actor, a.typ, courseIRI, a.body); err != nil {
			t.Fatal(err)
		}
	}
	p := &Processor{Pool: pool, Courses: store, Fetcher: panickyFetcher{calm: calm}, Sender: &outbox.Sender{URLs: urls},
		URLs: urls, Retention: -1, PollInterval: 10 * time.Millisecond}
	outcome := processUntilDone(t, p, pool, len(activities))
	if msg := outcome["https://peer.example/a/1"]; !strings.Contains(msg, "fetching "+boom+" panicked") {
		t.Errorf("the Follow whose fetch panicked recorded %q", msg)
	}
	if msg := outcome["https://peer.example/a/2"]; !strings.Contains(msg, "applying it panicked") {
		t.Errorf("the Follow whose Accept panicked recorded %q", msg)
	}
	if msg := outcome["https://peer.example/a/3"]; msg != "" {
		t.Errorf("the Like after them recorded %q, want it applied", msg)
	}
	if m, err := store.MemberOf(ctx, pool, course.ID, calm); err == nil {
		t.Errorf("the Follow whose Accept panicked left a member row: %+v", m)
	}
}

// calmFetcher serves every actor's document.
type calmFetcher struct{}

func (calmFetcher) Actor(_ context.Context, iri string, _ bool) (federation.RemoteActor, error) {
	return federation.RemoteActor{IRI: iri, Type: "Person", PreferredUsername: "calm", Inbox: iri + "/inbox"}, nil
}

func (calmFetcher) Object(_ context.Context, iri string) ([]byte, error) {
	return nil, federation.ErrGone
}

// TestPanicInBulkCreatesDropsOnlyThem: a panic while the bulk path stores
// and announces a set of Creates (here announcing them through a Sender
// with no outbox) rolls the set back, and each Create then fails for good
// on its own, its panic recovered as any other; the Like after them is
// applied. Without the bulk path's recovery the panic ends the test binary.
func TestPanicInBulkCreatesDropsOnlyThem(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, urls, _, course := panicCourse(t)
	courseIRI := urls.Course("calm")
	ada := "https://peer.example/users/ada"
	if _, err := pool.Exec(ctx, `INSERT INTO course_members (course_id, actor_iri, name, handle, inbox, shared_inbox, state, via)
		VALUES ($1, $2, 'ada', 'ada', $2 || '/inbox', '', 'accepted', 'follow')`, course.ID, ada); err != nil {
		t.Fatal(err)
	}
	create := func(n int) string {
		return fmt.Sprintf(`{"id":"https://peer.example/a/%d","type":"Create","actor":"%s","to":["https://www.w3.org/ns/activitystreams#Public","%s"],
			"object":{"id":"https://peer.example/notes/%d","type":"Note","attributedTo":"%s","content":"<p>hello</p>","published":"2026-02-01T00:00:00Z",
			"to":["https://www.w3.org/ns/activitystreams#Public","%s"]}}`, n, ada, courseIRI, n, ada, courseIRI)
	}
	activities := []struct{ id, typ, body string }{
		{"https://peer.example/a/1", "Create", create(1)},
		{"https://peer.example/a/2", "Create", create(2)},
		{"https://peer.example/a/3", "Like", `{"id":"https://peer.example/a/3","type":"Like","actor":"` + ada + `","object":"https://peer.example/notes/9"}`},
	}
	for _, a := range activities {
		if _, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, recipient, body) VALUES ($1, $2, $3, $4, $5)`,
			a.id, ada, a.typ, courseIRI, a.body); err != nil {
			t.Fatal(err)
		}
	}
	tracer := &bulkTracer{}
	cfg := pool.Config()
	cfg.ConnConfig.Tracer = tracer
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(traced.Close)
	p := &Processor{Pool: traced, Courses: courses.NewStore(traced), Fetcher: calmFetcher{}, Sender: &outbox.Sender{URLs: urls},
		URLs: urls, Retention: -1, PollInterval: 10 * time.Millisecond}
	outcome := processUntilDone(t, p, pool, len(activities))
	if tracer.bulk.Load() == 0 {
		t.Fatal("the bulk path was never taken; the test tests nothing")
	}
	for _, id := range []string{"https://peer.example/a/1", "https://peer.example/a/2"} {
		if msg := outcome[id]; !strings.Contains(msg, "applying it panicked") {
			t.Errorf("the Create %s recorded %q", id, msg)
		}
	}
	if msg := outcome["https://peer.example/a/3"]; msg != "" {
		t.Errorf("the Like after them recorded %q, want it applied", msg)
	}
	var posts int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM posts`).Scan(&posts); err != nil {
		t.Fatal(err)
	}
	if posts != 0 {
		t.Errorf("%d posts stored by Creates that failed", posts)
	}
}

// panicCourse makes a fresh database holding olga's course "calm".
func panicCourse(t *testing.T) (*pgxpool.Pool, federation.URLs, *courses.Store, courses.Course) {
	t.Helper()
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	urls := federation.URLs{Scheme: "http", Host: "learn.example"}
	if err := federation.NewKeyStore(pool).EnsureInstanceKeys(ctx); err != nil {
		t.Fatal(err)
	}
	store := courses.NewStore(pool)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	owner, err := store.CreateUser(ctx, tx, courses.NewUser{Username: "olga", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	course, err := store.CreateCourse(ctx, tx, owner, urls.User("olga"), courses.CourseDraft{Slug: "calm", Title: "Calm"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return pool, urls, store, course
}

// processUntilDone runs p until n activities are processed and returns
// each one's recorded error by id ("" when it was applied).
func processUntilDone(t *testing.T, p *Processor, pool *pgxpool.Pool, n int) map[string]string {
	t.Helper()
	ctx := t.Context()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	outcome := map[string]string{}
	for deadline := time.Now().Add(20 * time.Second); len(outcome) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("not all applied within 20 s: %v", outcome)
		}
		time.Sleep(20 * time.Millisecond)
		rows, err := pool.Query(ctx, `SELECT activity_id, error FROM inbox_activities WHERE processed_at IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, msg string
			if err := rows.Scan(&id, &msg); err != nil {
				t.Fatal(err)
			}
			outcome[id] = msg
		}
		rows.Close()
	}
	return outcome
}
