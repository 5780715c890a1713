package web

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/httprate"
)

// Throttle bounds password guessing and sign-up floods. The zero value is
// the default: 20 attempts per minute per client address and per account,
// and as many concurrent password hashes as there are CPUs.
type Throttle struct {
	// Attempts is how many sign-ins (or sign-ups) one client address, and
	// one account name, may make per Window; the next gets 429 with
	// Retry-After. Default 20.
	Attempts int
	// Window is the sliding window the attempts are counted over. Default
	// one minute.
	Window time.Duration
	// Hashing bounds the argon2id hashes computed at once (each takes
	// 19 MiB and tens of milliseconds of a core), so a flood of sign-ins
	// queues instead of exhausting memory. Default runtime.GOMAXPROCS.
	Hashing int
	// ClientAddrHeader names a request header holding the client address,
	// set by a reverse proxy in front of colearn (e.g. X-Real-IP). Empty:
	// the connection's peer address. Set it only when every request passes
	// through that proxy, since clients can write any header themselves.
	ClientAddrHeader string
}

// hashWait is how long a sign-in waits for a hashing slot before it is
// answered 503 with Retry-After.
const hashWait = 10 * time.Second

// throttle holds the limiters a Handler checks on sign-in and sign-up.
type throttle struct {
	cfg     Throttle
	address *httprate.RateLimiter
	account *httprate.RateLimiter
	hashing chan struct{}
}

func newThrottle(cfg Throttle) *throttle {
	if cfg.Attempts <= 0 {
		cfg.Attempts = 20
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.Hashing <= 0 {
		cfg.Hashing = runtime.GOMAXPROCS(0)
	}
	return &throttle{
		cfg:     cfg,
		address: httprate.NewRateLimiter(cfg.Attempts, cfg.Window),
		account: httprate.NewRateLimiter(cfg.Attempts, cfg.Window),
		hashing: make(chan struct{}, cfg.Hashing),
	}
}

// limited counts one attempt of kind ("signin", "signup") from r's client
// address and for account, and reports whether either is over its limit;
// if so it has set Retry-After on w. An attempt refused by the address
// limit is not counted against the account, so an attacker spraying from
// one address cannot lock its victims out for longer than the window.
func (t *throttle) limited(w http.ResponseWriter, r *http.Request, kind, account string) bool {
	if t.address.OnLimit(w, r, kind+" addr "+t.clientAddr(r)) {
		t.retryAfter(w)
		return true
	}
	account = strings.ToLower(strings.TrimSpace(account))
	if account != "" && t.account.OnLimit(w, r, kind+" account "+account) {
		t.retryAfter(w)
		return true
	}
	return false
}

// retryAfter sets Retry-After to the window in whole seconds, at least 1
// (httprate rounds a sub-second window down to 0).
func (t *throttle) retryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int((t.cfg.Window+time.Second-1)/time.Second))))
}

// clientAddr is the address requests are counted by: the configured
// proxy header's value, or the connection's peer IP.
func (t *throttle) clientAddr(r *http.Request) string {
	if t.cfg.ClientAddrHeader != "" {
		if v := strings.TrimSpace(r.Header.Get(t.cfg.ClientAddrHeader)); v != "" {
			// X-Forwarded-For may list several; the proxy appends the last.
			if i := strings.LastIndexByte(v, ','); i >= 0 {
				v = strings.TrimSpace(v[i+1:])
			}
			return httprate.CanonicalizeIP(v)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host)
}

// hash runs f, which computes a password hash, once a hashing slot is
// free. It returns false without running f if none frees up within
// hashWait or ctx ends first.
func (t *throttle) hash(ctx context.Context, f func()) bool {
	timer := time.NewTimer(hashWait)
	defer timer.Stop()
	select {
	case t.hashing <- struct{}{}:
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
	defer func() { <-t.hashing }()
	f()
	return true
}
