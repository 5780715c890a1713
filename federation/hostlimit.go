package federation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrRateLimited means a remote host's fetch budget is spent for now.
var ErrRateLimited = errors.New("too many fetches from this host")

// hostLimiter gives each remote host a token bucket of fetches, so that a
// peer naming endless keys or objects on one host can neither make colearn
// hammer that host nor spend all of colearn's fetching on it. A fetch waits
// for a token up to maxWait, else fails with ErrRateLimited.
type hostLimiter struct {
	every   rate.Limit
	burst   int
	maxWait time.Duration
	max     int

	mu    sync.Mutex
	hosts map[string]*rate.Limiter
}

func newHostLimiter(perSecond float64, burst int, maxWait time.Duration, max int) *hostLimiter {
	return &hostLimiter{every: rate.Limit(perSecond), burst: burst, maxWait: maxWait, max: max, hosts: map[string]*rate.Limiter{}}
}

// wait takes a token for rawURL's host.
func (l *hostLimiter) wait(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("fetch %q: %w", rawURL, err)
	}
	host := strings.ToLower(u.Host)
	l.mu.Lock()
	lim, ok := l.hosts[host]
	if !ok {
		if len(l.hosts) >= l.max {
			l.hosts = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.hosts[host] = lim
	}
	l.mu.Unlock()
	res := lim.Reserve()
	d := res.Delay()
	if d > l.maxWait {
		res.Cancel()
		return fmt.Errorf("fetch %s: %w", host, ErrRateLimited)
	}
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		res.Cancel()
		return ctx.Err()
	}
}
