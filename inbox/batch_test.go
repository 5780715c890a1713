package inbox_test

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
)

// TestInboxGroupCommit sends many deliveries at once, each activity twice,
// so that they share group commits: every one is acknowledged and each
// activity is stored once.
func TestInboxGroupCommit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const activities = 40
	type delivery struct {
		req  *http.Request
		body []byte
	}
	var all []delivery
	for range activities {
		body := b.note(b.mallory.iri, "")
		req := b.signed("/inbox", body, b.mallory)
		all = append(all, delivery{req, body}, delivery{req, body})
	}
	statuses := make([]int, len(all))
	var wg sync.WaitGroup
	for i, d := range all {
		wg.Go(func() { statuses[i] = b.send(d.req, d.body).status })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusAccepted {
			t.Errorf("delivery %d: status %d, want 202", i, s)
		}
	}
	if n := b.rows(); n != activities {
		t.Errorf("%d rows, want %d", n, activities)
	}
}

// TestInboxBadRowFailsAlone shows that an activity Postgres refuses to store
// (a \u0000 escape, which jsonb does not accept) fails only its own
// delivery, even when it arrives together with others.
func TestInboxBadRowFailsAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := bytes.Replace(b.note(b.mallory.iri, ""), []byte("hello"), []byte(`hel\u0000lo`), 1)
	good := make([][]byte, 20)
	for i := range good {
		good[i] = b.note(b.mallory.iri, "")
	}
	var wg sync.WaitGroup
	var badStatus int
	goodStatus := make([]int, len(good))
	wg.Go(func() { badStatus = b.send(b.signed("/inbox", bad, b.mallory), bad).status })
	for i, body := range good {
		wg.Go(func() { goodStatus[i] = b.send(b.signed("/inbox", body, b.mallory), body).status })
	}
	wg.Wait()
	if badStatus != http.StatusInternalServerError {
		t.Errorf("activity with \\u0000: status %d, want 500", badStatus)
	}
	for i, s := range goodStatus {
		if s != http.StatusAccepted {
			t.Errorf("good activity %d: status %d, want 202", i, s)
		}
	}
	if n := b.rows(); n != len(good) {
		t.Errorf("%d rows, want %d", n, len(good))
	}
}

// TestInboxReplayFastPath shows that a replay of an activity just stored is
// acknowledged without its signature being checked, and changes nothing,
// while a badly signed activity never stored is still refused.
func TestInboxReplayFastPath(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := b.note(b.mallory.iri, "")
	if got := b.send(b.signed("/inbox", body, b.mallory), body); got.status != http.StatusAccepted {
		t.Fatalf("first delivery: status %d (%s)", got.status, got.body)
	}
	// The same activity with a signature of bob's: a forged replay.
	forged := b.signed("/inbox", body, b.bob)
	if got := b.send(forged, body); got.status != http.StatusAccepted {
		t.Errorf("replay: status %d (%s), want 202", got.status, got.body)
	}
	fresh := b.note(b.mallory.iri, "")
	if got := b.send(b.signed("/inbox", fresh, b.bob), fresh); got.status != http.StatusForbidden {
		t.Errorf("never stored, signed by bob: status %d (%s), want 403", got.status, got.body)
	}
	if n := b.rows(); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}
