package inbox

import (
	"context"
	"testing"
	"time"
)

// TestBacklogLimitRefusesTheHeaviestHostsFirst: under the bound nobody is
// refused; past it, the hosts that sent an equal share or more are, while
// a host that sent less (or nothing yet) still gets in; past twice the
// bound, everyone is refused.
func TestBacklogLimitRefusesTheHeaviestHostsFirst(t *testing.T) {
	b := newBacklogLimit(100, func(context.Context) (int64, error) { return 0, nil })
	at := func(n int64) {
		b.length.Store(n)
		b.readAt.Store(time.Now().Add(time.Hour).UnixNano()) // no read replaces it
	}
	for range 90 {
		b.accepted("flood.example")
	}
	for range 5 {
		b.accepted("small.example")
	}
	b.accepted("tiny.example")

	at(99)
	for _, h := range []string{"flood.example", "small.example", "new.example"} {
		if busy, _ := b.busy(h); busy {
			t.Errorf("%s refused under the bound", h)
		}
	}
	at(100)
	for h, want := range map[string]bool{"flood.example": true, "small.example": false, "tiny.example": false, "new.example": false} {
		if busy, n := b.busy(h); busy != want || n != 100 {
			t.Errorf("past the bound, %s: busy %v (backlog %d), want %v", h, busy, n, want)
		}
	}
	at(200)
	for _, h := range []string{"flood.example", "small.example", "new.example"} {
		if busy, _ := b.busy(h); !busy {
			t.Errorf("%s let in past twice the bound", h)
		}
	}
	// A lone sender is its own equal share: refused past the bound.
	lone := newBacklogLimit(100, nil)
	lone.accepted("only.example")
	lone.length.Store(150)
	lone.readAt.Store(time.Now().Add(time.Hour).UnixNano())
	if busy, _ := lone.busy("only.example"); !busy {
		t.Error("the only sender let in past the bound")
	}
	// No limit refuses nothing.
	var none *backlogLimit
	if busy, _ := none.busy("flood.example"); busy {
		t.Error("refused without a limit")
	}
}

// TestBacklogLimitReadsThePendingCount: the backlog's length comes from
// the pending count, read in the background at most every backlogRead.
func TestBacklogLimitReadsThePendingCount(t *testing.T) {
	reads := make(chan struct{}, 10)
	b := newBacklogLimit(10, func(context.Context) (int64, error) {
		reads <- struct{}{}
		return 25, nil
	})
	b.current()
	<-reads
	deadline := time.Now().Add(5 * time.Second)
	for b.length.Load() != 25 {
		if time.Now().After(deadline) {
			t.Fatal("the pending count never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	b.current() // within backlogRead of the first: no second read
	select {
	case <-reads:
		t.Fatal("read again within backlogRead")
	case <-time.After(50 * time.Millisecond):
	}
	if busy, n := b.busy("x.example"); !busy || n != 25 {
		t.Errorf("busy %v at %d, want refused at 25 (past twice the bound)", busy, n)
	}
}
