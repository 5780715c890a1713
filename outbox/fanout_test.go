package outbox

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

func TestBatchByHost(t *testing.T) {
	t.Parallel()
	in := []string{
		"https://a.test/u/1", "https://a.test/u/2", "https://a.test/u/3",
		"https://b.test/u/1", "", "https://A.test/u/4", "https://a.test/u/2",
		"https://c.test/inbox",
	}
	want := [][]string{
		{"https://a.test/u/1", "https://a.test/u/2"}, {"https://b.test/u/1"}, {"https://c.test/inbox"},
		{"https://a.test/u/3", "https://A.test/u/4"},
	}
	got := batchByHost(in, 2)
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// A host whose members declare a thousand different shared inboxes still
// gets one delivery; members without a shared inbox on a host that has one
// are reached through it; others get their personal inbox.
func TestMemberTargetsGroupByHost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 1000 {
		b.member(t, fmt.Sprintf("https://evil.test/users/u%d", i), fmt.Sprintf("https://evil.test/users/u%d/inbox", i),
			fmt.Sprintf("https://evil.test/inbox?n=%d", i%997))
	}
	b.member(t, "https://evil.test/users/plain", "https://evil.test/users/plain/inbox", "")
	b.member(t, "https://one.test/users/ann", "https://one.test/users/ann/inbox", "https://one.test/inbox")
	b.member(t, "https://one.test/users/bob", "https://one.test/users/bob/inbox", "https://one.test/inbox")
	b.member(t, "https://two.test/users/cat", "https://two.test/users/cat/inbox", "")
	b.member(t, "https://two.test/users/dan", "https://two.test/users/dan/inbox", "")
	var got []string
	err := pgx.BeginFunc(context.Background(), b.pool, func(tx pgx.Tx) error {
		var err error
		got, err = memberTargets(context.Background(), tx, b.courseID, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{"https://evil.test/inbox?n=0", "https://one.test/inbox", "https://two.test/users/cat/inbox", "https://two.test/users/dan/inbox"}
	if !slices.Equal(got, want) {
		t.Fatalf("targets %q\nwant    %q", got, want)
	}
}

// The fan-out reads a course's co-hosts with its own copy of
// courses.CohostInboxes' statement (queued beside the members' query, one
// round trip): both must name the same inboxes, and only for a fan-out to
// everyone.
func TestCohostTargetsAsCourses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.pool.Exec(ctx, `
		INSERT INTO course_cohosts (course_id, instance_iri, inbox, shared_inbox, follow_id) VALUES
		($1, 'https://a.test/actor', 'https://a.test/actor/inbox', 'https://a.test/inbox', 'https://a.test/f/1'),
		($1, 'https://b.test/actor', 'https://b.test/actor/inbox', '', 'https://b.test/f/1'),
		($1, 'https://c.test/actor', '', '', 'https://c.test/f/1'),
		($1, 'https://d.test/actor', 'https://d.test/actor/inbox', 'https://a.test/inbox', 'https://d.test/f/1')`, b.courseID)
	if err != nil {
		t.Fatal(err)
	}
	cohosts := func(via string) (got, want []string) {
		err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			var batch pgx.Batch
			queueCohostTargets(&batch, b.courseID, via, &got)
			if batch.Len() > 0 {
				if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
					return err
				}
			}
			var err error
			want, err = courses.CohostInboxes(ctx, tx, b.courseID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(want)
		return got, want
	}
	got, want := cohosts("")
	if len(want) != 2 || !slices.Equal(got, want) {
		t.Fatalf("fan-out co-hosts %q, courses.CohostInboxes %q (want 2 inboxes)", got, want)
	}
	if got, _ := cohosts("join"); len(got) != 0 {
		t.Fatalf("a fan-out to members who joined reaches co-hosts %q", got)
	}
}

// Activities published together (inside DeferFanouts) to the same
// recipients are fanned out by one job; one with other recipients keeps its
// own. Each inbox still receives each activity once, signed.
func TestMergedFanoutDeliversEachActivityOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	keys := keyResolver{federation.MainKey(b.actorIRI): b.pub}
	one, two := newSink(t, keys, nil), newSink(t, keys, nil)
	b.member(t, "https://one.test/users/ann", one.url("/users/ann/inbox"), one.url("/inbox"))
	b.member(t, "https://two.test/users/cat", two.url("/users/cat/inbox"), "")
	if _, err := b.pool.Exec(ctx, `UPDATE course_members SET via = 'join' WHERE actor_iri = 'https://two.test/users/cat'`); err != nil {
		t.Fatal(err)
	}
	o := b.start(t, nil)
	var everyone, joined []Activity
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		ctx := DeferFanouts(ctx)
		for i := range 4 {
			a := b.activity(i)
			a.FollowersOf = b.courseID
			if i == 2 { // only members who joined: other recipients, its own job
				a.FollowersVia = "join"
				joined = append(joined, a)
			} else {
				everyone = append(everyone, a)
			}
			if err := o.Publish(ctx, tx, a); err != nil {
				return err
			}
		}
		return o.FlushFanouts(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	var fanouts int
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'outbox_fanout'`).Scan(&fanouts); err != nil || fanouts != 2 {
		t.Fatalf("%d fan-out jobs (%v), want 2: one for the three to everyone, one for the one to members who joined", fanouts, err)
	}
	waitFor(t, 10*time.Second, "every delivery", func() bool { return len(one.delivered()) >= 3 && len(two.delivered()) >= 4 })
	// The three activities to everyone go to each server in one delivery
	// job, the one to members who joined in another.
	waitFor(t, 10*time.Second, "the jobs done", func() bool { return b.jobStates(t)["completed"] == 3 })
	time.Sleep(200 * time.Millisecond) // room for a wrong extra delivery
	bodies := func(s *sink) []string {
		var out []string
		for _, r := range s.delivered() {
			out = append(out, r.Body)
		}
		slices.Sort(out)
		return out
	}
	want := func(as ...Activity) []string {
		var out []string
		for _, a := range as {
			out = append(out, string(a.Body))
		}
		slices.Sort(out)
		return out
	}
	if got := bodies(one); !slices.Equal(got, want(everyone...)) || one.requests.Load() != 3 {
		t.Errorf("server one (a follower) got %d requests: %q\nwant %q", one.requests.Load(), got, want(everyone...))
	}
	if got := bodies(two); !slices.Equal(got, want(append(everyone, joined...)...)) || two.requests.Load() != 4 {
		t.Errorf("server two (joined) got %d requests: %q\nwant %q", two.requests.Load(), got, want(append(everyone, joined...)...))
	}
}
