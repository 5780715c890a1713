package main

// A `colearn serve` process killed with SIGKILL in the middle of a fan-out
// to many inboxes, then started again, delivers every remaining activity.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/outbox"
)

// crashSink is a set of personal inboxes on one loopback server that
// verify each delivery's signature and record which inboxes got what.
type crashSink struct {
	srv      *httptest.Server
	verifier *federation.Verifier
	delay    time.Duration

	mu   sync.Mutex
	got  map[string]int // inbox path → deliveries of the activity
	bad  int
	seen int
}

func (s *crashSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_, err := s.verifier.Verify(r.Context(), r, body)
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	s.got[r.URL.Path]++
	s.seen++
	w.WriteHeader(http.StatusAccepted)
}

func (s *crashSink) counts() (distinct, total, bad int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got), s.seen, s.bad
}

// crashKeys serves the course's key to the sinks' verifier.
type crashKeys struct{ key federation.PublicKey }

func (k crashKeys) ResolveKey(context.Context, string, bool) (federation.PublicKey, error) {
	return k.key, nil
}

// deliveryBundle is a database holding a course owned by olga, with actions
// that publish into it but deliver nothing: a colearn process under test
// does the delivering.
type deliveryBundle struct {
	dbURL    string
	pool     *pgxpool.Pool
	store    *courses.Store
	actions  *outbox.Actions
	olga     courses.User
	course   courses.Course
	verifier *federation.Verifier // checks the course's signatures
}

func newDeliveryBundle(t *testing.T, urls federation.URLs, slug string) *deliveryBundle {
	t.Helper()
	ctx := t.Context()
	b := &deliveryBundle{dbURL: pgtest.NewDatabase(t)}
	pool, err := pgxpool.New(ctx, b.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	b.pool = pool
	keys := federation.NewKeyStore(pool)
	b.store = courses.NewStore(pool)
	if _, err := createAccount(ctx, pool, keys, courses.NewUser{Username: "olga", Password: "a long enough password"}, b.store.CreateUser); err != nil {
		t.Fatal(err)
	}
	b.olga, _ = b.store.UserByUsername(ctx, "olga")
	ob, err := outbox.New(outbox.Config{Pool: pool, Keys: keys, Client: federation.NewClient(federation.ClientConfig{AllowPrivate: true}),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b.actions = &outbox.Actions{Pool: pool, Courses: b.store, Keys: keys, Sender: &outbox.Sender{Outbox: ob, URLs: urls}}
	if b.course, err = b.actions.CreateCourse(ctx, b.olga, courses.CourseDraft{Slug: slug, Title: slug}); err != nil {
		t.Fatal(err)
	}
	kp, err := keys.Get(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := urls.Course(slug)
	b.verifier = &federation.Verifier{Keys: crashKeys{federation.PublicKey{ID: federation.MainKey(courseIRI), Owner: courseIRI, Key: &kp.RSA.PublicKey}}}
	return b
}

func TestServeKilledMidFanOutDeliversEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts colearn serve processes; skipped with -short")
	}
	t.Parallel()
	ctx := t.Context()
	bin := buildColearn(t)
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	urls := federation.URLs{Scheme: "http", Host: addr}
	// The course and its members are made directly in the database the
	// server uses; the post is published there too, so the only thing the
	// server does is deliver.
	b := newDeliveryBundle(t, urls, "crash")
	store, course, verifier, actions, olga, dbURL := b.store, b.course, b.verifier, b.actions, b.olga, b.dbURL
	pool := b.pool

	const servers, perServer = 10, 60
	var sinks []*crashSink
	for i := range servers {
		s := &crashSink{verifier: verifier, delay: 40 * time.Millisecond, got: map[string]int{}}
		s.srv = httptest.NewServer(s)
		t.Cleanup(s.srv.Close)
		sinks = append(sinks, s)
		for j := range perServer {
			actor := fmt.Sprintf("%s/users/u%d", s.srv.URL, j)
			if _, err := store.Enroll(ctx, pool, course, courses.Member{
				ActorIRI: actor, Handle: fmt.Sprintf("@u%d@%d", j, i), Inbox: actor + "/inbox", Via: "follow",
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := func() (distinct, all, bad int) {
		for _, s := range sinks {
			d, a, b := s.counts()
			distinct, all, bad = distinct+d, all+a, bad+b
		}
		return
	}

	env := append(e2eEnv(), "DATABASE_URL="+dbURL)
	args := []string{"serve", "--dev", "--listen", addr, "--host", addr, "--data", t.TempDir(), "--log-level", "warn"}
	first := startServeWith(t, bin, addr, env, args...)
	if _, err := actions.Announce(ctx, olga, course, "Everyone gets this, crash or not"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fan-out under way", 30*time.Second, func() (bool, error) {
		d, _, _ := total()
		return d >= servers*perServer/10, nil
	})
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	atKill, _, _ := total()
	if atKill >= servers*perServer {
		t.Fatalf("all %d inboxes were served before the kill; the test proves nothing", atKill)
	}
	t.Logf("killed serve after %d of %d inboxes", atKill, servers*perServer)

	startServeWith(t, bin, addr, env, args...)
	// Jobs that were running at the kill are rescued after River's
	// stuck-job timeout; everything else resumes at once.
	eventually(t, "every inbox served", 240*time.Second, func() (bool, error) {
		d, _, _ := total()
		return d == servers*perServer, nil
	})
	d, all, bad := total()
	if bad != 0 {
		t.Errorf("%d deliveries failed signature verification", bad)
	}
	t.Logf("%d inboxes served with %d deliveries (%d repeated after the crash; receivers dedupe by activity id)", d, all, all-d)
}

// colearn worker delivers what was published without serving HTTP.
func TestWorkerDelivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a colearn worker process; skipped with -short")
	}
	t.Parallel()
	ctx := t.Context()
	bin := buildColearn(t)
	urls := federation.URLs{Scheme: "http", Host: "127.0.0.1:9"}
	b := newDeliveryBundle(t, urls, "w")
	store, course, actions, olga, dbURL, pool := b.store, b.course, b.actions, b.olga, b.dbURL, b.pool
	sink := &crashSink{got: map[string]int{}, verifier: b.verifier}
	sink.srv = httptest.NewServer(sink)
	t.Cleanup(sink.srv.Close)
	if _, err := store.Enroll(ctx, pool, course, courses.Member{ActorIRI: sink.srv.URL + "/users/x", Inbox: sink.srv.URL + "/users/x/inbox", Via: "follow"}); err != nil {
		t.Fatal(err)
	}
	if _, err := actions.Announce(ctx, olga, course, "Delivered by a worker"); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "worker", "--dev", "--host", urls.Host, "--data", t.TempDir(), "--log-level", "warn")
	cmd.Env = append(e2eEnv(), "DATABASE_URL="+dbURL)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	eventually(t, "the worker's delivery", 30*time.Second, func() (bool, error) {
		d, _, _ := sink.counts()
		return d == 1, nil
	})
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("worker exited with %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("worker did not stop on SIGTERM\n%s", out.String())
	}
}
