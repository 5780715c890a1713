package outbox

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

type atomicBool = atomic.Bool

// The documented schedule: 20 attempts over about two days.
func TestBackoffSpansAboutTwoDays(t *testing.T) {
	t.Parallel()
	var total, low, high time.Duration
	for attempt := 1; attempt < MaxAttempts; attempt++ {
		d := Backoff(attempt)
		nominal := min(RetryBase<<(attempt-1), RetryCap)
		if d < nominal*8/10 || d >= nominal*12/10 {
			t.Errorf("attempt %d: %s, want %s ±20%%", attempt, d, nominal)
		}
		total += nominal
		low += nominal * 8 / 10
		high += nominal * 12 / 10
	}
	if total < 44*time.Hour || total > 48*time.Hour {
		t.Errorf("nominal total %s, want about 45.7h", total)
	}
	if GiveUpAfter < high {
		t.Errorf("GiveUpAfter %s cuts the schedule short (up to %s)", GiveUpAfter, high)
	}
	if d := Backoff(1000); d > RetryCap*12/10 {
		t.Errorf("attempt 1000: %s", d)
	}
	t.Logf("nominal total %s (jittered %s … %s)", total, low, high)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"99999999999", MaxRetryAfter, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), MaxRetryAfter, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
