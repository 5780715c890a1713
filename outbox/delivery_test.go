package outbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/federation"
)

func TestPublishRolledBackStoresAndDeliversNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, nil)
	b.member(t, "https://a.test/users/ann", s.url("/users/ann/inbox"), "")
	o := b.start(t, nil)
	ctx := context.Background()

	a := b.activity(1)
	a.FollowersOf = b.courseID
	errRollback := errors.New("domain change failed")
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if err := o.Publish(ctx, tx, a); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("got %v", err)
	}
	var stored, jobs int
	if err := b.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox_activities), (SELECT count(*) FROM river_job)`).Scan(&stored, &jobs); err != nil {
		t.Fatal(err)
	}
	if stored != 0 || jobs != 0 {
		t.Fatalf("after rollback: %d activities, %d jobs stored", stored, jobs)
	}
	time.Sleep(300 * time.Millisecond)
	if n := s.requests.Load(); n != 0 {
		t.Fatalf("sink got %d requests", n)
	}
}

func TestPublishDeliversOncePerSharedInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keys := keyResolver{federation.MainKey(b.actorIRI): b.pub}
	one, two := newSink(t, keys, nil), newSink(t, keys, nil)
	b.member(t, "https://one.test/users/ann", one.url("/users/ann/inbox"), one.url("/inbox"))
	b.member(t, "https://one.test/users/bob", one.url("/users/bob/inbox"), one.url("/inbox"))
	b.member(t, "https://two.test/users/cat", two.url("/users/cat/inbox"), two.url("/inbox"))
	o := b.start(t, nil)

	// The explicit inbox repeats a member's shared inbox: still one delivery.
	a := b.activity(1, one.url("/inbox"))
	a.FollowersOf = b.courseID
	b.publish(t, o, a)
	b.publish(t, o, a) // the same id again: a no-op

	waitFor(t, 5*time.Second, "both deliveries", func() bool { return len(one.delivered())+len(two.delivered()) >= 2 })
	time.Sleep(200 * time.Millisecond) // room for a wrong extra delivery
	for name, s := range map[string]*sink{"one": one, "two": two} {
		got := s.delivered()
		if len(got) != 1 || s.requests.Load() != 1 {
			t.Fatalf("sink %s: %d deliveries in %d requests, want 1", name, len(got), s.requests.Load())
		}
		if got[0].Path != "/inbox" || got[0].Body != string(a.Body) || got[0].KeyID != federation.MainKey(b.actorIRI) {
			t.Errorf("sink %s got %+v", name, got[0])
		}
	}
	waitFor(t, 5*time.Second, "jobs completed", func() bool { return b.jobStates(t)["completed"] == 2 })
}

// Each case sends one activity to one inbox answering as told and checks
// how many requests it took, and what became of the delivery.
func TestDeliveryOutcomes(t *testing.T) {
	t.Parallel()
	statuses := func(codes ...int) func(int64, http.ResponseWriter) int {
		return func(n int64, _ http.ResponseWriter) int {
			if int(n) <= len(codes) {
				return codes[n-1]
			}
			return http.StatusAccepted
		}
	}
	tests := []struct {
		name      string
		respond   func(int64, http.ResponseWriter) int
		requests  int64
		delivered bool
		state     string
		gone      bool
		minWait   time.Duration // between first and last request
	}{
		{name: "5xx twice then accepted", respond: statuses(500, 503), requests: 3, delivered: true, state: "completed"},
		{name: "network error then accepted", respond: func(n int64, w http.ResponseWriter) int {
			if n == 1 {
				panic(http.ErrAbortHandler) // drops the connection
			}
			return http.StatusOK
		}, requests: 2, delivered: true, state: "completed"},
		{name: "400 is final", respond: statuses(400), requests: 1, state: "cancelled"},
		{name: "403 is final", respond: statuses(403), requests: 1, state: "cancelled"},
		{name: "401 twice then accepted", respond: statuses(401, 401), requests: 3, delivered: true, state: "completed"},
		{name: "408 then accepted", respond: statuses(408), requests: 2, delivered: true, state: "completed"},
		{name: "429 with Retry-After", respond: func(n int64, w http.ResponseWriter) int {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				return http.StatusTooManyRequests
			}
			return http.StatusAccepted
		}, requests: 2, delivered: true, state: "completed", minWait: time.Second},
		{name: "503 with Retry-After date", respond: func(n int64, w http.ResponseWriter) int {
			if n == 1 {
				w.Header().Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
				return http.StatusServiceUnavailable
			}
			return http.StatusAccepted
		}, requests: 2, delivered: true, state: "completed", minWait: time.Second},
		{name: "410 reports the inbox", respond: statuses(410), requests: 1, state: "cancelled", gone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, tt.respond)
			inbox := s.url("/users/ann/inbox")
			gone := make(chan string, 4)
			var first atomic.Int64 // UnixNano of the first request
			s2 := s.respond
			s.respond = func(n int64, w http.ResponseWriter) int {
				if n == 1 {
					first.Store(time.Now().UnixNano())
				}
				return s2(n, w)
			}
			o := b.start(t, func(c *Config) {
				c.GoneFunc = func(_ context.Context, inbox string) error { gone <- inbox; return nil }
			})
			b.publish(t, o, b.activity(1, inbox))

			waitFor(t, 10*time.Second, "the delivery to settle as "+tt.state, func() bool { return b.jobStates(t)[tt.state] == 1 })
			time.Sleep(150 * time.Millisecond) // room for a wrong extra attempt
			if n := s.requests.Load(); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			got := s.delivered()
			if tt.delivered != (len(got) == 1) {
				t.Errorf("delivered %d times, want delivered=%v", len(got), tt.delivered)
			}
			if tt.minWait > 0 && len(got) == 1 {
				if wait := got[0].At.Sub(time.Unix(0, first.Load())); wait < tt.minWait-50*time.Millisecond {
					t.Errorf("retried after %s, want at least %s", wait, tt.minWait)
				}
			}
			select {
			case g := <-gone:
				if !tt.gone || g != inbox {
					t.Errorf("GoneFunc(%q), want gone=%v", g, tt.gone)
				}
			default:
				if tt.gone {
					t.Error("GoneFunc not called")
				}
			}
		})
	}
}

func TestCircuitBreakerPausesFailingHost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, func(int64, http.ResponseWriter) int { return http.StatusBadGateway })
	const workers = 2
	o := b.start(t, func(c *Config) { c.Workers = workers })
	var inboxes []string
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		inboxes = append(inboxes, s.url("/users/"+name+"/inbox"))
	}
	b.publish(t, o, b.activity(1, inboxes...))

	host := s.srv.Listener.Addr().String()
	var until *time.Time
	waitFor(t, 10*time.Second, "the host to be paused", func() bool {
		err := b.pool.QueryRow(context.Background(), `SELECT paused_until FROM delivery_hosts WHERE host = $1`, host).Scan(&until)
		return err == nil && until != nil
	})
	if d := time.Until(*until); d < 30*time.Second || d > 2*time.Minute {
		t.Errorf("paused for %s, want about a minute", d)
	}
	paused := s.requests.Load()
	if paused < BreakerThreshold || paused > BreakerThreshold+workers {
		t.Errorf("%d requests before the pause, want %d (+ up to %d in flight)", paused, BreakerThreshold, workers)
	}
	// Fast retries keep coming due; none reaches the paused host.
	time.Sleep(time.Second)
	if n := s.requests.Load(); n != paused {
		t.Fatalf("paused host got %d more requests", n-paused)
	}
	// One job carries the host's six inboxes: it waits, with all six.
	if st := b.jobStates(t); st["scheduled"] != 1 || len(st) != 1 {
		t.Errorf("jobs %v, want the one job snoozed", st)
	}
	var left int
	if err := b.pool.QueryRow(context.Background(), `SELECT jsonb_array_length(args->'inboxes') FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set')`).Scan(&left); err != nil || left != len(inboxes) {
		t.Errorf("the waiting job carries %d inboxes (%v), want %d", left, err, len(inboxes))
	}
}

func TestBreakerCountsConsecutiveFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := newBreaker(b.pool)
	ctx := context.Background()
	const host = "peer.test"
	for i := 1; i < BreakerThreshold; i++ {
		if until, err := br.failure(ctx, host); err != nil || !until.IsZero() {
			t.Fatalf("failure %d: paused until %v, %v", i, until, err)
		}
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		until, err := br.failure(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(until); d < want-5*time.Second || d > want+5*time.Second {
			t.Errorf("failure %d: paused for %s, want %s", BreakerThreshold+i, d, want)
		}
	}
	// The cap.
	if _, err := b.pool.Exec(ctx, `UPDATE delivery_hosts SET failures = 1000 WHERE host = $1`, host); err != nil {
		t.Fatal(err)
	}
	until, err := br.failure(ctx, host)
	if err != nil || time.Until(until) > BreakerMaxPause || time.Until(until) < BreakerMaxPause-time.Minute {
		t.Fatalf("after 1001 failures paused until %v (%v), want %s", until, err, BreakerMaxPause)
	}
	if err := br.success(ctx, host); err != nil {
		t.Fatal(err)
	}
	var failures int
	var paused *time.Time
	if err := b.pool.QueryRow(ctx, `SELECT failures, paused_until FROM delivery_hosts WHERE host = $1`, host).Scan(&failures, &paused); err != nil {
		t.Fatal(err)
	}
	if failures != 0 || paused != nil {
		t.Fatalf("after a success: %d failures, paused until %v", failures, paused)
	}
}

// A delivery outlives the process: one that failed once before a stop, and
// one published while nothing ran, are both delivered by the next process.
func TestPendingDeliveriesSurviveRestart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var up atomicBool
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, func(int64, http.ResponseWriter) int {
		if up.Load() {
			return http.StatusAccepted
		}
		return http.StatusServiceUnavailable
	})
	slow := func(c *Config) { c.RetryDelayFunc = func(int) time.Duration { return 500 * time.Millisecond } }
	cfg := Config{Pool: b.pool, Keys: b.keys, Client: b.client}
	slow(&cfg)
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	b.publish(t, first, b.activity(1, s.url("/users/ann/inbox")))
	waitFor(t, 5*time.Second, "the first attempt", func() bool { return s.requests.Load() >= 1 })
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	b.publish(t, first, b.activity(2, s.url("/users/bob/inbox"))) // stored and queued, nobody working

	up.Store(true)
	b.start(t, slow)
	waitFor(t, 10*time.Second, "both deliveries after the restart", func() bool { return len(s.delivered()) == 2 })
}

// lateKeys is a receiving server's key cache that cannot fetch the
// sender's key until ready is set, as Mastodon cannot while the sender's
// actor is not yet reachable: it answers 401 meanwhile.
type lateKeys struct {
	keys  keyResolver
	ready *atomic.Bool
	tries *atomic.Int64
}

func (k lateKeys) ResolveKey(ctx context.Context, keyID string, refresh bool) (federation.PublicKey, error) {
	if k.tries.Add(1); !k.ready.Load() {
		return federation.PublicKey{}, errors.New("key fetch timed out")
	}
	return k.keys.ResolveKey(ctx, keyID, refresh)
}

// A receiver that verifies signatures and answers 401 while it cannot get
// the sender's key gets the delivery once it can.
func TestDelivery401WhileKeyUnavailableIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ready atomic.Bool
	var tries, delivered atomic.Int64
	v := &federation.Verifier{Keys: lateKeys{keys: keyResolver{federation.MainKey(b.actorIRI): b.pub}, ready: &ready, tries: &tries}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(r.Context(), r, body); err != nil {
			http.Error(w, "signature invalid", http.StatusUnauthorized)
			return
		}
		delivered.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	o := b.start(t, nil)
	b.publish(t, o, b.activity(1, srv.URL+"/users/ann/inbox"))

	waitFor(t, 10*time.Second, "two refused attempts", func() bool { return tries.Load() >= 2 })
	if st := b.jobStates(t); st["cancelled"] != 0 || st["discarded"] != 0 {
		t.Fatalf("delivery abandoned after a 401: %v", st)
	}
	ready.Store(true)
	waitFor(t, 10*time.Second, "the delivery to complete", func() bool { return b.jobStates(t)["completed"] == 1 })
	if n := delivered.Load(); n != 1 {
		t.Fatalf("delivered %d times, want 1", n)
	}
}

// One job carries three inboxes of one host; the one that fails is retried
// alone, and the two that took the delivery are not sent it again.
func TestDeliveryRetriesOnlyFailedInboxes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	perPath := map[string]int{}
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, nil)
	s.respond = func(_ int64, w http.ResponseWriter) int { return http.StatusAccepted }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		perPath[r.URL.Path]++
		n := perPath[r.URL.Path]
		mu.Unlock()
		if r.URL.Path == "/users/bob/inbox" && n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		s.serve(w, r)
	}))
	t.Cleanup(srv.Close)
	o := b.start(t, nil)
	inboxes := []string{srv.URL + "/users/ann/inbox", srv.URL + "/users/bob/inbox", srv.URL + "/users/cat/inbox"}
	b.publish(t, o, b.activity(1, inboxes...))

	waitFor(t, 10*time.Second, "all three delivered", func() bool { return len(s.delivered()) == 3 })
	waitFor(t, 10*time.Second, "both jobs completed", func() bool { return b.jobStates(t)["completed"] == 2 })
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"/users/ann/inbox": 1, "/users/bob/inbox": 2, "/users/cat/inbox": 1}
	for p, n := range want {
		if perPath[p] != n {
			t.Errorf("%s got %d requests, want %d (all: %v)", p, perPath[p], n, perPath)
		}
	}
	var jobs int
	if err := b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set') AND args->'inboxes' = $1::jsonb AND (args->>'failures')::int = 1`, `["`+inboxes[1]+`"]`).Scan(&jobs); err != nil || jobs != 1 {
		t.Errorf("continuation job for bob alone: %d (%v), want 1", jobs, err)
	}
}

// Finished delivery jobs are deleted by River's cleaner after the
// configured retention.
func TestFinishedDeliveriesPruned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, nil)
	o := b.start(t, func(c *Config) { c.CompletedRetention = time.Millisecond })
	b.publish(t, o, b.activity(1, s.url("/users/ann/inbox")))
	waitFor(t, 10*time.Second, "the delivery", func() bool { return len(s.delivered()) == 1 })
	// River's cleaner runs when this client becomes leader, then every 30 s.
	waitFor(t, 75*time.Second, "finished jobs pruned", func() bool {
		var n int
		b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job`).Scan(&n)
		return n == 0
	})
}

// One job carries three activities for two inboxes of one host. Bob's inbox
// fails the second: ann gets all three at once, bob the first; the second
// and third wait for bob in one continuation job and reach him in order,
// and nothing is sent twice.
func TestDeliveryOfSeveralActivitiesRetriesWhatFailed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var bobRequests atomic.Int64
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, nil)
	s.respond = func(_ int64, w http.ResponseWriter) int { return http.StatusAccepted }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/bob/inbox" && bobRequests.Add(1) == 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		s.serve(w, r)
	}))
	t.Cleanup(srv.Close)
	o := b.start(t, nil)
	inboxes := []string{srv.URL + "/users/ann/inbox", srv.URL + "/users/bob/inbox"}
	acts := b.publishSet(t, o, 3, inboxes...)
	waitFor(t, 10*time.Second, "six deliveries", func() bool { return len(s.delivered()) == 6 })
	waitFor(t, 10*time.Second, "both jobs completed", func() bool { return b.jobStates(t)["completed"] == 2 })
	time.Sleep(100 * time.Millisecond) // room for a wrong extra delivery
	got := map[string][]string{}
	for _, r := range s.delivered() {
		got[r.Path] = append(got[r.Path], r.Body)
	}
	want := []string{string(acts[0].Body), string(acts[1].Body), string(acts[2].Body)}
	for _, p := range []string{"/users/ann/inbox", "/users/bob/inbox"} {
		if !slices.Equal(got[p], want) {
			t.Errorf("%s received, in order:\n%q\nwant\n%q", p, got[p], want)
		}
	}
	if n := bobRequests.Load(); n != 4 {
		t.Errorf("bob's inbox got %d requests, want 4 (one, two refused, two, three)", n)
	}
	var jobs int
	err := b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'outbox_delivery_set'
		AND args->>'activity_id' = $1 AND args->'more' = $2::jsonb AND args->'inboxes' = $3::jsonb AND (args->>'failures')::int = 1`,
		acts[1].ID, `["`+acts[2].ID+`"]`, `["`+inboxes[1]+`"]`).Scan(&jobs)
	if err != nil || jobs != 1 {
		t.Errorf("continuation job of two and three for bob alone, of the kind old processes do not take: %d (%v), want 1", jobs, err)
	}
}

// An inbox that answers 410 Gone to the first of a job's activities is
// sent none of the others, and reported gone once; the other inbox of the
// job still gets all three.
func TestGoneInboxGetsNoMoreOfAJobsActivities(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var goneRequests atomic.Int64
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/gone/inbox" {
			goneRequests.Add(1)
			w.WriteHeader(http.StatusGone)
			return
		}
		s.serve(w, r)
	}))
	t.Cleanup(srv.Close)
	var reported atomic.Int64
	o := b.start(t, func(c *Config) {
		c.GoneFunc = func(context.Context, string) error { reported.Add(1); return nil }
	})
	inboxes := []string{srv.URL + "/users/gone/inbox", srv.URL + "/users/ann/inbox"}
	b.publishSet(t, o, 3, inboxes...)
	waitFor(t, 10*time.Second, "ann's three", func() bool { return len(s.delivered()) == 3 })
	waitFor(t, 10*time.Second, "the job completed", func() bool { return b.jobStates(t)["completed"] == 1 })
	time.Sleep(100 * time.Millisecond) // room for a wrong extra request
	if n, r := goneRequests.Load(), reported.Load(); n != 1 || r != 1 {
		t.Errorf("the gone inbox got %d requests and was reported %d times, want 1 and 1", n, r)
	}
}

// Two inboxes fail at different activities of one job: ann the first
// (three times), bob the second (once). Each still receives all three in
// order, and nothing twice.
func TestDeliveryOfSeveralActivitiesKeepsEachInboxInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	refusals := map[string]int{"/users/ann/inbox activities/0": 3, "/users/bob/inbox activities/1": 1}
	s := newSink(t, keyResolver{federation.MainKey(b.actorIRI): b.pub}, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		refuse := false
		for k, n := range refusals {
			path, activity, _ := strings.Cut(k, " ")
			if n > 0 && r.URL.Path == path && strings.Contains(string(body), activity+`"`) {
				refusals[k], refuse = n-1, true
			}
		}
		mu.Unlock()
		if refuse {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		s.serve(w, r)
	}))
	t.Cleanup(srv.Close)
	o := b.start(t, nil)
	inboxes := []string{srv.URL + "/users/ann/inbox", srv.URL + "/users/bob/inbox"}
	var want []string
	for _, a := range b.publishSet(t, o, 3, inboxes...) {
		want = append(want, string(a.Body))
	}
	waitFor(t, 20*time.Second, "six deliveries", func() bool { return len(s.delivered()) == 6 })
	time.Sleep(100 * time.Millisecond) // room for a wrong extra delivery
	got := map[string][]string{}
	for _, r := range s.delivered() {
		got[r.Path] = append(got[r.Path], r.Body)
	}
	for _, p := range []string{"/users/ann/inbox", "/users/bob/inbox"} {
		if !slices.Equal(got[p], want) {
			t.Errorf("%s received, in order:\n%q\nwant\n%q", p, got[p], want)
		}
	}
}

// publishSet publishes n activities to inboxes in one transaction, as the
// inbox's bulk apply does, so that they share a fan-out and its delivery
// jobs, and returns them.
func (b *bundle) publishSet(t testing.TB, o *Outbox, n int, inboxes ...string) []Activity {
	t.Helper()
	ctx := context.Background()
	var acts []Activity
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		ctx := DeferFanouts(ctx)
		for i := range n {
			acts = append(acts, b.activity(i, inboxes...))
			if err := o.Publish(ctx, tx, acts[i]); err != nil {
				return err
			}
		}
		return o.FlushFanouts(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	return acts
}
