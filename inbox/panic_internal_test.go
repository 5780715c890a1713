package inbox

import (
	"context"
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
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	urls := federation.URLs{Scheme: "http", Host: "learn.example"}
	keys := federation.NewKeyStore(pool)
	if err := keys.EnsureInstanceKeys(ctx); err != nil {
		t.Fatal(err)
	}
	store := courses.NewStore(pool)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
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
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	outcome := map[string]string{}
	for deadline := time.Now().Add(20 * time.Second); len(outcome) < len(activities); {
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
