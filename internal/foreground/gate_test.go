package foreground

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// holdRequests starts n requests through g's handler that stay in flight
// until the returned func is called.
func holdRequests(t *testing.T, g *Gate, n int) (release func()) {
	t.Helper()
	started, done := make(chan struct{}, n), make(chan struct{})
	srv := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-done
	})))
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := http.Get(srv.URL); err == nil {
				resp.Body.Close()
			}
		}()
	}
	for range n {
		<-started
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			srv.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// waitAsync runs g.Wait in the background and reports its result.
func waitAsync(g *Gate, ctx context.Context) <-chan error {
	out := make(chan error, 1)
	go func() { out <- g.Wait(ctx) }()
	return out
}

func TestGateAdmitsAtOnceWhenNotBusy(t *testing.T) {
	g := &Gate{Busy: 3, Interval: time.Hour}
	holdRequests(t, g, 2) // below Busy
	for range 10 {
		if err := g.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if g.Paced() != 0 || g.InFlight() != 2 {
		t.Errorf("paced %d, in flight %d; want 0 and 2", g.Paced(), g.InFlight())
	}
}

func TestGatePacesWhileBusyAndReleasesWhenDone(t *testing.T) {
	g := &Gate{Busy: 3, Interval: time.Hour}
	release := holdRequests(t, g, 3)
	// The first operation takes the current turn; the next ones wait for
	// theirs, an hour apart.
	if err := g.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	second, third := waitAsync(g, t.Context()), waitAsync(g, t.Context())
	select {
	case err := <-second:
		t.Fatalf("a second operation went while busy (%v)", err)
	case err := <-third:
		t.Fatalf("a third operation went while busy (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	if g.Paced() != 2 {
		t.Errorf("paced %d, want 2", g.Paced())
	}
	release()
	for _, ch := range []<-chan error{second, third} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("released with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("waiting operations were not released when the requests ended")
		}
	}
}

func TestGateWaitEndsWithContext(t *testing.T) {
	g := &Gate{Busy: 1, Interval: time.Hour}
	holdRequests(t, g, 1)
	if err := g.Wait(t.Context()); err != nil { // takes the current turn
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	waiting := waitAsync(g, ctx)
	cancel()
	select {
	case err := <-waiting:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not end with its context")
	}
}

// Applying incoming activities counts as busy: while they keep being
// applied (Working), background work is paced with no request in flight,
// and once they stop it goes at once.
func TestGatePacesWhileActivitiesAreApplied(t *testing.T) {
	g := &Gate{Busy: 3, Interval: time.Hour, BacklogInterval: time.Hour}
	stop := make(chan struct{})
	done := make(chan struct{})
	for range g.Busy {
		g.Working()
	}
	go func() {
		defer close(done)
		// Each pulse is a batch of Busy applied activities, so that every
		// pulse alone keeps the instance busy: a pulse late by tens of
		// milliseconds on a loaded machine (CI runs packages side by side)
		// must not open a quiet period.
		for {
			for range g.Busy {
				g.Working()
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	if err := g.Wait(t.Context()); err != nil { // takes the current turn
		t.Fatal(err)
	}
	second := waitAsync(g, t.Context())
	select {
	case err := <-second:
		t.Fatalf("a second operation went while activities were applied (%v)", err)
	case <-time.After(300 * time.Millisecond): // three quiet periods
	}
	if g.InFlight() != 0 || g.Paced() != 1 {
		t.Errorf("in flight %d, paced %d; want 0 and 1", g.InFlight(), g.Paced())
	}
	close(stop)
	<-done
	select {
	case err := <-second:
		if err != nil {
			t.Errorf("released with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting operation was not released when applying stopped")
	}
}

// A trickle of applied activities (fewer than Busy within the quiet
// period) does not make the instance busy.
func TestGateIgnoresATrickleOfAppliedActivities(t *testing.T) {
	g := &Gate{Busy: 3, Interval: 10 * time.Millisecond}
	for range 5 {
		g.Working()
		g.Working() // two within the period: below Busy
		// Were the instance busy, the first would take the turn and the
		// second wait for the next.
		for range 2 {
			if err := g.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(quiet + 20*time.Millisecond)
	}
	if g.Paced() != 0 {
		t.Errorf("paced %d operations during a trickle, want 0", g.Paced())
	}
}

// While a backlog is applied, background work is paced by
// BacklogInterval; with requests alone in flight, by Interval.
func TestGatePacesHarderWhileABacklogIsApplied(t *testing.T) {
	g := &Gate{Busy: 3, Interval: time.Millisecond, BacklogInterval: time.Hour}
	holdRequests(t, g, 3)
	// Requests alone: a millisecond apart.
	for range 5 {
		if err := g.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for range g.Busy {
		g.Working()
	}
	time.Sleep(2 * time.Millisecond)            // past the requests' last turn
	if err := g.Wait(t.Context()); err != nil { // takes the current turn
		t.Fatal(err)
	}
	next := waitAsync(g, t.Context())
	select {
	case err := <-next:
		t.Fatalf("an operation went a millisecond after another while a backlog was applied (%v)", err)
	case <-time.After(150 * time.Millisecond):
	}
}

// Once a backlog stops being applied (a quiet period with no Working
// calls), requests alone pace background work by Interval again.
func TestGateGoesBackToIntervalWhenApplyingStops(t *testing.T) {
	g := &Gate{Busy: 3, Interval: 20 * time.Millisecond, BacklogInterval: time.Hour}
	holdRequests(t, g, 3)
	for range g.Busy {
		g.Working()
	}
	time.Sleep(2 * quiet) // applying has stopped; the requests go on
	done := make(chan error, 1)
	go func() {
		for range 5 {
			if err := g.Wait(t.Context()); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("five operations 20 ms apart did not go within 10 s: still paced as while applying")
	}
	if g.Paced() == 0 {
		t.Error("no operation was paced: the requests in flight should keep the instance busy")
	}
}
