package outbox

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// bundle is one test's world: a migrated database holding a course whose
// actor signs, and the pieces an Outbox needs.
type bundle struct {
	pool     *pgxpool.Pool
	keys     *federation.KeyStore
	client   *federation.Client
	courseID int64
	actorIRI string // the course actor, keyId actorIRI#main-key
	pub      *rsa.PublicKey
}

func setup(t testing.TB) *bundle {
	t.Helper()
	return setupOn(t, pgtest.NewPool(t))
}

// setupOn is setup on a migrated database of the caller's.
func setupOn(t testing.TB, pool *pgxpool.Pool) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{
		pool:     pool,
		client:   federation.NewClient(federation.ClientConfig{AllowPrivate: true, Timeout: 5 * time.Second}),
		actorIRI: "https://learn.test/courses/intro",
	}
	b.keys = federation.NewKeyStore(b.pool)
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		var userID int64
		if _, err := tx.Exec(ctx, `INSERT INTO handles (name, kind) VALUES ('alice', 'user'), ('intro', 'course')`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO users (username, password_hash) VALUES ('alice', 'x') RETURNING id`).Scan(&userID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO courses (slug, owner_id, title) VALUES ('intro', $1, 'Intro') RETURNING id`, userID).Scan(&b.courseID); err != nil {
			return err
		}
		kp, err := b.keys.Create(ctx, tx, "intro")
		b.pub = &kp.RSA.PublicKey
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// member makes a remote actor an accepted member of the course.
func (b *bundle) member(t testing.TB, actor, inbox, shared string) {
	t.Helper()
	_, err := b.pool.Exec(context.Background(), `
		INSERT INTO course_members (course_id, actor_iri, inbox, shared_inbox, state, via)
		VALUES ($1, $2, $3, $4, 'accepted', 'follow')`, b.courseID, actor, inbox, shared)
	if err != nil {
		t.Fatal(err)
	}
}

// start runs an Outbox on b's database, stopped when the test ends.
func (b *bundle) start(t testing.TB, edit func(*Config)) *Outbox {
	t.Helper()
	cfg := Config{Pool: b.pool, Keys: b.keys, Client: b.client, RetryDelayFunc: func(int) time.Duration { return 10 * time.Millisecond },
		PollInterval: 20 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o.Stop(ctx)
	})
	return o
}

// activity returns a Create by the course actor, numbered n.
func (b *bundle) activity(n int, inboxes ...string) Activity {
	id := fmt.Sprintf("%s/activities/%d", b.actorIRI, n)
	body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create","actor":%q,"object":{"type":"Note","content":"hello %d"}}`, id, b.actorIRI, n)
	return Activity{ID: id, Type: "Create", ActorIRI: b.actorIRI, KeyOwner: "intro", Body: []byte(body), Public: true, Inboxes: inboxes}
}

// publish publishes a in a transaction of its own and commits it.
func (b *bundle) publish(t testing.TB, o *Outbox, a Activity) {
	t.Helper()
	ctx := context.Background()
	if err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return o.Publish(ctx, tx, a) }); err != nil {
		t.Fatal(err)
	}
}

// jobStates counts delivery jobs by River state.
func (b *bundle) jobStates(t testing.TB) map[string]int {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT state::text, count(*)::int FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set') GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		m[s] = n
	}
	return m
}

type keyResolver map[string]*rsa.PublicKey

func (k keyResolver) ResolveKey(_ context.Context, keyID string, _ bool) (federation.PublicKey, error) {
	if key, ok := k[keyID]; ok {
		return federation.PublicKey{ID: keyID, Key: key}, nil
	}
	return federation.PublicKey{}, fmt.Errorf("unknown key %s", keyID)
}

// received is one POST a sink got.
type received struct {
	Path  string
	Body  string
	KeyID string
	At    time.Time
}

// sink is a remote server's inbox on loopback. It verifies every request's
// signature (a bad one is a test failure and a 401) and answers as respond
// says for the n-th request (1-based); the default is 202.
type sink struct {
	t        testing.TB
	srv      *httptest.Server
	verifier *federation.Verifier
	respond  func(n int64, w http.ResponseWriter) int
	requests atomic.Int64

	mu  sync.Mutex
	got []received
}

func newSink(t testing.TB, keys keyResolver, respond func(n int64, w http.ResponseWriter) int) *sink {
	s := &sink{t: t, respond: respond}
	if keys != nil {
		s.verifier = &federation.Verifier{Keys: keys}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var keyID string
	if s.verifier != nil {
		key, err := s.verifier.Verify(r.Context(), r, body)
		if err != nil {
			s.t.Errorf("sink %s: %v", r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		keyID = key.ID
	}
	status := http.StatusAccepted
	if s.respond != nil {
		status = s.respond(n, w)
	}
	if status/100 == 2 {
		s.mu.Lock()
		s.got = append(s.got, received{Path: r.URL.Path, Body: string(body), KeyID: keyID, At: time.Now()})
		s.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (s *sink) delivered() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func (s *sink) url(path string) string { return s.srv.URL + path }

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
