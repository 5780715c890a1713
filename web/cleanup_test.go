package web

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/internal/pgtest"
)

func TestCleanSessionsDeletesExpired(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES
		('old', '', now() - interval '1 minute'), ('live', '', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	h := New(Config{Pool: pool})
	h.Close() // stops the 5-minute loop; run a fast one instead
	h.cleanupDone = make(chan struct{})
	loopCtx, stop := context.WithCancel(ctx)
	go h.cleanSessions(loopCtx, 10*time.Millisecond)
	defer func() { stop(); <-h.cleanupDone }()

	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, _ := pool.Query(ctx, `SELECT token FROM sessions ORDER BY token`)
		tokens, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(tokens) == 1 && tokens[0] == "live" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions left: %v", tokens)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
