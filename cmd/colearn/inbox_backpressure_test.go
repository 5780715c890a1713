package main

import (
	"bytes"
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
// host, which sent little, still gets in; past twice the bound, it is
// refused too. colearn_inbox_busy_total counts the refusals.
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
	flood, quiet := peertest.Start(t), peertest.Start(t)
	bob, carol := flood.NewActor("bob"), quiet.NewActor("carol")
	n := 0
	// post sends a Create of a Note whose document on its sender's host
	// hangs, so that fetching it holds the activity pending.
	post := func(p *peertest.Peer, a *peertest.Actor) (status int, retryAfter, id string) {
		t.Helper()
		n++
		path := fmt.Sprintf("%s/posts/%d", p.Path(a.IRI), n)
		p.Handle(path, peertest.Response{Delay: time.Hour})
		id = fmt.Sprintf("%s/activities/%d", a.IRI, n)
		body := p.JSON(a.Activity("Create", map[string]any{"id": id, "object": p.URL + path, "to": []string{asPublic, courseIRI}}))
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
		if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: %d %s", id, resp.StatusCode, msg)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After"), id
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
	var refusedID, retry string
	eventually(t, "bob's host refused past the bound", 20*time.Second, func() (bool, error) {
		status, ra, id := post(flood, bob)
		if status == http.StatusTooManyRequests {
			refusedID, retry = id, ra
			return true, nil
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
	if p := pending(); p < 3 || p >= 6 {
		t.Fatalf("pending %v when bob was refused, want the bound (3) up to twice it", p)
	}
	// carol's host has sent nothing: it is let in.
	status, _, id := post(quiet, carol)
	if status != http.StatusAccepted || !stored(id) {
		t.Fatalf("carol's first Create: %d, stored %v; a host that sent little must get in", status, stored(id))
	}
	// Past twice the bound, carol's host is refused too.
	eventually(t, "carol's host refused past twice the bound", 20*time.Second, func() (bool, error) {
		status, _, id := post(quiet, carol)
		if status == http.StatusTooManyRequests {
			if stored(id) {
				return false, fmt.Errorf("the refused %s was stored", id)
			}
			return pending() >= 6, nil
		}
		time.Sleep(50 * time.Millisecond)
		return false, nil
	})
	if busy := instanceMetric(t, in, "colearn_inbox_busy_total"); busy < 2 {
		t.Errorf("colearn_inbox_busy_total = %v, want at least the two refusals", busy)
	}
}
