package inbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/colearn/colearn/internal/pgtest"
)

// testLimit is a backlogLimit of bound 100 on a clock the test moves, whose
// backlog the test sets (no read replaces it).
func testLimit() (b *backlogLimit, at func(n int64), clock *time.Time) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock = &t0
	b = newBacklogLimit(100, func(ctx context.Context) (int64, error) { <-ctx.Done(); return 0, ctx.Err() }, nil)
	b.now = func() time.Time { return *clock }
	b.origin, b.started = *clock, *clock
	at = func(n int64) {
		b.base.Store(n - b.accepted.Load())
		later := int64(clock.Sub(b.origin) + time.Hour)
		b.readAt.Store(later) // no read replaces it
		b.goodAt.Store(later) // and it stays known
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
		b.took("https://flood.example/users/a")
	}
	for range 5 {
		b.took("https://small.example/users/b")
	}
	b.took("https://tiny.example/users/c")

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
	lone.took("https://only.example/users/a")
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
		b.took("https://n" + string(rune('a'+i%26)) + ".flood.example:8443/users/a")
	}
	b.took("https://other.example/users/b")
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
		"http://localhost:4002/u":           "localhost:4002",
		"https://a.flood.example./users/x":  "flood.example",
		"https://alice.github.io/users/x":   "github.io",
		"https://bücher.example/u":          "xn--bcher-kva.example",
		"https://[2001:db8:1:2:3::4]/u":     "2001:db8:1:2::/64",
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
		b.took("https://flood.example/users/a")
	}
	b.took("https://quiet.example/users/b")
	at(100)
	if statusOf(b.busy("https://flood.example/users/a", "Create")) != 429 {
		t.Fatal("the flood let in")
	}
	*clock = clock.Add(6 * time.Second) // one window on: still counted
	b.took("https://quiet.example/users/b")
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

// TestBacklogLimitWindowsEndOnTime: a window is five seconds from the
// last one's start, not from the first request after it, so what a sender
// sent stops counting at most ten seconds later.
func TestBacklogLimitWindowsEndOnTime(t *testing.T) {
	b, at, clock := testLimit()
	b.took("https://flood.example/users/a")
	*clock = clock.Add(9900 * time.Millisecond)
	b.took("https://quiet.example/users/b")
	at(100)
	*clock = clock.Add(300 * time.Millisecond) // 10.2 s after the flood's activity
	if statusOf(b.busy("https://flood.example/users/a", "Create")) != 202 {
		t.Error("what the flood sent 10.2 s ago still counts")
	}
}

// TestBacklogLimitReadsInTheBackground: a request never waits for the
// backlog's read, one read runs at a time, what was accepted since the
// read began is added to what it found, and while no read succeeds for
// backlogStale the bound refuses nothing.
func TestBacklogLimitReadsInTheBackground(t *testing.T) {
	answer := make(chan error)
	reads := make(chan struct{}, 10)
	var found int64
	b := newBacklogLimit(10, func(context.Context) (int64, error) {
		reads <- struct{}{}
		return found, <-answer
	}, nil)
	t0 := time.Now()
	b.now = func() time.Time { return t0 }
	b.origin = t0
	waitRead := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for b.reading.Load() {
			if time.Now().After(deadline) {
				t.Fatal("the read never finished")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if n, known := b.current(); n != 0 || known {
		t.Fatalf("before any read: %d, known %v", n, known)
	}
	<-reads // the read runs, blocked, while current has returned
	t0 = t0.Add(time.Second)
	b.took("https://a.example/u")
	b.took("https://a.example/u")
	if n, _ := b.current(); n != 2 {
		t.Errorf("while the read is blocked: %d, want the 2 accepted since", n)
	}
	select {
	case <-reads:
		t.Fatal("a second read started while the first was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	found = 25
	answer <- nil
	waitRead()
	// The two were accepted after the first read began: they are added.
	if n, known := b.current(); n != 27 || !known {
		t.Errorf("after the read: %d, known %v; want 25 + 2", n, known)
	}
	<-reads // that current started the next read (a second had passed)
	found = 27
	answer <- nil
	waitRead()
	if n, _ := b.current(); n != 27 {
		t.Errorf("after a read that saw them: %d, want 27", n)
	}
	t0 = t0.Add(time.Second)
	if b.busy("https://a.example/u", "Create") == nil {
		t.Error("let in past twice the bound")
	}
	// Reads fail from now on: the last good one (begun a second ago) holds for
	// backlogStale, then the bound refuses nothing.
	<-reads
	answer <- errors.New("database down")
	waitRead()
	t0 = t0.Add(backlogStale - 3*time.Second)
	if b.busy("https://a.example/u", "Create") == nil {
		t.Error("let in within backlogStale of the last good read")
	}
	<-reads
	answer <- errors.New("database down")
	waitRead()
	t0 = t0.Add(2 * time.Second)
	if a := b.busy("https://a.example/u", "Create"); a != nil {
		t.Errorf("refused (%d) with no good read for %s", a.status, backlogStale+time.Second)
	}
	<-reads
	answer <- errors.New("database down")
	waitRead()
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
		UPDATE inbox_activities SET held = true, next_attempt_at = now() + interval '1 hour' WHERE activity_id LIKE '%/a/3';
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
