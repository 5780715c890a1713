package courses

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DomainPolicy answers "is this host blocked?" on every inbox request,
// fetch and delivery, from a snapshot of domain_blocks held in memory: a
// lookup is a few map probes (the host, then its name and each parent
// domain), however many blocks there are. The snapshot is read again once
// it is older than its refresh interval (so a block made by `colearn domain
// block` in another process takes effect within that interval) and at once
// after Invalidate (blocks made in this process). When the table cannot be
// read, the last snapshot stays in force and the error is reported to
// ErrorFunc.
type DomainPolicy struct {
	pool    *pgxpool.Pool
	refresh time.Duration
	// ErrorFunc is told when the blocks cannot be read (may be nil).
	ErrorFunc func(error)

	cur     atomic.Pointer[blockSnapshot]
	reading sync.Mutex // one reader of the table at a time
}

type blockSnapshot struct {
	hosts  map[string]bool
	readAt time.Time
}

// NewDomainPolicy returns a DomainPolicy on pool, re-reading the blocks
// every refresh (2 s when zero).
func NewDomainPolicy(pool *pgxpool.Pool, refresh time.Duration) *DomainPolicy {
	if refresh <= 0 {
		refresh = 2 * time.Second
	}
	p := &DomainPolicy{pool: pool, refresh: refresh}
	p.cur.Store(&blockSnapshot{})
	return p
}

// Invalidate makes the next check read the blocks again.
func (p *DomainPolicy) Invalidate() {
	p.cur.Store(&blockSnapshot{hosts: p.cur.Load().hosts})
}

// HostBlocked reports whether host (host[:port], any case) is covered by a
// domain block (HostCovered's rule).
func (p *DomainPolicy) HostBlocked(ctx context.Context, host string) bool {
	blocked := p.snapshot(ctx)
	if len(blocked) == 0 {
		return false
	}
	host = strings.ToLower(host)
	if blocked[host] {
		return true
	}
	name := host
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name = host[:i]
	}
	for {
		if blocked[name] {
			return true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
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

func (p *DomainPolicy) snapshot(ctx context.Context) map[string]bool {
	s := p.cur.Load()
	if time.Since(s.readAt) < p.refresh {
		return s.hosts
	}
	p.reading.Lock()
	defer p.reading.Unlock()
	if s = p.cur.Load(); time.Since(s.readAt) < p.refresh {
		return s.hosts // read by another caller meanwhile
	}
	rows, err := p.pool.Query(ctx, `SELECT host FROM domain_blocks`)
	if err == nil {
		var hosts []string
		if hosts, err = pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			m := make(map[string]bool, len(hosts))
			for _, h := range hosts {
				m[h] = true
			}
			p.cur.Store(&blockSnapshot{hosts: m, readAt: time.Now()})
			return m
		}
	}
	if p.ErrorFunc != nil {
		p.ErrorFunc(err)
	}
	return s.hosts
}
