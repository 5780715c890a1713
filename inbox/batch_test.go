package inbox_test

import (
	"bytes"
	"encoding/json"
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

// TestInboxStoresBodyAsSent shows that an activity is stored byte for byte
// as it arrived (spacing, key order and escapes kept: nothing re-encodes
// it), among others sharing its group commit. A \u0000 escape, which the
// former jsonb column refused with a 500, is stored like any other.
func TestInboxStoresBodyAsSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	odd := bytes.Replace(b.note(b.mallory.iri, ""), []byte("hello"), []byte(`hel\u0000lo \u00e9`), 1)
	odd = bytes.Replace(odd, []byte(`,"type"`), []byte(`,   "type"`), 1)
	var env struct{ ID string }
	if err := json.Unmarshal(odd, &env); err != nil {
		t.Fatal(err)
	}
	good := make([][]byte, 20)
	for i := range good {
		good[i] = b.note(b.mallory.iri, "")
	}
	var wg sync.WaitGroup
	var oddStatus int
	goodStatus := make([]int, len(good))
	wg.Go(func() { oddStatus = b.send(b.signed("/inbox", odd, b.mallory), odd).status })
	for i, body := range good {
		wg.Go(func() { goodStatus[i] = b.send(b.signed("/inbox", body, b.mallory), body).status })
	}
	wg.Wait()
	if oddStatus != http.StatusAccepted {
		t.Errorf("activity with \\u0000 and odd spacing: status %d, want 202", oddStatus)
	}
	for i, s := range goodStatus {
		if s != http.StatusAccepted {
			t.Errorf("good activity %d: status %d, want 202", i, s)
		}
	}
	if n := b.rows(); n != len(good)+1 {
		t.Errorf("%d rows, want %d", n, len(good)+1)
	}
	var stored []byte
	if err := b.pool.QueryRow(b.ctx, `SELECT body FROM inbox_activities WHERE activity_id = $1`, env.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, odd) {
		t.Errorf("stored body differs from the one sent:\n got %s\nwant %s", stored, odd)
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
