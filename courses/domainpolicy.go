package courses

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DomainPolicy answers "is this host blocked?" on every inbox request,
// fetch and delivery, from a snapshot of domain_blocks held in memory. The
// snapshot is read again once it is older than its refresh interval (so a
// block made by `colearn domain block` in another process takes effect
// within that interval) and at once after Invalidate (blocks made in this
// process). When the table cannot be read, the last snapshot stays in force
// and the error is reported to ErrorFunc.
type DomainPolicy struct {
	pool    *pgxpool.Pool
	refresh time.Duration
	// ErrorFunc is told when the blocks cannot be read (may be nil).
	ErrorFunc func(error)

	mu     sync.Mutex
	hosts  []string
	readAt time.Time
}

// NewDomainPolicy returns a DomainPolicy on pool, re-reading the blocks
// every refresh (2 s when zero).
func NewDomainPolicy(pool *pgxpool.Pool, refresh time.Duration) *DomainPolicy {
	if refresh <= 0 {
		refresh = 2 * time.Second
	}
	return &DomainPolicy{pool: pool, refresh: refresh}
}

// Invalidate makes the next check read the blocks again.
func (p *DomainPolicy) Invalidate() {
	p.mu.Lock()
	p.readAt = time.Time{}
	p.mu.Unlock()
}

// HostBlocked reports whether host (host[:port], any case) is covered by a
// domain block.
func (p *DomainPolicy) HostBlocked(ctx context.Context, host string) bool {
	host = strings.ToLower(host)
	for _, b := range p.snapshot(ctx) {
		if HostCovered(b, host) {
			return true
		}
	}
	return false
}

// IRIBlocked reports whether the host of an absolute IRI is blocked. An IRI
// that does not parse is not blocked (it is refused elsewhere).
func (p *DomainPolicy) IRIBlocked(ctx context.Context, iri string) bool {
	u, err := url.Parse(iri)
	if err != nil || u.Host == "" {
		return false
	}
	return p.HostBlocked(ctx, u.Host)
}

func (p *DomainPolicy) snapshot(ctx context.Context) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.readAt) < p.refresh {
		return p.hosts
	}
	rows, err := p.pool.Query(ctx, `SELECT host FROM domain_blocks`)
	if err == nil {
		var hosts []string
		if hosts, err = pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			p.hosts, p.readAt = hosts, time.Now()
		}
	}
	if err != nil && p.ErrorFunc != nil {
		p.ErrorFunc(err)
	}
	return p.hosts
}
