package main

// Faults between real instances: a member's server that is down while the
// course posts gets everything once it is back.

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

func TestMemberServerDownGetsEverythingLater(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{RetryDelay: 200 * time.Millisecond})
	b := startInstance(t, testInstanceOptions{RetryDelay: 200 * time.Millisecond})
	dumpOnFailure(t, a, b)
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	olga, bob := a.user(t, "olga"), b.user(t, "bob")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "resilience", Title: "Resilience"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	if _, err := b.actions.JoinRemote(ctx, bob, courseIRI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's enrollment accepted", 15*time.Second, func() (bool, error) {
		return b.enrollmentState(ctx, "bob", courseIRI) == courses.StateAccepted, nil
	})

	b.down(t)
	var posts []courses.Post
	for _, text := range []string{"Lesson one is up", "Reading for week 2", "Meeting moved to Thursday"} {
		p, err := a.actions.Announce(ctx, olga, course, text)
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	// The deliveries fail and are retried while B is away.
	eventually(t, "failed delivery attempts to B", 15*time.Second, func() (bool, error) {
		var retried int
		err := a.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set')
			AND coalesce(args->>'inboxes', args->>'inbox') LIKE '%' || $1 || '%' AND attempt >= 2 AND state <> 'completed'`, b.addr).Scan(&retried)
		return retried == len(posts), err
	})
	for _, p := range posts {
		if _, err := b.post(ctx, p.IRI); err == nil {
			t.Fatalf("B has %s while it was down", p.IRI)
		}
	}

	b.up(t)
	for _, p := range posts {
		eventually(t, "B receiving "+p.Content, 20*time.Second, func() (bool, error) {
			got, err := b.post(ctx, p.IRI)
			return err == nil && got.CourseIRI == courseIRI, nil
		})
	}
}

// A member whose server answers 410 Gone for them leaves every roster.
func TestGoneMemberIsRemoved(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	a.createUser(t, "olga")
	olga := a.user(t, "olga")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "gone", Title: "Gone"})
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasPrefix(r.URL.Path, "/users/left/") {
			http.Error(w, "gone", http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(sink.Close)
	for _, name := range []string{"left", "stays"} {
		iri := sink.URL + "/users/" + name
		if _, err := a.courses.Enroll(ctx, a.pool, course, courses.Member{ActorIRI: iri, Inbox: iri + "/inbox", Via: "follow"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.actions.Announce(ctx, olga, course, "Still there?"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the gone member removed", 15*time.Second, func() (bool, error) {
		_, err := a.courses.MemberOf(ctx, a.pool, course.ID, sink.URL+"/users/left")
		return errors.Is(err, courses.ErrNotFound), nil
	})
	if _, err := a.courses.MemberOf(ctx, a.pool, course.ID, sink.URL+"/users/stays"); err != nil {
		t.Fatalf("the member who answered 202 was removed too: %v", err)
	}
	eventually(t, "both deliveries made", 15*time.Second, func() (bool, error) { return hits.Load() == 2, nil })
	time.Sleep(500 * time.Millisecond) // time enough for a retry, were 410 retried
	if n := hits.Load(); n != 2 {
		t.Fatalf("%d deliveries, want 2 (410 is not retried)", n)
	}
}

// A post announced while its author's server is down (so it cannot be
// fetched from its origin) is taken in once that server is back.
func TestAnnouncedPostFetchedWhenOriginReturns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	opts := testInstanceOptions{RetryDelay: 200 * time.Millisecond}
	a, b, c := startInstance(t, opts), startInstance(t, opts), startInstance(t, opts)
	dumpOnFailure(t, a, b, c)
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	c.createUser(t, "carol")
	course, err := a.actions.CreateCourse(ctx, a.user(t, "olga"), courses.CourseDraft{Slug: "origin", Title: "Origin"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	for _, x := range []*testInstance{b, c} {
		name := map[*testInstance]string{b: "bob", c: "carol"}[x]
		if _, err := x.actions.JoinRemote(ctx, x.user(t, name), courseIRI); err != nil {
			t.Fatal(err)
		}
		eventually(t, name+" enrolled", 15*time.Second, func() (bool, error) {
			return x.enrollmentState(ctx, name, courseIRI) == courses.StateAccepted, nil
		})
	}

	// C is away while bob posts, so the course's Announce waits in A's
	// outbox; then bob's server goes away before C comes back.
	c.down(t)
	p, err := b.actions.Post(ctx, b.user(t, "bob"), courseIRI, "Fetch me from my origin", "")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the post on A", 15*time.Second, func() (bool, error) {
		_, err := a.post(ctx, p.IRI)
		return err == nil, nil
	})
	b.down(t)
	c.up(t)
	eventually(t, "C trying to fetch the post from B", 15*time.Second, func() (bool, error) {
		var n int
		err := c.pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE type = 'Announce' AND attempts >= 1 AND processed_at IS NULL`).Scan(&n)
		return n == 1, err
	})
	b.up(t)
	eventually(t, "the post on C", 30*time.Second, func() (bool, error) {
		got, err := c.post(ctx, p.IRI)
		return err == nil && got.AuthorIRI == b.urls.User("bob"), nil
	})
}
