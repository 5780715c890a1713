// Package foreground lets the requests a peer or a person is waiting on go
// before the work that can wait.
//
// An instance's two kinds of work share its cores: answering requests (an
// inbox POST is a signature check and one durable insert, a few hundred
// microseconds) and background work (a delivery is an RSA signature, about
// a millisecond of CPU, and a POST). When a course announces every post to
// its followers, a burst of posts brings as many deliveries as requests,
// each several times a request's cost; run side by side, the deliveries
// take most of the cores, and the peers posting see their requests slow
// down and time out, and retry, which is more work again. A delivery that
// starts a second later loses nothing: it is in the durable queue.
//
// Applying what peers sent comes before delivering too: the inbox's
// backlog holds the very posts whose Announces are to be delivered, and
// applying one costs a fraction of a signature. So the inbox processor
// tells the Gate of each activity it applies (Working), and a backlog
// being applied (Busy activities within 100 ms) counts as busy.
//
// So while the instance is busy (at least Busy requests in flight, or Busy
// activities applied, within the last 100 ms), a Gate
// admits background operations one at a time, at most one per Interval,
// and while a backlog is applied, at most one per BacklogInterval (a
// quarter as many: the appliers are what is behind, and each delivery
// they wait for costs as much CPU as applying a few activities); when it
// is not busy, it admits them at once. Background work never
// stops: under any load it keeps its bounded share. Mastodon's Sidekiq
// makes the same choice with queue weights; here the queue is River's and
// the choice is made where the CPU is spent, at the signature.
package foreground

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Gate's settings.
const (
	DefaultBusy     = 4
	DefaultInterval = 5 * time.Millisecond
	// DefaultBacklogInterval admits 50 operations a second while a
	// backlog is applied, about a twentieth of a core of signatures.
	DefaultBacklogInterval = 20 * time.Millisecond
)

// recheck is how often a waiting operation looks whether the instance is
// still busy; quiet is how long no request must have found it busy before
// it counts as not busy.
const (
	recheck = 5 * time.Millisecond
	quiet   = 100 * time.Millisecond
)

// Gate counts requests in flight and paces background work by them. The
// zero value is ready to use with the defaults. It is safe for concurrent
// use.
type Gate struct {
	// Busy is how many requests in flight make the instance busy (default
	// DefaultBusy). Below it background work is not paced at all.
	Busy int64
	// Interval is, while busy, the least time between two background
	// operations (default DefaultInterval: 200 a second, about a fifth of
	// a core of RSA signatures).
	Interval time.Duration
	// BacklogInterval is, while a backlog of incoming activities is
	// applied (Working), the least time between two background operations
	// (default DefaultBacklogInterval).
	BacklogInterval time.Duration

	inflight   atomic.Int64
	busySince  atomic.Int64 // unix nanoseconds when a request last found the instance busy
	applySince atomic.Int64 // unix nanoseconds when Working last found a backlog applied
	paced      atomic.Int64 // background operations that waited, for metrics
	workFrom   atomic.Int64 // unix nanoseconds when the current count of Working calls began
	workN      atomic.Int64 // Working calls since workFrom

	mu   sync.Mutex
	next time.Time // when the next paced operation may start
}

// Handler counts the requests to next as in flight while they run.
func (g *Gate) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.inflight.Add(1) >= g.limit() {
			g.busySince.Store(time.Now().UnixNano())
		}
		defer g.inflight.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// Working tells g that foreground work other than a request was done (an
// incoming activity was just applied). Busy of them within a quiet period
// make the instance busy, as many requests in flight do; a trickle does
// not.
func (g *Gate) Working() {
	now := time.Now().UnixNano()
	if now-g.workFrom.Load() > int64(quiet) {
		g.workFrom.Store(now)
		g.workN.Store(0)
	}
	if g.workN.Add(1) >= g.limit() {
		g.busySince.Store(now)
		g.applySince.Store(now)
	}
}

// InFlight is the number of requests running now.
func (g *Gate) InFlight() int64 { return g.inflight.Load() }

// Paced is how many background operations have waited for their turn.
func (g *Gate) Paced() int64 { return g.paced.Load() }

// Wait returns at once when the instance is not busy. While it is, it
// returns at the caller's turn: one caller per Interval, in the order they
// came, or sooner if the instance stops being busy meanwhile. It fails
// only when ctx ends first.
func (g *Gate) Wait(ctx context.Context) error {
	if !g.busy() {
		return nil
	}
	interval := g.interval()
	g.mu.Lock()
	now := time.Now()
	turn := g.next
	if turn.Before(now) {
		turn = now
	}
	g.next = turn.Add(interval)
	g.mu.Unlock()
	if !turn.After(now) {
		return nil
	}
	g.paced.Add(1)
	// Look again now and then: when the requests are done, the waiting
	// work goes at once.
	tick := time.NewTicker(min(interval, recheck))
	defer tick.Stop()
	deadline := time.NewTimer(time.Until(turn))
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil
		case <-tick.C:
			if !g.busy() {
				return nil
			}
		}
	}
}

// busy reports whether Busy requests are in flight now or were within
// the last quiet period. Requests that wait for one group commit end
// together, so the count dips to nothing for an instant between commits;
// the instance is not idle then, and the waiting deliveries must not all
// go at once.
func (g *Gate) busy() bool {
	return g.inflight.Load() >= g.limit() || time.Since(time.Unix(0, g.busySince.Load())) < quiet
}

// interval is the pacing in force: BacklogInterval while a backlog is
// applied, else Interval.
func (g *Gate) interval() time.Duration {
	if time.Since(time.Unix(0, g.applySince.Load())) < quiet {
		if g.BacklogInterval <= 0 {
			return DefaultBacklogInterval
		}
		return g.BacklogInterval
	}
	if g.Interval <= 0 {
		return DefaultInterval
	}
	return g.Interval
}

func (g *Gate) limit() int64 {
	if g.Busy <= 0 {
		return DefaultBusy
	}
	return g.Busy
}
