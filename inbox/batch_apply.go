package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/plaintext"
	"github.com/colearn/colearn/outbox"
)

// Batch applying: the workers hand their activities to a few appliers, each
// of which takes every activity waiting (up to applyBatchMax) into one
// transaction and commits them together: plain Creates of course posts as
// one set (create_bulk.go), every other activity in its own savepoint. A
// failing activity rolls back only its savepoint; the commit (a WAL flush
// on a durable database) is paid once per batch.
//
// Two appliers, not more: a batch now costs about a dozen statements
// whatever its size, so fewer, fuller batches are cheaper. With four, the
// 64 workers' activities were spread over batches of about 7 (2.0
// statements per applied Create in BenchmarkInboxApply); with two, about
// 14 (1.3), and the two cores are kept as busy.
const (
	appliers      = 2
	applyBatchMax = 64
)

// applyJob is one attempt at applying an activity. When failed is set the
// activity is not applied; failed is recorded as the outcome (a parse error,
// too many fetches).
type applyJob struct {
	in     *Incoming
	failed error
	done   chan applyResult
}

// applyResult tells the worker how the attempt ended: need names a remote
// document to fetch before trying again; err means the batch did not
// commit (nothing of it is stored); done means the activity's outcome
// (applied, dropped, or waiting for a retry) is committed; held means it
// waits for its host's fetch budget.
type applyResult struct {
	need *needFetch
	err  error
	done bool
	held bool
}

type applier struct {
	p    *Processor
	jobs chan *applyJob
}

func newApplier(p *Processor) *applier {
	return &applier{p: p, jobs: make(chan *applyJob)}
}

// start runs the appliers until ctx ends: up to appliers of them, and no
// more than a quarter of the pool's connections, so that the inbox, the
// delivery queue and the workers' own reads always find one.
func (a *applier) start(ctx context.Context) *sync.WaitGroup {
	n := min(appliers, max(1, int(a.p.Pool.Config().MaxConns)/4))
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.run(ctx)
		}()
	}
	return &wg
}

// apply hands job to an applier and waits for its batch.
func (a *applier) apply(ctx context.Context, job *applyJob) applyResult {
	job.done = make(chan applyResult, 1)
	select {
	case a.jobs <- job:
	case <-ctx.Done():
		return applyResult{err: ctx.Err()}
	}
	select {
	case res := <-job.done:
		return res
	case <-ctx.Done():
		return applyResult{err: ctx.Err()}
	}
}

func (a *applier) run(ctx context.Context) {
	batch := make([]*applyJob, 0, applyBatchMax)
	for {
		select {
		case j := <-a.jobs:
			batch = append(batch, j)
		case <-ctx.Done():
			return
		}
	gather:
		for len(batch) < applyBatchMax {
			select {
			case j := <-a.jobs:
				batch = append(batch, j)
			default:
				break gather
			}
		}
		start := time.Now()
		results := a.p.applyBatch(ctx, batch)
		a.p.Logger.Debug("inbox batch applied", "activities", len(batch), "took", time.Since(start))
		for i, j := range batch {
			j.done <- results[i]
		}
		clear(batch)
		batch = batch[:0]
	}
}

// applyBatch applies jobs in one transaction. The batch's rows are locked
// and checked still pending first, in one statement, so an activity is
// never applied twice, even if two processes came to hold its actor's lease
// (one's lease expired while it was stalled). The outcomes of the activities
// that are done for good are written together at the end, in one more
// statement: a batch costs two round trips for its bookkeeping, not two per
// activity.
//
// Plain Creates of new posts in a local course (create_bulk.go) are
// gathered and applied as one set, in a few statements whatever their
// number; every other activity is applied alone, in its own savepoint,
// after the set gathered before it is stored, so that the batch applies
// its activities in their order.
func (p *Processor) applyBatch(ctx context.Context, jobs []*applyJob) []applyResult {
	results := make([]applyResult, len(jobs))
	err := pgx.BeginFunc(ctx, p.Pool, func(tx pgx.Tx) error {
		pending, err := lockPending(ctx, tx, jobs)
		if err != nil {
			return err
		}
		// The batch's change notices go out once, and its fan-out jobs are
		// enqueued in one insert, before it commits.
		ctx := courses.DeferChanges(withBatchCourses(ctx))
		flusher, deferJobs := p.Sender.Outbox.(fanoutFlusher)
		if deferJobs {
			ctx = outbox.DeferFanouts(ctx)
		}
		var done finished
		var set []bulkCreate
		flush := func() error {
			if len(set) == 0 {
				return nil
			}
			applied, err := p.applyCreates(ctx, tx, set)
			if err != nil {
				return err
			}
			for k, b := range set {
				if applied[k] {
					if err := p.record(ctx, tx, jobs[b.job].in, nil, &done); err != nil {
						return err
					}
					results[b.job].done = true
				}
			}
			for k, b := range set {
				if !applied[k] {
					if err := p.applyAlone(ctx, tx, jobs[b.job], &results[b.job], &done); err != nil {
						return err
					}
				}
			}
			set = set[:0]
			return nil
		}
		for i, j := range jobs {
			results[i] = applyResult{}
			if !pending[j.in.seq] {
				results[i].done = true // applied elsewhere, or pruned
				continue
			}
			if j.failed == nil && !p.oneByOne {
				if post, c, ok := p.bulkCreateRecovering(ctx, tx, j.in); ok {
					set = append(set, bulkCreate{job: i, post: post, course: c})
					continue
				}
			}
			if err := flush(); err != nil {
				return err
			}
			if err := p.applyAlone(ctx, tx, j, &results[i], &done); err != nil {
				return err
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if deferJobs {
			if err := flusher.FlushFanouts(ctx, tx); err != nil {
				return err
			}
		}
		if err := p.Courses.FlushChanges(ctx, tx); err != nil {
			return err
		}
		return done.write(ctx, tx)
	})
	if err != nil {
		for i := range results {
			results[i] = applyResult{err: err}
		}
	}
	return results
}

// applyAlone applies one activity of a batch in its own savepoint and
// records its outcome in res and done. It fails when the batch cannot go
// on (ctx ended, or the transaction failed).
func (p *Processor) applyAlone(ctx context.Context, tx pgx.Tx, j *applyJob, res *applyResult, done *finished) error {
	applyErr := j.failed
	if applyErr == nil {
		mark := outbox.FanoutsDeferred(ctx)
		applyErr = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { return p.applyRecovering(ctx, sp, j.in) })
		if applyErr != nil { // its savepoint rolled back, and so do its jobs
			outbox.DropFanoutsAfter(ctx, mark)
		}
	}
	if j.in.Type != "Create" {
		forgetBatchCourses(ctx) // it may have changed a course the next ones read
	}
	var need *needFetch
	if errors.As(applyErr, &need) {
		res.need = need
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := p.record(ctx, tx, j.in, applyErr, done); err != nil {
		return err
	}
	res.done = true
	res.held = errors.Is(applyErr, errHostBusy)
	return nil
}

// fanoutFlusher is a Publisher that can enqueue the fan-outs of a batch
// together (*outbox.Outbox).
type fanoutFlusher interface {
	FlushFanouts(ctx context.Context, tx pgx.Tx) error
}

// lockPending locks the jobs' rows, in seq order (so that two batches never
// wait on each other in a cycle), and tells which are still pending.
func lockPending(ctx context.Context, tx pgx.Tx, jobs []*applyJob) (map[int64]bool, error) {
	seqs := make([]int64, len(jobs))
	for i, j := range jobs {
		seqs[i] = j.in.seq
	}
	rows, err := tx.Query(ctx, lockActivities, seqs)
	if err != nil {
		return nil, fmt.Errorf("lock %d inbox activities: %w", len(seqs), err)
	}
	pending := make(map[int64]bool, len(seqs))
	var seq int64
	var open bool
	_, err = pgx.ForEachRow(rows, []any{&seq, &open}, func() error {
		pending[seq] = open
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock %d inbox activities: %w", len(seqs), err)
	}
	return pending, nil
}

// finished gathers the outcomes of a batch's activities that are done for
// good (applied, or dropped with a reason), to be written in one statement.
type finished struct {
	seqs     []int64
	attempts []int32
	errors   []string
}

func (f *finished) add(seq int64, attempts int, msg string) {
	f.seqs = append(f.seqs, seq)
	f.attempts = append(f.attempts, int32(attempts))
	f.errors = append(f.errors, msg)
}

func (f *finished) write(ctx context.Context, tx pgx.Tx) error {
	if len(f.seqs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, finishActivities, f.seqs, f.attempts, f.errors); err != nil {
		return fmt.Errorf("record %d applied inbox activities: %w", len(f.seqs), err)
	}
	return nil
}

// record stores an activity's outcome. A failure for a passing reason (a
// server that was down) leaves the activity waiting for a later attempt,
// with backoff, up to MaxApplyAttempts; a busy host only defers it, without
// counting an attempt; any other failure (malformed, not allowed, not for
// anything here) is final. The reason is recorded on the row and logged:
// the sender was answered long ago.
func (p *Processor) record(ctx context.Context, tx pgx.Tx, in *Incoming, applyErr error, done *finished) error {
	if errors.Is(applyErr, errHostBusy) {
		_, err := tx.Exec(ctx, deferActivity, in.seq, storedError(applyErr), hostBusyDelay.String())
		return err
	}
	attempts := in.attempts + 1
	if applyErr != nil && transient(applyErr) && attempts < MaxApplyAttempts {
		p.Logger.Info("activity not applied yet; will try again", "id", in.ID, "type", in.Type, "attempt", attempts, "reason", applyErr)
		_, err := tx.Exec(ctx, retryActivity, in.seq, attempts, storedError(applyErr), applyBackoff(attempts).String())
		return err
	}
	msg := ""
	if applyErr != nil {
		msg = storedError(applyErr)
		p.Logger.Info("activity not applied", "id", in.ID, "type", in.Type, "actor", in.Actor, "reason", msg)
	}
	done.add(in.seq, attempts, msg)
	return nil
}

// maxStoredError bounds the reason kept on an activity's row.
const maxStoredError = 1024

// storedError is err's message as a text column takes it: a reason often
// quotes what the peer sent, and a NUL or bytes that are not UTF-8 there
// would fail the statement and, with it, the whole batch's transaction,
// again at every claim.
func storedError(err error) string {
	return plaintext.Storable(err.Error(), maxStoredError)
}

// hostBusyDelay is how long an activity waits when its host has no fetch
// budget left.
const hostBusyDelay = 2 * time.Second

// The applier's statements, each finding its rows by seq (the unique index
// inbox_activities_seq).
const (
	lockActivities   = `SELECT seq, processed_at IS NULL FROM inbox_activities WHERE seq = ANY($1) ORDER BY seq FOR UPDATE`
	deferActivity    = `UPDATE inbox_activities SET held = true, error = $2, next_attempt_at = now() + $3::interval WHERE seq = $1`
	retryActivity    = `UPDATE inbox_activities SET held = false, attempts = $2, error = $3, next_attempt_at = now() + $4::interval WHERE seq = $1`
	finishActivities = `UPDATE inbox_activities i SET held = false, processed_at = now(), attempts = f.attempts, error = f.error
		FROM unnest($1::bigint[], $2::int[], $3::text[]) AS f(seq, attempts, error) WHERE i.seq = f.seq`
)
