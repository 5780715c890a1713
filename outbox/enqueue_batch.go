package outbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// fanoutBatch gathers the fan-out jobs Publish enqueues inside
// DeferFanouts.
type fanoutBatch struct{ jobs []river.InsertManyParams }

type fanoutBatchKey struct{}

// DeferFanouts returns a context in which Publish stores its activity at
// once but only gathers its fan-out job, for FlushFanouts to enqueue with
// the others in one insert: a transaction that publishes many activities
// (the inbox applies a batch in one) pays one round trip for their jobs.
// Jobs gathered for work that a savepoint then rolled back must be
// dropped with DropFanoutsAfter.
func DeferFanouts(ctx context.Context) context.Context {
	return context.WithValue(ctx, fanoutBatchKey{}, &fanoutBatch{})
}

// deferFanout gathers args when ctx is inside DeferFanouts and reports
// whether it did.
func deferFanout(ctx context.Context, args fanoutArgs) bool {
	b, ok := ctx.Value(fanoutBatchKey{}).(*fanoutBatch)
	if ok {
		b.jobs = append(b.jobs, river.InsertManyParams{Args: args})
	}
	return ok
}

// FlushFanouts enqueues, in tx, the fan-out jobs gathered in ctx since
// DeferFanouts, and forgets them. Call it before tx commits: if tx rolls
// back, so do the jobs.
func (o *Outbox) FlushFanouts(ctx context.Context, tx pgx.Tx) error {
	b, ok := ctx.Value(fanoutBatchKey{}).(*fanoutBatch)
	if !ok || len(b.jobs) == 0 {
		return nil
	}
	jobs := mergeFanouts(b.jobs) // fanout_merge.go: one job per set of recipients
	b.jobs = nil
	if _, err := o.river.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("enqueue %d fan-outs: %w", len(jobs), err)
	}
	return nil
}

// FanoutsDeferred returns how many fan-out jobs ctx has gathered so far.
func FanoutsDeferred(ctx context.Context) int {
	if b, ok := ctx.Value(fanoutBatchKey{}).(*fanoutBatch); ok {
		return len(b.jobs)
	}
	return 0
}

// DropFanoutsAfter forgets the jobs ctx gathered after its first n: those
// of work that a savepoint rolled back, whose activities are not stored.
func DropFanoutsAfter(ctx context.Context, n int) {
	if b, ok := ctx.Value(fanoutBatchKey{}).(*fanoutBatch); ok && n < len(b.jobs) {
		clear(b.jobs[n:])
		b.jobs = b.jobs[:n]
	}
}
