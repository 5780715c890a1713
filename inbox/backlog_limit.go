package inbox

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Backpressure. Accepting an activity costs about half of what applying it
// does, so a sender that posts as fast as the inbox answers builds a
// backlog that grows for as long as it keeps posting: activities applied
// minutes late, and a queue that only the sender decides the length of.
// Past a bound on the backlog, the inbox answers 429 with Retry-After
// instead, which Mastodon, GoToSocial and Fedify retry with their own
// backoff (nothing is lost: the activity was not stored), so what is
// accepted stays within what the instance applies.
//
// The refusal goes first to the hosts that sent the most: past the bound,
// a host whose share of the activities accepted in the last few seconds is
// at least an equal share is refused, and a host that sends less is still
// let in, so that one host's flood does not shut out everyone else. Past
// twice the bound, every host is refused. The decision is made before the
// signature is checked, so refusing costs next to nothing; the host is the
// one the activity's actor names, which a liar can only use to be refused.

// backlogRead is how often the backlog's length is read, at most.
const backlogRead = 200 * time.Millisecond

// backlogWindow is how long a window of accepted activities per host is;
// the shares are taken over the current window and the one before it.
const backlogWindow = 5 * time.Second

// backlogRetry is the Retry-After of a refusal, in seconds: about the time
// two cores take to apply a few thousand activities.
const backlogRetry = "2"

// backlogLimit refuses activities while the backlog is past its bound.
type backlogLimit struct {
	limit   int64
	pending func(ctx context.Context) (int64, error)

	length atomic.Int64 // the backlog, as last read
	readAt atomic.Int64 // when the last read started, in Unix nanoseconds

	mu      sync.Mutex
	started time.Time      // the current window's start
	cur     map[string]int // accepted per host in the current window
	prev    map[string]int // and in the one before
}

func newBacklogLimit(limit int64, pending func(ctx context.Context) (int64, error)) *backlogLimit {
	return &backlogLimit{limit: limit, pending: pending, started: time.Now(),
		cur: map[string]int{}, prev: map[string]int{}}
}

// busy reports whether an activity from host is refused now, with the
// backlog's length for the message.
func (b *backlogLimit) busy(host string) (bool, int64) {
	if b == nil || b.limit <= 0 {
		return false, 0
	}
	n := b.current()
	switch {
	case n < b.limit:
		return false, n
	case n >= 2*b.limit:
		return true, n
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rotate(time.Now())
	sent, total := b.cur[host]+b.prev[host], 0
	hosts := map[string]bool{}
	for _, w := range []map[string]int{b.cur, b.prev} {
		for h, k := range w {
			total += k
			hosts[h] = true
		}
	}
	return sent > 0 && sent*len(hosts) >= total, n
}

// accepted counts an activity of host's that was stored.
func (b *backlogLimit) accepted(host string) {
	if b == nil || b.limit <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rotate(time.Now())
	b.cur[host]++
}

// rotate starts a new window when the current one is over; b.mu is held.
func (b *backlogLimit) rotate(now time.Time) {
	switch since := now.Sub(b.started); {
	case since >= 2*backlogWindow:
		b.prev, b.cur, b.started = map[string]int{}, map[string]int{}, now
	case since >= backlogWindow:
		b.prev, b.cur, b.started = b.cur, map[string]int{}, now
	}
}

// current returns the backlog's length as last read, and starts a new read
// when that one is older than backlogRead: a request never waits for it.
func (b *backlogLimit) current() int64 {
	now := time.Now().UnixNano()
	last := b.readAt.Load()
	if now-last >= int64(backlogRead) && b.readAt.CompareAndSwap(last, now) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if n, err := b.pending(ctx); err == nil {
				b.length.Store(n)
			}
		}()
	}
	return b.length.Load()
}
