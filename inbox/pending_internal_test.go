package inbox

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/colearn/colearn/internal/pgtest"
)

// TestPendingCountIsExact changes the inbox in every way it changes (group
// commits and single inserts from many connections at once, a rolled-back
// insert, the appliers' finishing, deferring and retrying updates, pruning,
// deletes, a truncate) and checks after each that Pending, which reads the
// count kept by those statements, equals a count of the rows.
func TestPendingCountIsExact(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	p := &Processor{Pool: pool}
	check := func(step string) {
		t.Helper()
		var want int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL`).Scan(&want); err != nil {
			t.Fatal(err)
		}
		got, err := p.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("after %s: Pending = %d, rows pending = %d", step, got, want)
		}
	}
	check("nothing")

	b := newBatcher(pool)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				id := fmt.Sprintf("https://peer.example/a/%d-%d", w, i%30) // some repeated: duplicates
				b.expect()
				if _, err := b.store(ctx, Envelope{ID: id, Type: "Create", Actor: "https://peer.example/users/u"}, "", []byte(`{}`)); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for i := range 20 {
				if _, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body) VALUES ($1, 'https://peer.example/users/v', 'Create', '{}')
					ON CONFLICT DO NOTHING`, fmt.Sprintf("https://peer.example/b/%d-%d", w, i%15)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b.close()
	check("concurrent inserts")

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body)
		SELECT 'https://peer.example/c/' || g, 'https://peer.example/users/w', 'Create', '{}' FROM generate_series(1, 50) g`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	check("a rolled-back insert")

	// A slot held by another transaction: the insert counts elsewhere at
	// once; every slot held: it waits for its own, and counts there.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	for _, held := range []string{fmt.Sprintf("slot = %d", pid%64), "true"} {
		holder, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := holder.Exec(ctx, `SELECT slot FROM inbox_pending_slots WHERE `+held+` FOR UPDATE`); err != nil {
			t.Fatal(err)
		}
		inserted := make(chan error, 1)
		go func() {
			_, err := conn.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body)
				SELECT 'https://peer.example/d/' || g || $1, 'https://peer.example/users/w', 'Create', '{}' FROM generate_series(1, 5) g`, held)
			inserted <- err
		}()
		if held == "true" { // it waits on a lock until the holder commits
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				var waiting bool
				if err := pool.QueryRow(ctx, `SELECT coalesce((SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1), false)`, pid).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting {
					break
				}
				select {
				case err := <-inserted:
					t.Fatalf("insert with every slot held did not wait (%v)", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("insert with every slot held neither waits nor ends")
				}
			}
		} else {
			select { // it must not wait for the holder
			case err := <-inserted:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("insert waited for another transaction's slot")
			}
		}
		if err := holder.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if held == "true" {
			if err := <-inserted; err != nil {
				t.Fatal(err)
			}
		}
		check("an insert while " + held + " is held")
	}

	var seqs []int64
	rows, err := pool.Query(ctx, `SELECT seq FROM inbox_activities ORDER BY seq LIMIT 100`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s)
	}
	if rows.Err() != nil || len(seqs) < 100 {
		t.Fatalf("%d rows to work on (%v)", len(seqs), rows.Err())
	}
	if _, err := pool.Exec(ctx, deferActivity, seqs[0], "busy", "1 minute"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, retryActivity, seqs[1], 1, "down", "1 minute"); err != nil {
		t.Fatal(err)
	}
	check("deferring and retrying")
	done := seqs[:60]
	attempts, errs := make([]int32, len(done)), make([]string, len(done))
	if _, err := pool.Exec(ctx, finishActivities, done, attempts, errs); err != nil {
		t.Fatal(err)
	}
	check("finishing a batch")
	if _, err := pool.Exec(ctx, finishActivities, done[:10], attempts[:10], errs[:10]); err != nil {
		t.Fatal(err)
	}
	check("finishing activities already finished")

	if _, err := pool.Exec(ctx, `UPDATE inbox_activities SET processed_at = now() - interval '2 hours' WHERE seq = ANY($1)`, done[:30]); err != nil {
		t.Fatal(err)
	}
	if n, err := p.PruneOlderThan(ctx, time.Hour); err != nil || n != 30 {
		t.Fatalf("pruned %d (%v), want 30", n, err)
	}
	check("pruning")
	if _, err := pool.Exec(ctx, `DELETE FROM inbox_activities WHERE seq = ANY($1)`, seqs[60:80]); err != nil {
		t.Fatal(err)
	}
	check("deleting pending activities")
	if _, err := pool.Exec(ctx, `TRUNCATE inbox_activities`); err != nil {
		t.Fatal(err)
	}
	check("a truncate")
}
