package outbox

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The retry schedule. A delivery that keeps failing with 429, 5xx or a
// network error is tried MaxAttempts times; the wait after failed attempt n
// is RetryBase·2^(n-1), capped at RetryCap, times a random factor in
// [0.8, 1.2):
//
//	after attempt  1  2  3  4  5     6     7      8      9      10     11     12…19
//	wait           10s 20s 40s 80s 2.7m 5.3m  10.7m  21.3m  42.7m  85.3m  2.84h  5h each
//
// so the last attempt comes about 45.7 hours (≈ 1.9 days) after the first,
// give or take the jitter. Snoozes (Retry-After, a paused host) do not count
// as attempts; GiveUpAfter bounds them.
const (
	MaxAttempts = 20
	RetryBase   = 10 * time.Second
	RetryCap    = 5 * time.Hour
	// GiveUpAfter is how old a delivery may grow, snoozes included, before
	// its next failure is final.
	GiveUpAfter = 56 * time.Hour
	// MaxRetryAfter caps a peer's Retry-After.
	MaxRetryAfter = 6 * time.Hour
)

// Backoff returns the wait after failed attempt n (1-based), jittered.
func Backoff(attempt int) time.Duration {
	d := RetryCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 20 { // 10s·2^19 is far past the cap; avoid overflow
		d = min(RetryBase<<(attempt-1), RetryCap)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// parseRetryAfter reads a Retry-After header, either delay-seconds or an
// HTTP date, and caps it at MaxRetryAfter. ok is false when the header is
// absent or malformed.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, MaxRetryAfter), true
}
