package inbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/outbox"
)

// TestALeaseThatGoesOnFindsWhatItLeftBehind: a lease that goes on past its
// bound (a worker is free) reads from the actor's first due activity again
// after each bound, as a new claim would. Here the actor's first activity
// waits for a retry when the lease begins and comes due while the lease
// applies the actor's later ones; reading only past the last one read, the
// lease would never see it, and an actor that kept sending would keep it
// waiting for as long as it sent.
func TestALeaseThatGoesOnFindsWhatItLeftBehind(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	urls := federation.URLs{Scheme: "http", Host: "learn.example"}
	actor := "https://peer.example/users/busy"
	like := func(i int) string { return fmt.Sprintf("https://peer.example/likes/%d", i) }
	n := 2*leaseActivities + 10
	for i := range n {
		id := like(i)
		body := `{"id":"` + id + `","type":"Like","actor":"` + actor + `","object":"https://peer.example/notes/1"}`
		if _, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body) VALUES ($1, $2, 'Like', $3)`, id, actor, body); err != nil {
			t.Fatal(err)
		}
	}
	// The first one failed once for a passing reason; its retry is not due.
	if _, err := pool.Exec(ctx, `UPDATE inbox_activities SET attempts = 1, error = 'peer down', next_attempt_at = now() + interval '1 hour'
		WHERE activity_id = $1`, like(0)); err != nil {
		t.Fatal(err)
	}
	p := &Processor{Pool: pool, Courses: courses.NewStore(pool), Sender: &outbox.Sender{URLs: urls}, URLs: urls, Retention: -1}
	var applied atomic.Int64
	p.AppliedFunc = func(string, time.Duration) {
		if applied.Add(1) == 10 { // well inside the lease's first bound
			if _, err := pool.Exec(ctx, `UPDATE inbox_activities SET next_attempt_at = now() WHERE activity_id = $1`, like(0)); err != nil {
				t.Error(err)
			}
		}
	}
	p.init()
	runCtx, cancel := context.WithCancel(ctx)
	appliers := p.applier.start(runCtx)
	defer func() { cancel(); appliers.Wait() }()

	claimed, err := p.claim(ctx, 1)
	if err != nil || len(claimed) != 1 || len(claimed[0].first) == 0 || claimed[0].first[0].ID != like(1) {
		t.Fatalf("claim: %v, %+v; want the actor, from its second activity", err, claimed)
	}
	p.setWorking(actor, true)
	p.work(ctx, claimed[0]) // returns when the actor has nothing due
	p.setWorking(actor, false)

	var pending int
	var firstDone bool
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE processed_at IS NULL),
		bool_or(activity_id = $1 AND processed_at IS NOT NULL) FROM inbox_activities`, like(0)).Scan(&pending, &firstDone); err != nil {
		t.Fatal(err)
	}
	if !firstDone || pending != 0 {
		t.Errorf("after the lease: the first activity applied %v, %d pending; want it applied under the same lease, none pending", firstDone, pending)
	}
	if got := applied.Load(); got != int64(n) {
		t.Errorf("%d applied, want %d", got, n)
	}
}
