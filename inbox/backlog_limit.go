package inbox

import (
	"context"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/publicsuffix"
)

// Backpressure. Accepting an activity costs about half of what applying it
// does, so a sender that posts as fast as the inbox answers builds a
// backlog that grows for as long as it keeps posting: activities applied
// minutes late, and a queue whose length only the sender decides. Past a
// bound on the backlog, the inbox answers 429 with Retry-After instead,
// which Mastodon, GoToSocial and Fedify retry with their own backoff
// (nothing was stored, so nothing is lost for a sender that retries).
//
// The backlog counted is what is ready to apply (Processor.Ready): an
// activity waiting hours for a retry, which a peer can cause on purpose
// with documents that fail, does not hold the inbox shut.
//
// The busyAnswer goes first to the senders that sent the most: past the
// bound, a sender whose share of the activities accepted in the last 5 to
// 10 s is at least an equal share is refused, and a sender that sent less
// is still let in, so that one flood does not shut out everyone else. A
// sender is a registrable domain (every subdomain and port of example.com
// is one sender), or an IP address, so that a flood cannot pass for many
// small senders by the dozen names it costs nothing to make. Past twice
// the bound, every sender is refused (503: the instance as a whole is
// overloaded), except Deletes and Undos, which are cheap to apply and
// take back what their author no longer wants shown.
//
// The decision is made before the signature is checked, so refusing costs
// next to nothing; the sender is the one the activity's actor names, which
// a liar can only use to get itself refused, since only stored activities,
// whose signature and actor were checked, count toward a sender's share.

// backlogRead is how often the backlog's length is read, at most.
const backlogRead = 200 * time.Millisecond

// backlogWindow is how long a window of accepted activities per sender is;
// the shares are taken over the current window and the one before it.
const backlogWindow = 5 * time.Second

// backlogLimit refuses activities while the backlog is past its bound.
type backlogLimit struct {
	limit int64
	ready func(ctx context.Context) (int64, error)
	now   func() time.Time

	length    atomic.Int64 // the backlog, as last read
	sinceRead atomic.Int64 // activities accepted here since the last read that found them began
	readAt    atomic.Int64 // when the last read started, in Unix nanoseconds
	reading   atomic.Bool  // a read is in flight

	mu      sync.Mutex
	started time.Time      // the current window's start
	cur     map[string]int // accepted per sender in the current window
	prev    map[string]int // and in the one before
	both    map[string]int // cur + prev
	total   int            // the sum of both
}

func newBacklogLimit(limit int64, ready func(ctx context.Context) (int64, error)) *backlogLimit {
	b := &backlogLimit{limit: limit, ready: ready, now: time.Now,
		cur: map[string]int{}, prev: map[string]int{}, both: map[string]int{}}
	b.started = b.now()
	return b
}

// busyAnswer is what the inbox answers a refused activity: the status (429
// for a sender's share, 503 past twice the bound) and its Retry-After.
type busyAnswer struct {
	status     int
	retryAfter string
}

// busy returns the busyAnswer for an activity of type typ whose actor is
// actorIRI, or nil to go on with it.
func (b *backlogLimit) busy(actorIRI, typ string) *busyAnswer {
	if b == nil || b.limit <= 0 {
		return nil
	}
	n := b.current()
	switch {
	case n < b.limit:
		return nil
	case n >= 2*b.limit:
		if typ == "Delete" || typ == "Undo" {
			return nil
		}
		return &busyAnswer{status: 503, retryAfter: retryAfter(4)}
	}
	if typ == "Delete" || typ == "Undo" {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rotate()
	if sent := b.both[senderOf(actorIRI)]; sent > 0 && sent*len(b.both) >= b.total {
		return &busyAnswer{status: 429, retryAfter: retryAfter(2)}
	}
	return nil
}

// retryAfter is a Retry-After of base to twice base seconds: senders
// refused together do not all come back in the same second.
func retryAfter(base int) string { return strconv.Itoa(base + rand.IntN(base+1)) }

// accepted counts an activity of actorIRI's that was stored.
func (b *backlogLimit) accepted(actorIRI string) {
	if b == nil || b.limit <= 0 {
		return
	}
	b.sinceRead.Add(1)
	s := senderOf(actorIRI)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rotate()
	b.cur[s]++
	b.both[s]++
	b.total++
}

// rotate starts a new window when the current one is over; b.mu is held.
func (b *backlogLimit) rotate() {
	now := b.now()
	since := now.Sub(b.started)
	if since < backlogWindow {
		return
	}
	if since >= 2*backlogWindow { // both windows are over
		b.prev, b.cur, b.started = map[string]int{}, map[string]int{}, now
		clear(b.both)
		b.total = 0
		return
	}
	old := b.prev
	b.prev, b.cur, b.started = b.cur, map[string]int{}, now
	for s, k := range old {
		if b.both[s] -= k; b.both[s] <= 0 {
			delete(b.both, s)
		}
		b.total -= k
	}
}

// current returns the backlog's length as last read, plus what was
// accepted here since that read began, and starts a new read (one at a
// time) when the last one is older than backlogRead: a request never
// waits for it.
func (b *backlogLimit) current() int64 {
	now := b.now().UnixNano()
	if now-b.readAt.Load() >= int64(backlogRead) && b.reading.CompareAndSwap(false, true) {
		b.readAt.Store(now)
		before := b.sinceRead.Load() // what this read will find, too
		go func() {
			defer b.reading.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if n, err := b.ready(ctx); err == nil {
				b.length.Store(n)
				b.sinceRead.Add(-before)
			}
		}()
	}
	return b.length.Load() + b.sinceRead.Load()
}

// senderOf is the sender an actor's activities count for: the registrable
// domain of its host (port dropped), or its IP address. Loopback
// addresses, which only tests and development use, keep their port, so
// that two peers on one machine are two senders.
func senderOf(actorIRI string) string {
	u, err := url.Parse(actorIRI)
	if err != nil {
		return actorIRI
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return strings.ToLower(u.Host)
		}
		return ip.String()
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}
