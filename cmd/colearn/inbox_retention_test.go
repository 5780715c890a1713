package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/colearn/colearn/internal/peertest"
)

// instanceMetric reads one sample of the instance's Prometheus metrics, -1 when
// it is missing.
func instanceMetric(t *testing.T, ti *testInstance, sample string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	ti.metrics.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return metricValue(t, rec.Body.Bytes(), sample)
}

// TestInboxBacklogMetrics: an activity held up by a hanging fetch shows in
// colearn_inbox_pending; applied ones count in colearn_inbox_applied_total
// and colearn_inbox_apply_seconds.
func TestInboxBacklogMetrics(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	bob := b.member("bob")
	// The membership is visible once the Follow commits; the applier counts
	// it just after, so wait for the count rather than race it.
	eventually(t, "the applied Follow counted", 10*time.Second, func() (bool, error) {
		follows := instanceMetric(t, b.in, `colearn_inbox_applied_total{type="Follow"}`)
		if follows > 1 {
			return false, fmt.Errorf("applied Follows = %v, want 1", follows)
		}
		return follows == 1 && instanceMetric(t, b.in, `colearn_inbox_apply_seconds_count`) >= 1, nil
	})
	b.peer.Handle("/users/bob/posts/slow", peertest.Response{Delay: time.Hour})
	b.post(bob, bob.Activity("Create", map[string]any{"id": b.id(bob, "activities"), "object": b.peer.URL + "/users/bob/posts/slow",
		"to": []string{asPublic, b.courseIRI}}))
	eventually(t, "the held-up Create counted as pending", 10*time.Second, func() (bool, error) {
		return instanceMetric(t, b.in, "colearn_inbox_pending") == 1, nil
	})
}

// TestInboxRetentionPrunesAppliedActivities runs a real instance whose
// inbox keeps applied activities for an hour: older applied ones are
// pruned, while recent ones, pending ones and every tombstone stay, so a
// replay of a pruned Create of a deleted post still changes nothing.
func TestInboxRetentionPrunesAppliedActivities(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := newTrustBed(t)
	bob := b.member("bob")
	public := []string{asPublic, b.courseIRI}
	postIRI := b.id(bob, "posts")
	create := b.create(bob, note(bob, postIRI, "Soon deleted", public, nil))
	b.deliver(bob, create)
	del := bob.Activity("Delete", map[string]any{"id": b.id(bob, "activities"), "object": postIRI})
	b.deliver(bob, del)
	recent := b.create(bob, note(bob, b.id(bob, "posts"), "Recent", public, nil))
	b.deliver(bob, recent)
	b.peer.Handle("/users/bob/posts/slow", peertest.Response{Delay: time.Hour})
	pending := bob.Activity("Create", map[string]any{"id": b.id(bob, "activities"), "object": b.peer.URL + "/users/bob/posts/slow", "to": public})
	b.post(bob, pending)

	// Everything but the recent Create (and the pending one) was applied
	// two hours ago, by the clock of an instance keeping them for one.
	if _, err := b.in.pool.Exec(ctx, `UPDATE inbox_activities SET processed_at = now() - interval '2 hours'
		WHERE processed_at IS NOT NULL AND activity_id <> $1`, recent["id"]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.in.pool.Exec(ctx, `UPDATE inbox_activities SET received_at = now() - interval '2 hours' WHERE activity_id = $1`, pending["id"]); err != nil {
		t.Fatal(err)
	}
	n, err := b.in.processor.PruneOlderThan(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // the Follow, the first Create, the Delete
		t.Errorf("pruned %d activities, want 3", n)
	}
	for id, want := range map[string]bool{create["id"].(string): false, del["id"].(string): false, recent["id"].(string): true, pending["id"].(string): true} {
		var kept bool
		if err := b.in.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM inbox_activities WHERE activity_id = $1)`, id).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if kept != want {
			t.Errorf("activity %s kept = %v, want %v", id, kept, want)
		}
	}
	var tombstones int
	if err := b.in.pool.QueryRow(ctx, `SELECT count(*) FROM tombstones WHERE iri = $1`, postIRI).Scan(&tombstones); err != nil || tombstones != 1 {
		t.Errorf("tombstone of the deleted post: %d (%v)", tombstones, err)
	}
	// A very late retry of the pruned Create, stored again as the inbox of
	// a freshly started process does (this one's in-memory duplicate check
	// still remembers it): the tombstone keeps the post deleted.
	before := countAnnounces(t, b, postIRI)
	if _, err := b.in.pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body) VALUES ($1, $2, 'Create', $3)`,
		create["id"], bob.IRI, b.peer.JSON(create)); err != nil {
		t.Fatal(err)
	}
	b.in.processor.Wake()
	if why := b.applied(create["id"].(string)); why == "" {
		t.Errorf("the replayed Create of a deleted post was applied")
	}
	if page := b.page(); regexp.MustCompile("Soon deleted").MatchString(page) {
		t.Errorf("the replayed Create brought the deleted post back")
	}
	if countAnnounces(t, b, postIRI) != before {
		t.Errorf("the replayed Create was announced again")
	}
}

// countAnnounces counts the course's Announces naming iri.
func countAnnounces(t *testing.T, b *trustBed, iri string) int {
	t.Helper()
	var n int
	if err := b.in.pool.QueryRow(t.Context(), `SELECT count(*) FROM outbox_activities WHERE type = 'Announce' AND body LIKE '%' || $1 || '%'`, iri).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
