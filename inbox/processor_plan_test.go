package inbox

import (
	"strings"
	"testing"

	"github.com/colearn/colearn/internal/pgtest"
)

// TestProcessorQueriesUseIndexes runs EXPLAIN on every query the processor
// runs per activity or per claim, over an inbox with a long applied history
// and a short backlog (ANALYZEd, so the planner knows), and fails on any
// sequential scan of inbox_activities: such a scan makes the instance slower
// the longer it runs.
func TestProcessorQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	// 200,000 applied activities from 2,000 actors, 300 pending from 30.
	if _, err := pool.Exec(ctx, `
		INSERT INTO inbox_activities (activity_id, actor_iri, type, body, processed_at, received_at)
		SELECT 'https://peer.example/a/' || g, 'https://peer.example/users/u' || (g % 2000), 'Create', '{}'::jsonb,
		       now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
		FROM generate_series(1, 200000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO inbox_activities (activity_id, actor_iri, type, body)
		SELECT 'https://peer.example/p/' || g, 'https://peer.example/users/u' || (g % 30), 'Create', '{}'::jsonb
		FROM generate_series(1, 300) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE inbox_activities`); err != nil {
		t.Fatal(err)
	}
	queries := []struct {
		name string
		sql  string
		args []any
	}{
		{"claim actors", claimActors, []any{16, "holder", "1 minute"}},
		{"next activities of an actor", nextActivities, []any{"https://peer.example/users/u7", 32}},
		{"lock a batch of activities", lockActivities, []any{[]int64{200100, 200101, 200150}}},
		{"defer an activity", deferActivity, []any{int64(200100), "busy", "2 seconds"}},
		{"retry an activity", retryActivity, []any{int64(200100), 1, "down", "5 seconds"}},
		{"finish a batch of activities", finishActivities, []any{[]int64{200100, 200101}, []int32{1, 1}, []string{"", "x"}}},
		{"prune applied activities", pruneApplied, []any{"336 hours", pruneChunk}},
		{"count pending", countPending, nil},
	}
	for _, q := range queries {
		rows, err := pool.Query(ctx, "EXPLAIN "+q.sql, q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan on inbox_activities") {
			t.Errorf("%s scans inbox_activities sequentially:\n%s", q.name, text)
		}
	}
}
