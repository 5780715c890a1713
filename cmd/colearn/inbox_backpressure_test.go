package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
)

// TestInboxBackpressure runs a real instance with --inbox-backlog 3 whose
// applying is held up: each Create names an object on its sender's host
// that never answers. Past the bound, the host that sent them is answered
// 429 with Retry-After, and nothing of what it sent is stored; another
// host, which sent little, still gets in; past twice the bound, even a
// host that sent nothing gets 503, while an Undo still gets in.
// colearn_inbox_busy_total counts the refusals.
func TestInboxBackpressure(t *testing.T) {
	t.Parallel()
	in := startInstance(t, testInstanceOptions{InboxBacklog: 3})
	dumpOnFailure(t, in)
	in.createUser(t, "olga")
	c, err := in.actions.CreateCourse(t.Context(), in.user(t, "olga"), courses.CourseDraft{Slug: "busy", Title: "Busy", OpenDiscussion: true})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := in.urls.Course(c.Slug)
	n := 0
	// send posts act, signed by a, and returns the status and Retry-After.
	send := func(a *peertest.Actor, act map[string]any) (status int, retryAfter string) {
		t.Helper()
		body, err := json.Marshal(act)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, courseIRI+"/inbox", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/activity+json")
		a.Sign(req, body, peertest.SignOptions{})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusAccepted, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			t.Fatalf("%s %s: %d %s", act["type"], act["id"], resp.StatusCode, msg)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	// post sends a Create of a Note whose document on its sender's host
	// hangs, so that fetching it holds the activity pending.
	post := func(p *peertest.Peer, a *peertest.Actor) (status int, retryAfter, id string) {
		t.Helper()
		n++
		path := fmt.Sprintf("%s/posts/%d", p.Path(a.IRI), n)
		p.Handle(path, peertest.Response{Delay: time.Hour})
		id = fmt.Sprintf("%s/activities/%d", a.IRI, n)
		status, retryAfter = send(a, a.Activity("Create", map[string]any{"id": id, "object": p.URL + path, "to": []string{asPublic, courseIRI}}))
		return status, retryAfter, id
	}
	stored := func(id string) bool {
		t.Helper()
		var k int
		if err := in.pool.QueryRow(t.Context(), `SELECT count(*) FROM inbox_activities WHERE activity_id = $1`, id).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k == 1
	}
	pending := func() float64 { return instanceMetric(t, in, "colearn_inbox_pending") }

	// bob's host floods: its Creates are taken until the backlog is past
	// the bound (read at most every 200 ms), then refused.
	flood := peertest.Start(t)
	bob := flood.NewActor("bob")
	var refusedID, retry string
	eventually(t, "bob's host refused past the bound", 20*time.Second, func() (bool, error) {
		status, ra, id := post(flood, bob)
		if status == http.StatusTooManyRequests {
			refusedID, retry = id, ra
			return true, nil
		}
		if status != http.StatusAccepted {
			t.Fatalf("bob's Create: %d before any 429", status)
		}
		time.Sleep(50 * time.Millisecond)
		return false, nil
	})
	if retry == "" {
		t.Error("the 429 has no Retry-After")
	}
	if stored(refusedID) {
		t.Errorf("the refused %s was stored", refusedID)
	}
	if p := pending(); p < 3 {
		t.Errorf("bob refused with %v pending, under the bound of 3", p)
	}
	// carol's host has sent nothing: it is let in.
	quiet := peertest.Start(t)
	carol := quiet.NewActor("carol")
	status, _, id := post(quiet, carol)
	if status != http.StatusAccepted || !stored(id) {
		t.Fatalf("carol's first Create: %d, stored %v; a host that sent little must get in", status, stored(id))
	}
	// Hosts that sent nothing keep coming until the backlog is past twice
	// the bound; then even a new one gets 503, and nothing of it is kept.
	var overloaded bool
	for i := range 12 {
		p := peertest.Start(t)
		a := p.NewActor(fmt.Sprintf("new%d", i))
		time.Sleep(250 * time.Millisecond) // a fresh read of the backlog
		status, ra, id := post(p, a)
		if status == http.StatusServiceUnavailable {
			if ra == "" || stored(id) {
				t.Errorf("503 with Retry-After %q, stored %v", ra, stored(id))
			}
			if got := pending(); got < 6 {
				t.Errorf("503 with %v pending, under twice the bound", got)
			}
			overloaded = true
			// An Undo still gets in.
			undo := bob.Activity("Undo", map[string]any{"id": bob.IRI + "/undo/1", "object": bob.IRI + "/activities/1"})
			if status, _ := send(bob, undo); status != http.StatusAccepted {
				t.Errorf("bob's Undo past twice the bound: %d, want 202", status)
			}
			break
		}
		if status != http.StatusAccepted {
			t.Fatalf("new host %d, which sent nothing before, got %d under twice the bound", i, status)
		}
	}
	if !overloaded {
		t.Fatalf("no 503 with %v pending", pending())
	}
	if busy := instanceMetric(t, in, "colearn_inbox_busy_total"); busy < 2 {
		t.Errorf("colearn_inbox_busy_total = %v, want at least the two refusals", busy)
	}
}
