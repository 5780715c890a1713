package outbox

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PublishAll stores and fans out what Publish would for each activity in
// turn: an id already stored, or repeated in the call, is stored and fanned
// out once; an activity with no recipients is only stored; PublishedFunc
// hears of each actor once; an invalid activity stores nothing at all.
func TestPublishAllIsPublishForEach(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	told := map[string]int{}
	o, err := New(Config{Pool: b.pool, Keys: b.keys, Client: b.client,
		PublishedFunc: func(ctx context.Context, tx pgx.Tx, actorIRI string) error { told[actorIRI]++; return nil }})
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
	activity := func(i int, followers bool) Activity {
		id := fmt.Sprintf("%s/activities/%d", b.actorIRI, i)
		a := Activity{ID: id, Type: "Announce", ActorIRI: b.actorIRI, KeyOwner: "intro", Public: true,
			Body: []byte(fmt.Sprintf(`{"id":%q,"type":"Announce"}`, id))}
		if followers {
			a.FollowersOf = b.courseID
		}
		return a
	}
	publish := func(as ...Activity) error {
		return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return o.PublishAll(ctx, tx, as) })
	}
	if err := publish(activity(0, true)); err != nil {
		t.Fatal(err)
	}
	if err := publish(activity(0, true), activity(1, true), activity(1, true), activity(2, false)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 1, 0} {
		id := activity(i, false).ID
		if n := count(`SELECT count(*) FROM outbox_activities WHERE id = $1`, id); n != 1 {
			t.Errorf("activity %d stored %d times, want once", i, n)
		}
		if n := count(`SELECT count(*) FROM river_job WHERE kind = 'outbox_fanout' AND args->>'activity_id' = $1`, id); n != want {
			t.Errorf("activity %d: %d fan-out jobs, want %d", i, n, want)
		}
	}
	if told[b.actorIRI] != 2 { // once per call that stored something of the actor's
		t.Errorf("PublishedFunc told %d times, want 2", told[b.actorIRI])
	}
	bad := activity(3, true)
	bad.Body = []byte("{not json")
	if err := publish(activity(4, true), bad); !errors.Is(err, ErrInvalidActivity) {
		t.Errorf("an invalid activity among others: %v, want ErrInvalidActivity", err)
	}
	if n := count(`SELECT count(*) FROM outbox_activities WHERE id = ANY($1)`, []string{activity(3, false).ID, activity(4, false).ID}); n != 0 {
		t.Errorf("%d activities stored beside an invalid one, want 0", n)
	}
}
