package courses_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// Inside DeferChanges, Changed sends nothing; FlushChanges announces every
// gathered scope once, in notices that fit PostgreSQL's payload limit, and
// only when the transaction commits.
func TestDeferredChangesAreAnnouncedOnceAtTheFlush(t *testing.T) {
	t.Parallel()
	b := setup(t)
	listener, err := b.pool.Acquire(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Release()
	if _, err := listener.Exec(b.ctx, "LISTEN "+courses.ChangeChannel); err != nil {
		t.Fatal(err)
	}
	notices := func() []string {
		var got []string
		for {
			ctx, cancel := context.WithTimeout(b.ctx, 500*time.Millisecond)
			n, err := listener.Conn().WaitForNotification(ctx)
			cancel()
			if err != nil {
				return got
			}
			got = append(got, n.Payload)
		}
	}
	scopesOf := func(payloads []string) []courses.Scope {
		var all []courses.Scope
		for _, p := range payloads {
			_, s := courses.ParseChange(p)
			all = append(all, s...)
		}
		slices.Sort(all)
		return all
	}

	// Rolled back: nothing is announced, though Changed was called.
	tx, err := b.pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctx := courses.DeferChanges(b.ctx)
	if err := b.store.Changed(ctx, tx, courses.CourseScope(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.store.FlushChanges(ctx, tx); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(b.ctx)
	if got := notices(); len(got) != 0 {
		t.Fatalf("a rolled-back batch announced %q", got)
	}

	// Committed: 400 posts' scopes (about 16 KB) and one course scope told
	// 400 times arrive each once, over several notices.
	var want []courses.Scope
	_, err = inTx(t, b, func(tx pgx.Tx) (struct{}, error) {
		ctx := courses.DeferChanges(b.ctx)
		for i := range 400 {
			post := courses.PostScope(fmt.Sprintf("https://peer.example/users/u/notes/%d-%s", i, strings.Repeat("x", 20)))
			want = append(want, post)
			if err := b.store.Changed(ctx, tx, post, courses.CourseScope(7)); err != nil {
				return struct{}{}, err
			}
		}
		if got := notices(); len(got) != 0 {
			return struct{}{}, fmt.Errorf("announced before the flush: %q", got)
		}
		return struct{}{}, b.store.FlushChanges(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, courses.CourseScope(7))
	slices.Sort(want)
	got := notices()
	if len(got) < 2 {
		t.Errorf("%d notices for %d scopes, want them split under the payload limit", len(got), len(want))
	}
	for _, p := range got {
		if len(p) >= 8000 {
			t.Errorf("a notice of %d bytes, over PostgreSQL's limit", len(p))
		}
	}
	if g := scopesOf(got); !slices.Equal(g, want) {
		t.Errorf("announced %d scopes, want %d, each once", len(g), len(want))
	}
}
