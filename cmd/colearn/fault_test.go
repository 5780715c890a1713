package main

// Faults between real instances: a member's server that is down while the
// course posts gets everything once it is back.

import (
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
		err := a.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'outbox_delivery'
			AND args->>'inbox' LIKE '%' || $1 || '%' AND attempt >= 2 AND state <> 'completed'`, b.addr).Scan(&retried)
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
