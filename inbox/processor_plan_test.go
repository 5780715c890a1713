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
	// Two of them held for their host's fetch budget.
	if _, err := pool.Exec(ctx, `UPDATE inbox_activities SET held = true, next_attempt_at = now() + interval '1 minute'
		WHERE activity_id IN ('https://peer.example/p/7', 'https://peer.example/p/37')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE inbox_activities`); err != nil {
		t.Fatal(err)
	}
	queries := []struct {
		name string
		sql  string
		args []any
		// indexes names indexes the plan must use: where a range read is
		// the point, any other index would read more than the range.
		indexes []string
	}{
		{"claim actors", claimActors, []any{16, "holder", "1 minute", leaseBatch},
			// The pending actors are scanned backwards (lease.go), landing on
			// each actor's newest entries, not its applied ones.
			[]string{"Index Only Scan Backward using inbox_activities_actor_pending", "inbox_activities_actor_held"}},
		{"next activities of an actor", nextActivities, []any{"https://peer.example/users/u7", 32, "holder", int64(0)},
			[]string{"Index Scan using inbox_activities_actor_pending on inbox_activities", "inbox_activities_actor_held"}},
		{"lock a batch of activities", lockActivities, []any{[]int64{200100, 200101, 200150}}, nil},
		{"defer an activity", deferActivity, []any{int64(200100), "busy", "2 seconds"}, nil},
		{"retry an activity", retryActivity, []any{int64(200100), 1, "down", "5 seconds"}, nil},
		{"finish a batch of activities", finishActivities, []any{[]int64{200100, 200101}, []int32{1, 1}, []string{"", "x"}}, nil},
		{"prune applied activities", pruneApplied, []any{"336 hours", pruneChunk}, nil},
		{"count pending", countPending, nil, nil},
		{"count ready", countReady, nil, []string{"inbox_activities_waiting"}},
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
		for _, index := range q.indexes {
			if !strings.Contains(text, index) {
				t.Errorf("%s does not use %s:\n%s", q.name, index, text)
			}
		}
		// The rows read are in seq order already: a sort of them (not of
		// the few the statement returns) means the index range is not read.
		if strings.Contains(text, "Sort Key: inbox_activities.seq") || strings.Contains(text, "Sort Key: i.seq") {
			t.Errorf("%s sorts the inbox instead of reading its index range in order:\n%s", q.name, text)
		}
	}
}
