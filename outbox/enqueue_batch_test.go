package outbox

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Inside DeferFanouts, Publish stores each activity at once and its fan-out
// job only at FlushFanouts, all in one insert; the jobs of a rolled-back
// savepoint, dropped with DropFanoutsAfter, are never enqueued, so no
// delivery goes out for an activity that is not stored.
func TestDeferredFanoutsAreEnqueuedAtTheFlush(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	o, err := New(Config{Pool: b.pool, Keys: b.keys, Client: b.client})
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) int {
		var n int
		if err := b.pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	activity := func(i int) Activity {
		id := fmt.Sprintf("%s/activities/%d", b.actorIRI, i)
		return Activity{ID: id, Type: "Announce", ActorIRI: b.actorIRI, KeyOwner: "intro", Public: true, FollowersOf: b.courseID,
			Body: []byte(fmt.Sprintf(`{"id":%q,"type":"Announce"}`, id))}
	}
	err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		ctx := DeferFanouts(ctx)
		for i := range 3 {
			mark := FanoutsDeferred(ctx)
			err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
				if err := o.Publish(ctx, sp, activity(i)); err != nil {
					return err
				}
				if i == 1 {
					return fmt.Errorf("activity %d refused after publishing", i)
				}
				return nil
			})
			if err != nil {
				DropFanoutsAfter(ctx, mark)
			}
		}
		if n := FanoutsDeferred(ctx); n != 2 {
			return fmt.Errorf("%d fan-outs gathered, want 2", n)
		}
		var jobs int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'outbox_fanout'`).Scan(&jobs); err != nil || jobs != 0 {
			return fmt.Errorf("%d fan-out jobs before the flush (%v)", jobs, err)
		}
		return o.FlushFanouts(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM outbox_activities`); n != 2 {
		t.Errorf("%d activities stored, want 2 (the rolled-back one is not)", n)
	}
	for i, want := range []int{1, 0, 1} {
		if n := count(`SELECT count(*) FROM river_job WHERE kind = 'outbox_fanout' AND (args->>'activity_id' = $1 OR args->'more' ? $1)`, activity(i).ID); n != want {
			t.Errorf("activity %d: %d fan-out jobs, want %d", i, n, want)
		}
	}
}
