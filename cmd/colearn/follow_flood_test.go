package main

import (
	"fmt"
	"testing"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/internal/peertest"
)

// TestFollowFloodBoundedPerHost: one host's actors Follow a course that
// accepts by itself; the first inbox.AutoAcceptPerHost are accepted and
// answered, the rest wait for a moderator with no Accept sent, and an actor
// of another host is still accepted at once.
func TestFollowFloodBoundedPerHost(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	const extra = 5
	var ids []string
	for i := range inbox.AutoAcceptPerHost + extra {
		a := b.peer.NewActor(fmt.Sprintf("flood%d", i))
		act := a.Activity("Follow", map[string]any{"id": b.id(a, "follows"), "object": b.courseIRI, "to": []string{b.courseIRI}})
		b.post(a, act)
		ids = append(ids, act["id"].(string))
	}
	for _, id := range ids {
		if reason := b.applied(id); reason != "" {
			t.Fatalf("follow %s dropped: %s", id, reason)
		}
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := b.in.pool.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	prefix := b.peer.URL + "/%"
	if n := count(`SELECT count(*) FROM course_members WHERE course_id = $1 AND state = $2 AND actor_iri LIKE $3`, b.course.ID, courses.StateAccepted, prefix); n != inbox.AutoAcceptPerHost {
		t.Errorf("%d accepted members from the flooding host, want %d", n, inbox.AutoAcceptPerHost)
	}
	if n := count(`SELECT count(*) FROM course_members WHERE course_id = $1 AND state = $2 AND actor_iri LIKE $3`, b.course.ID, courses.StatePending, prefix); n != extra {
		t.Errorf("%d pending members from the flooding host, want %d", n, extra)
	}
	if n := count(`SELECT count(*) FROM outbox_activities WHERE type = 'Accept' AND actor_iri = $1`, b.courseIRI); n != inbox.AutoAcceptPerHost {
		t.Errorf("%d Accepts published, want %d", n, inbox.AutoAcceptPerHost)
	}

	// Another host is not held back by the flood.
	other := peertest.Start(t)
	carol := other.NewActor("carol")
	b.deliver(carol, carol.Activity("Follow", map[string]any{"id": b.id(carol, "follows"), "object": b.courseIRI, "to": []string{b.courseIRI}}))
	if !b.isMember(carol) {
		t.Fatal("an actor of another host is not accepted during the flood")
	}
}
