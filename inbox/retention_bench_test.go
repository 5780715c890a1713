package inbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/inbox"
)

// BenchmarkInboxRetentionDisk measures issue 11's item 4: under a steady
// load with retention on, the inbox's disk use stays flat. It runs a bounded
// number of rounds on a durable PostgreSQL; each round stores and applies
// retentionRound activities of the load driver's size, then the processor's
// own pruning (PruneOlderThan) deletes what was applied before the round
// began, as retention does with what was applied more than its age ago,
// and VACUUM makes the freed space reusable, as autovacuum does after a
// prune that deleted that many rows. The size of inbox_activities (heap,
// TOAST and indexes) is reported before and after each prune; the target
// is on its peak, before pruning: from the third round (the first that
// stores into space a prune freed) to the last, it grows by at most 1.2 ×.
// (After pruning it swings, as VACUUM gives a freed tail back to the file
// system only when the tail is what was freed.)
//
//	go test -run='^$' -bench=InboxRetentionDisk -benchtime=1x ./inbox/
func BenchmarkInboxRetentionDisk(b *testing.B) {
	const rounds, retentionRound, targetGrowth = 8, 20_000, 1.2
	ctx := context.Background()
	pool := durablePool(b)
	p := &inbox.Processor{Pool: pool}
	size := func() int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size('inbox_activities')`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	note := strings.Repeat("x", 400)
	for range b.N {
		var peaks []int64
		for r := range rounds {
			// The prune's cut-off (now() - age) moves on while it runs: a
			// pause after the round's start keeps this round's rows clear
			// of it.
			roundStart := time.Now()
			time.Sleep(2 * time.Second)
			for chunk := 0; chunk < retentionRound; chunk += 5000 {
				if _, err := pool.Exec(ctx, `
					INSERT INTO inbox_activities (activity_id, actor_iri, type, body, processed_at)
					SELECT 'https://peer.example/users/u' || (g % 100) || '/activities/' || $1::int || '-' || g,
					       'https://peer.example/users/u' || (g % 100), 'Create',
					       jsonb_build_object('type', 'Create', 'id', 'https://peer.example/activities/' || g,
					           'object', jsonb_build_object('type', 'Note', 'content', $2::text)),
					       now()
					FROM generate_series($3::int, $3::int + 4999) g`, r, note, chunk); err != nil {
					b.Fatal(err)
				}
			}
			before := size()
			pruned, err := p.PruneOlderThan(ctx, time.Since(roundStart))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pool.Exec(ctx, `VACUUM inbox_activities`); err != nil {
				b.Fatal(err)
			}
			after := size()
			peaks = append(peaks, before)
			var kept int64
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities`).Scan(&kept); err != nil {
				b.Fatal(err)
			}
			fmt.Printf("  round %d: %d stored, %.1f MB before pruning, %d pruned, %d kept, %.1f MB after\n",
				r+1, retentionRound, float64(before)/1e6, pruned, kept, float64(after)/1e6)
		}
		// Round 1 prunes nothing; round 2 stores into a table nothing was
		// freed in yet; steady state starts at round 3.
		first, last := peaks[2], peaks[len(peaks)-1]
		growth := float64(last) / float64(first)
		verdict := "ok"
		if growth > targetGrowth {
			verdict = "MISS"
		}
		fmt.Printf("inbox retention: %d rounds of %d activities; peak size %.1f MB (round 3) → %.1f MB (round %d): ×%.2f, target ≤ ×%.1f  %s\n",
			rounds, retentionRound, float64(first)/1e6, float64(last)/1e6, rounds, growth, targetGrowth, verdict)
		b.ReportMetric(growth, "size-growth")
		b.ReportMetric(float64(last)/1e6, "MB-steady")
	}
}
