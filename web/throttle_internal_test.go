package web

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Password hashes run at most Hashing at a time; the rest wait their turn,
// and one whose request ends while waiting is not run.
func TestHashingIsBounded(t *testing.T) {
	t.Parallel()
	th := newThrottle(Throttle{Hashing: 2})
	var running, peak, ran atomic.Int64
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := th.hash(context.Background(), func() {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				running.Add(-1)
				ran.Add(1)
			})
			if !ok {
				t.Error("a hash was refused within the wait")
			}
		}()
	}
	wg.Wait()
	if peak.Load() != 2 || ran.Load() != 12 {
		t.Fatalf("peak %d concurrent hashes, %d ran; want 2 and 12", peak.Load(), ran.Load())
	}

	// Both slots taken: a request that gives up is not hashed.
	th.hashing <- struct{}{}
	th.hashing <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if th.hash(ctx, func() { t.Error("hashed after the request ended") }) {
		t.Fatal("hash reported success without a slot")
	}
}
