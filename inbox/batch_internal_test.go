package inbox

import (
	"testing"

	"github.com/colearn/colearn/internal/pgtest"
)

// TestBatchWrite writes batches directly: rows sharing an id are stored
// once (the first is fresh), an id already stored is a duplicate, and a row
// Postgres refuses fails alone.
func TestBatchWrite(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	b := newBatcher(pool)
	t.Cleanup(b.close)
	row := func(id, body string) *pendingRow {
		return &pendingRow{
			env:  Envelope{ID: id, Type: "Create", Actor: "https://peer.example/users/ada"},
			body: []byte(body), done: make(chan rowResult, 1),
		}
	}
	type outcome struct{ fresh, failed bool }
	tests := []struct {
		name  string
		batch []*pendingRow
		want  []outcome
	}{
		{"new and repeated within the batch", []*pendingRow{row("a", `{}`), row("b", `{}`), row("a", `{}`)},
			[]outcome{{fresh: true}, {fresh: true}, {}}},
		{"already stored", []*pendingRow{row("a", `{}`), row("c", `{}`)},
			[]outcome{{}, {fresh: true}}},
		{"a row Postgres refuses", []*pendingRow{row("d", `{}`), row("e", "{\"x\":\"\x00\"}"), row("f", `{}`)},
			[]outcome{{fresh: true}, {failed: true}, {fresh: true}}},
	}
	for _, tt := range tests { // in order: each builds on the rows before
		b.write(tt.batch)
		for i, p := range tt.batch {
			got := <-p.done
			if (outcome{got.fresh, got.err != nil}) != tt.want[i] {
				t.Errorf("%s: row %d (%s): fresh %v err %v, want %+v", tt.name, i, p.env.ID, got.fresh, got.err, tt.want[i])
			}
		}
	}
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM inbox_activities`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("%d rows stored, want 5 (a b c d f)", n)
	}

	// Once the batcher is closed, the handler stores by itself, the body
	// as sent.
	b.close()
	h := &Handler{Pool: pool, batch: b}
	body := []byte(`{"id": "g",  "x":"\u0000"}`)
	fresh, err := h.store(t.Context(), Envelope{ID: "g", Type: "Create", Actor: "https://peer.example/users/ada"}, "", body)
	if err != nil || !fresh {
		t.Fatalf("store after close: fresh %v, err %v", fresh, err)
	}
	var stored string
	if err := pool.QueryRow(t.Context(), `SELECT body FROM inbox_activities WHERE activity_id = 'g'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != string(body) {
		t.Errorf("stored %s, want %s", stored, body)
	}
}
