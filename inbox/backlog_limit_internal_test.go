package inbox

import (
	"context"
	"testing"
	"time"

	"github.com/colearn/colearn/internal/pgtest"
)

// testLimit is a backlogLimit of bound 100 on a clock the test moves, whose
// backlog the test sets (no read replaces it).
func testLimit() (b *backlogLimit, at func(n int64), clock *time.Time) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock = &t0
	b = newBacklogLimit(100, func(context.Context) (int64, error) { select {} })
	b.now = func() time.Time { return *clock }
	b.started = *clock
	at = func(n int64) {
		b.length.Store(n)
		b.sinceRead.Store(0)
		b.readAt.Store(clock.Add(time.Hour).UnixNano())
	}
	return b, at, clock
}

func statusOf(a *busyAnswer) int {
	if a == nil {
		return 202
	}
	return a.status
}

// TestBacklogLimitRefusesTheHeaviestSendersFirst: under the bound nobody is
// refused; past it, the senders that sent an equal share or more get 429,
// while one that sent less (or nothing yet) gets in; past twice the bound,
// everyone gets 503. Deletes and Undos are let in throughout.
func TestBacklogLimitRefusesTheHeaviestSendersFirst(t *testing.T) {
	b, at, _ := testLimit()
	for range 90 {
		b.accepted("https://flood.example/users/a")
	}
	for range 5 {
		b.accepted("https://small.example/users/b")
	}
	b.accepted("https://tiny.example/users/c")

	check := func(backlog int64, want map[string]int) {
		t.Helper()
		at(backlog)
		for actor, status := range want {
			typ := "Create"
			if actor == "https://flood.example/users/undo" {
				typ = "Undo"
			}
			a := b.busy(actor, typ)
			if statusOf(a) != status {
				t.Errorf("backlog %d, %s %s: %d, want %d", backlog, typ, actor, statusOf(a), status)
			}
			if a != nil && a.retryAfter == "" {
				t.Errorf("backlog %d, %s: no Retry-After", backlog, actor)
			}
		}
	}
	check(99, map[string]int{"https://flood.example/users/a": 202, "https://small.example/users/b": 202, "https://new.example/users/d": 202})
	check(100, map[string]int{"https://flood.example/users/a": 429, "https://small.example/users/b": 202,
		"https://tiny.example/users/c": 202, "https://new.example/users/d": 202, "https://flood.example/users/undo": 202})
	check(200, map[string]int{"https://flood.example/users/a": 503, "https://small.example/users/b": 503,
		"https://new.example/users/d": 503, "https://flood.example/users/undo": 202})

	// A lone sender is its own equal share: refused past the bound.
	lone, at2, _ := testLimit()
	lone.accepted("https://only.example/users/a")
	at2(150)
	if statusOf(lone.busy("https://only.example/users/a", "Create")) != 429 {
		t.Error("the only sender let in past the bound")
	}
	// No limit refuses nothing.
	var none *backlogLimit
	if none.busy("https://flood.example/users/a", "Create") != nil {
		t.Error("refused without a limit")
	}
}

// TestBacklogLimitCountsRegistrableDomains: the subdomains and ports of
// one domain are one sender, so a flood cannot pass for many small ones;
// loopback peers (tests, development) are told apart by port.
func TestBacklogLimitCountsRegistrableDomains(t *testing.T) {
	b, at, _ := testLimit()
	for i := range 50 {
		b.accepted("https://n" + string(rune('a'+i%26)) + ".flood.example:8443/users/a")
	}
	b.accepted("https://other.example/users/b")
	at(100)
	if statusOf(b.busy("https://fresh.flood.example/users/z", "Create")) != 429 {
		t.Error("a new subdomain of the flooding domain let in as a new sender")
	}
	if statusOf(b.busy("https://other.example/users/b", "Create")) != 202 {
		t.Error("the quiet sender refused")
	}
	for iri, want := range map[string]string{
		"https://a.b.example.co.uk/users/x": "example.co.uk",
		"https://Flood.Example:8443/u":      "flood.example",
		"http://203.0.113.7:8080/u":         "203.0.113.7",
		"http://127.0.0.1:4001/u":           "127.0.0.1:4001",
	} {
		if got := senderOf(iri); got != want {
			t.Errorf("senderOf(%s) = %s, want %s", iri, got, want)
		}
	}
}

// TestBacklogLimitSharesAreRecent: a sender's share is what it sent over
// the last 5 to 10 s; after that it counts as a new sender again.
func TestBacklogLimitSharesAreRecent(t *testing.T) {
	b, at, clock := testLimit()
	for range 10 {
		b.accepted("https://flood.example/users/a")
	}
	b.accepted("https://quiet.example/users/b")
	at(100)
	if statusOf(b.busy("https://flood.example/users/a", "Create")) != 429 {
		t.Fatal("the flood let in")
	}
	*clock = clock.Add(6 * time.Second) // one window on: still counted
	b.accepted("https://quiet.example/users/b")
	if statusOf(b.busy("https://flood.example/users/a", "Create")) != 429 {
		t.Error("the flood let in one window later")
	}
	*clock = clock.Add(5 * time.Second) // its window is over, quiet's is not
	if statusOf(b.busy("https://flood.example/users/a", "Create")) != 202 {
		t.Error("the flood still refused after its window ended")
	}
	if statusOf(b.busy("https://quiet.example/users/b", "Create")) != 429 {
		t.Error("quiet, now the only recent sender, let in")
	}
	if b.total != 1 || len(b.both) != 1 {
		t.Errorf("total %d over %d senders, want 1 over 1", b.total, len(b.both))
	}
	*clock = clock.Add(time.Minute)
	if statusOf(b.busy("https://x.example/u", "Create")) != 202 {
		t.Error("with nobody sending lately, a sender refused past the bound")
	}
	if b.total != 0 || len(b.both) != 0 {
		t.Errorf("after a quiet minute: total %d over %d senders, want none", b.total, len(b.both))
	}
}

// TestBacklogLimitReadsInTheBackground: a request never waits for the
// backlog's read, one read runs at a time, and what was accepted since the
// read began is added to what it found.
func TestBacklogLimitReadsInTheBackground(t *testing.T) {
	answer := make(chan int64)
	reads := make(chan struct{}, 10)
	b := newBacklogLimit(10, func(context.Context) (int64, error) {
		reads <- struct{}{}
		return <-answer, nil
	})
	t0 := time.Now()
	b.now = func() time.Time { return t0 }
	if n := b.current(); n != 0 {
		t.Fatalf("before any read: %d", n)
	}
	<-reads // the read runs, blocked, while current has returned
	t0 = t0.Add(time.Second)
	b.accepted("https://a.example/u")
	b.accepted("https://a.example/u")
	if n := b.current(); n != 2 {
		t.Errorf("while the read is blocked: %d, want the 2 accepted since", n)
	}
	select {
	case <-reads:
		t.Fatal("a second read started while the first was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	answer <- 25
	deadline := time.Now().Add(5 * time.Second)
	for b.length.Load() != 25 || b.reading.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the read never finished")
		}
		time.Sleep(time.Millisecond)
	}
	// The two were accepted after the first read began: they stay added
	// until a read that began after them has finished.
	if n := b.current(); n != 27 {
		t.Errorf("after the read: %d, want 25 + 2", n)
	}
	<-reads // that current started the next read (a second had passed)
	if n := b.current(); n != 27 {
		t.Errorf("while the next read runs: %d, want 25 + 2", n)
	}
	answer <- 27
	for b.reading.Load() {
		time.Sleep(time.Millisecond)
	}
	if n := b.current(); n != 27 {
		t.Errorf("after a read that saw them: %d, want 27", n)
	}
}

// TestReadyLeavesOutWhatWaits: the backlog the bound counts is the pending
// activities less those waiting for a retry or their host's turn, so that
// activities a peer makes fail on purpose (retried for hours) do not keep
// the inbox refusing everyone else; one whose wait is over counts again.
func TestReadyLeavesOutWhatWaits(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	p := &Processor{Pool: pool}
	if _, err := pool.Exec(ctx, `
		INSERT INTO inbox_activities (activity_id, actor_iri, type, body)
		SELECT 'https://liar.example/a/' || g, 'https://liar.example/users/u', 'Create', '{}' FROM generate_series(1, 10) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		UPDATE inbox_activities SET attempts = 1, next_attempt_at = now() + interval '1 hour' WHERE activity_id LIKE '%/a/1_' OR activity_id LIKE '%/a/2';
		UPDATE inbox_activities SET held = true, next_attempt_at = now() + interval '2 seconds' WHERE activity_id LIKE '%/a/3';
		UPDATE inbox_activities SET attempts = 1, next_attempt_at = now() - interval '1 second' WHERE activity_id LIKE '%/a/4';
		UPDATE inbox_activities SET processed_at = now(), next_attempt_at = now() + interval '1 hour' WHERE activity_id LIKE '%/a/5'`); err != nil {
		t.Fatal(err)
	}
	pending, err := p.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ready, err := p.Ready(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 9 pending (5 applied); 10 and 2 wait for a retry, 3 for its host; 4's
	// wait is over.
	if pending != 9 || ready != 6 {
		t.Errorf("pending %d, ready %d; want 9 and 6", pending, ready)
	}
}
