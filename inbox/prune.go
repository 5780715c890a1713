package inbox

import (
	"context"
	"fmt"
	"time"
)

// DefaultRetention is how long applied activities are kept: far longer than
// any peer retries a delivery (Mastodon gives up after about four days), so
// the primary key still dedupes every retry. Tombstones, which make a late
// retry harmless even after its row is gone, are never pruned.
const DefaultRetention = 14 * 24 * time.Hour

// Pruning runs this often, deleting at most pruneChunk rows per statement
// so that it never holds many locks for long.
const (
	pruneInterval = 10 * time.Minute
	pruneChunk    = 5000
)

// Prune deletes activities applied more than Retention ago and returns how
// many. Activities not yet applied (or waiting for a retry) are kept
// whatever their age. It does nothing when Retention is negative.
func (p *Processor) Prune(ctx context.Context) (int64, error) {
	p.init()
	if p.Retention < 0 {
		return 0, nil
	}
	return p.PruneOlderThan(ctx, p.Retention)
}

// PruneOlderThan deletes activities applied more than age ago and returns
// how many; pending ones and tombstones are kept.
func (p *Processor) PruneOlderThan(ctx context.Context, age time.Duration) (int64, error) {
	var total int64
	for {
		tag, err := p.Pool.Exec(ctx, pruneApplied, age.String(), pruneChunk)
		if err != nil {
			return total, fmt.Errorf("prune inbox: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneChunk {
			return total, nil
		}
	}
}

// pruneEvery prunes at once and then every pruneInterval until ctx ends.
func (p *Processor) pruneEvery(ctx context.Context) {
	if p.Retention < 0 {
		return
	}
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		if _, err := p.Prune(ctx); err != nil && ctx.Err() == nil {
			p.Logger.Error("pruning the inbox failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pending counts activities accepted and not yet applied (including those
// waiting for a retry), for the colearn_inbox_pending gauge. It reads the
// count that the inbox's own writes keep in inbox_pending_slots, in their
// transactions (migration 00019), so it is exact and costs the same
// however long the backlog; it fails only when the database does.
func (p *Processor) Pending(ctx context.Context) (int64, error) {
	var n int64
	if err := p.Pool.QueryRow(ctx, countPending).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending inbox activities: %w", err)
	}
	return n, nil
}

// Ready counts the pending activities that are ready to apply now: Pending
// less those waiting for a retry or for their host's fetch budget, which
// the inbox's backlog bound leaves out (backlog_limit.go). The waiting ones
// are one range of inbox_activities_waiting (migration 00023).
func (p *Processor) Ready(ctx context.Context) (int64, error) {
	var n int64
	if err := p.Pool.QueryRow(ctx, countReady).Scan(&n); err != nil {
		return 0, fmt.Errorf("count ready inbox activities: %w", err)
	}
	return n, nil
}

const (
	countReady = `SELECT ((` + countPending + `)
		- (SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at > now()))::bigint`
	pruneApplied = `DELETE FROM inbox_activities WHERE seq IN (
		SELECT seq FROM inbox_activities WHERE processed_at < now() - $1::interval LIMIT $2)`
	countPending = `SELECT coalesce(sum(n), 0)::bigint FROM inbox_pending_slots`
)
