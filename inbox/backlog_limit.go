package inbox

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/idna"
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
// The refusal goes first to the senders that sent the most: past the
// bound, a sender whose share of the activities accepted in the last 5 to
// 10 s is at least an equal share is refused, and a sender that sent less
// is still let in, so that one flood does not shut out everyone else. A
// sender is a registrable domain (every subdomain and port of example.com
// is one sender, and so is every user's subdomain of a hosting suffix such
// as github.io), an IPv4 address or an IPv6 /64, so that a flood cannot
// pass for many small senders by the dozen names it costs nothing to
// make. Past twice the bound, every sender is refused (503: the instance
// as a whole is overloaded). Deletes and Undos are never refused: they are
// cheap to apply and take back what their author no longer wants shown.
// Neither are types colearn does not store.
//
// A backlog read that has not succeeded for backlogStale refuses nothing:
// a count that cannot be had is no reason to shut the inbox.
//
// The decision is made before the signature is checked, so refusing costs
// next to nothing; the sender is the one the activity's actor names, which
// a liar can only use to get itself refused, since only stored activities,
// whose signature and actor were checked, count toward a sender's share.

// backlogRead is how often the backlog's length is read, at most.
const backlogRead = 200 * time.Millisecond

// backlogStale is how old the last good read may be for the bound to hold.
const backlogStale = 5 * time.Second

// backlogWindow is how long a window of accepted activities per sender is;
// the shares are taken over the current window and the one before it.
const backlogWindow = 5 * time.Second

// backlogLimit refuses activities while the backlog is past its bound (a
// nil one never refuses).
type backlogLimit struct {
	limit  int64
	ready  func(ctx context.Context) (int64, error)
	logger *slog.Logger
	now    func() time.Time
	origin time.Time // the times below are since origin, on the monotonic clock

	// The backlog is base + accepted: base is the last good read's count
	// less what had been accepted here when it began, and accepted counts
	// every activity accepted here, so that those since the read are added.
	base     atomic.Int64
	accepted atomic.Int64
	readAt   atomic.Int64 // when the last read started
	goodAt   atomic.Int64 // when the last good read started
	reading  atomic.Bool  // a read is in flight

	mu      sync.Mutex
	started time.Time      // the current window's start
	cur     map[string]int // accepted per sender in the current window
	prev    map[string]int // and in the one before
	both    map[string]int // cur + prev
	total   int            // the sum of both
}

func newBacklogLimit(limit int64, ready func(ctx context.Context) (int64, error), logger *slog.Logger) *backlogLimit {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &backlogLimit{limit: limit, ready: ready, logger: logger, now: time.Now,
		cur: map[string]int{}, prev: map[string]int{}, both: map[string]int{}}
	b.origin = b.now()
	b.started = b.origin
	b.readAt.Store(-int64(backlogStale))
	b.goodAt.Store(-int64(backlogStale))
	return b
}

// busyAnswer is what the inbox answers a refused activity: the status (429
// for a sender's share, 503 past twice the bound) and its Retry-After.
type busyAnswer struct {
	status     int
	retryAfter string
}

// busy returns the refusal for an activity of type typ whose actor is
// actorIRI, or nil to go on with it.
func (b *backlogLimit) busy(actorIRI, typ string) *busyAnswer {
	if b == nil || typ == "Delete" || typ == "Undo" {
		return nil
	}
	n, known := b.current()
	switch {
	case !known || n < b.limit:
		return nil
	case n >= 2*b.limit:
		return &busyAnswer{status: 503, retryAfter: retryAfter(4)}
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

// took counts an activity of actorIRI's that was stored.
func (b *backlogLimit) took(actorIRI string) {
	if b == nil {
		return
	}
	b.accepted.Add(1)
	s := senderOf(actorIRI)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rotate()
	b.cur[s]++
	b.both[s]++
	b.total++
}

// rotate moves the windows on when the current one is over; b.mu is held.
func (b *backlogLimit) rotate() {
	since := b.now().Sub(b.started)
	if since < backlogWindow {
		return
	}
	if since >= 2*backlogWindow { // both windows are over
		b.prev, b.cur, b.both, b.total = map[string]int{}, map[string]int{}, map[string]int{}, 0
		b.started = b.started.Add(since.Truncate(backlogWindow))
		return
	}
	old := b.prev
	b.prev, b.cur, b.started = b.cur, map[string]int{}, b.started.Add(backlogWindow)
	for s, k := range old {
		if b.both[s] -= k; b.both[s] <= 0 {
			delete(b.both, s)
		}
		b.total -= k
	}
}

// current returns the backlog's length, and whether it is known (a good
// read within backlogStale). It starts a new read, one at a time, when the
// last one began backlogRead ago or more: a request never waits for it.
func (b *backlogLimit) current() (n int64, known bool) {
	now := int64(b.now().Sub(b.origin))
	if now-b.readAt.Load() >= int64(backlogRead) && b.reading.CompareAndSwap(false, true) {
		b.readAt.Store(now)
		before := b.accepted.Load() // what this read will find, too
		go func() {
			defer b.reading.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			n, err := b.ready(ctx)
			if err != nil {
				b.logger.Warn("reading the inbox backlog failed; while no read succeeds, its bound refuses nothing", "err", err)
				return
			}
			b.base.Store(n - before)
			b.goodAt.Store(now)
		}()
	}
	return b.base.Load() + b.accepted.Load(), now-b.goodAt.Load() < int64(backlogStale)
}

// senderOf is the sender an actor's activities count for: the registrable
// domain of its host under the ICANN part of the public suffix list (so
// every user of a hosting suffix such as github.io is one sender), port
// dropped; an IPv4 address; or an IPv6 /64. Loopback (localhost and
// loopback addresses), which only tests and development use, keeps its
// port, so that two peers on one machine are two senders.
func senderOf(actorIRI string) string {
	u, err := url.Parse(actorIRI)
	if err != nil {
		return actorIRI
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip := net.ParseIP(host); ip != nil {
		switch {
		case ip.IsLoopback():
			return strings.ToLower(u.Host)
		case ip.To4() != nil:
			return ip.String()
		default:
			return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
		}
	}
	if host == "localhost" {
		return strings.ToLower(u.Host)
	}
	if ascii, err := idna.Lookup.ToASCII(host); err == nil {
		host = ascii
	}
	suffix, icann := publicsuffix.PublicSuffix(host)
	for !icann { // a private suffix (github.io): up to the ICANN one (io)
		dot := strings.IndexByte(suffix, '.')
		if dot < 0 {
			break
		}
		suffix, icann = publicsuffix.PublicSuffix(suffix[dot+1:])
	}
	labels := strings.Split(host, ".")
	if keep := strings.Count(suffix, ".") + 2; len(labels) > keep {
		labels = labels[len(labels)-keep:]
	}
	return strings.Join(labels, ".")
}
