package outbox

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
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
