package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"
)

// The circuit breaker. After BreakerThreshold consecutive failed deliveries
// (429, 5xx, network errors) to one host, the host is paused for
// 2^(failures-BreakerThreshold) minutes, at most BreakerMaxPause; every
// further failure re-pauses it for longer. Deliveries to a paused host
// snooze until the pause ends without making a request. The first delivery
// that gets any answer other than 429/5xx resets the host.
const (
	BreakerThreshold = 10
	BreakerMaxPause  = 6 * time.Hour
)

// breaker keeps delivery_hosts, the per-host failure count shared by every
// process, and remembers what it read and wrote for a while (fresh), so
// that a post's deliveries to a hundred healthy hosts cost no query at all
// when the previous post was recent, and thousands of deliveries to one
// host cost one. A pause another process records is seen here at the
// latest fresh later, or at this process's own next failure there, whose
// write returns the pause: at most one request more per host and process.
type breaker struct {
	pool *pgxpool.Pool
	// fresh is how long a read (or write) of a host's row is trusted.
	fresh time.Duration
	// successEvery is how often a healthy host's last_success_at is
	// refreshed (a success on a host with failures is always recorded).
	successEvery time.Duration

	// reads joins concurrent reads of one host's row (a post's jobs to one
	// host start together) into one query.
	reads singleflight.Group

	mu    sync.Mutex
	hosts map[string]hostState
}

type hostState struct {
	readAt        time.Time
	failures      int
	pausedUntil   time.Time
	successSaveAt time.Time
}

func newBreaker(pool *pgxpool.Pool) *breaker {
	return &breaker{pool: pool, fresh: 30 * time.Second, successEvery: time.Minute, hosts: make(map[string]hostState)}
}

func (b *breaker) cached(host string, now time.Time) (hostState, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.hosts[host]
	return st, ok && now.Sub(st.readAt) < b.fresh
}

func (b *breaker) remember(host string, st hostState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.hosts) > 50_000 { // forget everything rather than grow without bound
		clear(b.hosts)
	}
	b.hosts[host] = st
}

// pausedUntil returns when host's pause ends (zero or past: not paused).
func (b *breaker) pausedUntil(ctx context.Context, host string) (time.Time, error) {
	now := time.Now()
	if st, ok := b.cached(host, now); ok {
		return st.pausedUntil, nil
	}
	v, err, _ := b.reads.Do(host, func() (any, error) { return b.read(ctx, host, now) })
	if err != nil {
		return time.Time{}, err
	}
	return v.(time.Time), nil
}

// read queries host's row and remembers it.
func (b *breaker) read(ctx context.Context, host string, now time.Time) (time.Time, error) {
	var failures int
	var until *time.Time
	err := b.pool.QueryRow(ctx, `SELECT failures, paused_until FROM delivery_hosts WHERE host = $1`, host).Scan(&failures, &until)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("read state of host %s: %w", host, err)
	}
	st := hostState{readAt: now, failures: failures}
	if until != nil {
		st.pausedUntil = *until
	}
	b.mu.Lock()
	st.successSaveAt = b.hosts[host].successSaveAt
	b.mu.Unlock()
	b.remember(host, st)
	return st.pausedUntil, nil
}

// failure counts one failed delivery to host and returns when the host's
// pause ends (zero when it is not paused).
func (b *breaker) failure(ctx context.Context, host string) (time.Time, error) {
	var failures int
	var until *time.Time
	err := b.pool.QueryRow(ctx, `
		INSERT INTO delivery_hosts AS h (host, failures, last_failure_at) VALUES ($1, 1, now())
		ON CONFLICT (host) DO UPDATE SET
			failures = h.failures + 1,
			last_failure_at = now(),
			paused_until = CASE WHEN h.failures + 1 >= $2
				THEN now() + least(interval '1 minute' * power(2, least(h.failures + 1 - $2, 16)), $3 * interval '1 second')
				ELSE h.paused_until END
		RETURNING failures, paused_until`, host, BreakerThreshold, int64(BreakerMaxPause/time.Second)).Scan(&failures, &until)
	if err != nil {
		return time.Time{}, fmt.Errorf("record failure of host %s: %w", host, err)
	}
	st := hostState{readAt: time.Now(), failures: failures}
	if until != nil {
		st.pausedUntil = *until
	}
	b.remember(host, st)
	return st.pausedUntil, nil
}

// success records that host answered, closing its breaker. A host known to
// be healthy is written at most once per successEvery.
func (b *breaker) success(ctx context.Context, host string) error {
	now := time.Now()
	// What pausedUntil read when the job started is recent enough here: a
	// job to a healthy host may deliver for longer than fresh, and writing
	// (a durable commit) after every delivery would cost more than the
	// delivery. Failures another process records meanwhile are reset by
	// the next write, at most successEvery later.
	b.mu.Lock()
	st, ok := b.hosts[host]
	healthy := ok && now.Sub(st.readAt) < b.successEvery && st.failures == 0 && !st.pausedUntil.After(now)
	if healthy && now.Sub(st.successSaveAt) < b.successEvery {
		b.mu.Unlock()
		return nil
	}
	if healthy {
		// Claimed: the other deliveries to this host that succeed meanwhile
		// do not write it too.
		st.successSaveAt = now
		b.hosts[host] = st
	}
	b.mu.Unlock()
	_, err := b.pool.Exec(ctx, `
		INSERT INTO delivery_hosts AS h (host, last_success_at) VALUES ($1, now())
		ON CONFLICT (host) DO UPDATE SET failures = 0, paused_until = NULL, last_success_at = now()`, host)
	if err != nil {
		return fmt.Errorf("record success of host %s: %w", host, err)
	}
	b.remember(host, hostState{readAt: now, successSaveAt: now})
	return nil
}
