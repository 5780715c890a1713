package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit tuning. A single-row durable insert costs a commit (a WAL
// flush) per activity, which caps one connection at a few thousand a second;
// one statement per batch pays it once for many.
const (
	batchWriters = 2                    // connections the batcher holds at most
	batchRows    = 256                  // rows per statement at most
	batchWait    = 1 * time.Millisecond // how long a batch waits for more rows
	batchTimeout = 10 * time.Second     // one statement, start to commit
	recentKept   = 100_000              // activity ids remembered for the duplicate fast path
)

// errBatcherClosed means the batcher has stopped; the caller stores the row
// by itself.
var errBatcherClosed = errors.New("inbox batcher closed")

const insertBatch = `
	INSERT INTO inbox_activities (activity_id, actor_iri, type, recipient, body)
	SELECT id, actor, type, recipient, body
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS a(id, actor, type, recipient, body)
	ON CONFLICT (activity_id) DO NOTHING
	RETURNING activity_id`

// pendingRow is one activity waiting for its batch to commit.
type pendingRow struct {
	env       Envelope
	recipient string
	body      []byte
	done      chan rowResult // buffered: the writer never blocks on it
}

type rowResult struct {
	fresh bool
	err   error
}

// batcher stores activities in group commits. Each writer takes the first
// row offered, gathers more for at most batchWait or up to batchRows (and no
// longer once no other request is on its way), and inserts them in one
// statement. Every caller is answered only after that statement has
// committed; if it fails, every caller in it gets the error, and since the
// statement is one transaction nothing of it is stored.
type batcher struct {
	pool *pgxpool.Pool
	rows chan *pendingRow
	// coming counts requests that may soon offer a row (they are being
	// verified); with none coming, a writer stops waiting for more.
	coming atomic.Int64

	stop      chan struct{}
	closeOnce sync.Once
	writers   sync.WaitGroup
}

func newBatcher(pool *pgxpool.Pool) *batcher {
	b := &batcher{pool: pool, rows: make(chan *pendingRow), stop: make(chan struct{})}
	for range batchWriters {
		b.writers.Add(1)
		go b.run()
	}
	return b
}

// expect announces a request that may call store soon; it must be followed
// by exactly one store or forget.
func (b *batcher) expect() { b.coming.Add(1) }

// forget withdraws an expect whose request will not store.
func (b *batcher) forget() { b.coming.Add(-1) }

// store hands the activity to a writer and waits until its batch has
// committed. fresh is false when the activity was already stored. If ctx
// ends first, store returns its error; the row may still be committed, which
// a redelivery then finds. After close it returns errBatcherClosed without
// storing anything.
func (b *batcher) store(ctx context.Context, env Envelope, recipient string, body []byte) (fresh bool, err error) {
	p := &pendingRow{env: env, recipient: recipient, body: body, done: make(chan rowResult, 1)}
	b.coming.Add(-1)
	select {
	case b.rows <- p:
	case <-b.stop:
		return false, errBatcherClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case res := <-p.done:
		return res.fresh, res.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// close stops the writers once their current batches are stored.
func (b *batcher) close() {
	b.closeOnce.Do(func() { close(b.stop) })
	b.writers.Wait()
}

func (b *batcher) run() {
	defer b.writers.Done()
	batch := make([]*pendingRow, 0, batchRows)
	timer := time.NewTimer(batchWait)
	timer.Stop()
	for {
		select {
		case p := <-b.rows:
			batch = append(batch, p)
		case <-b.stop:
			return
		}
		timer.Reset(batchWait)
	gather:
		for len(batch) < batchRows {
			select { // rows already offered join without waiting
			case p := <-b.rows:
				batch = append(batch, p)
				continue
			default:
			}
			if b.coming.Load() == 0 {
				break // no request on its way: waiting would only add latency
			}
			select {
			case p := <-b.rows:
				batch = append(batch, p)
			case <-timer.C:
				break gather
			case <-b.stop:
				break gather
			}
		}
		timer.Stop()
		b.write(batch)
		clear(batch)
		batch = batch[:0]
	}
}

// write stores one batch and answers each of its rows. When the server
// refuses the statement because of what a row holds (text Postgres does not
// take: a NUL byte, which the envelope check already refuses), the rows are
// retried one by one, so that one bad activity fails only its own request.
func (b *batcher) write(batch []*pendingRow) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	fresh, err := b.insert(ctx, batch)
	var pgErr *pgconn.PgError
	if err != nil && len(batch) > 1 && errors.As(err, &pgErr) {
		for _, p := range batch {
			fresh, err := b.insert(ctx, []*pendingRow{p})
			p.done <- rowResult{fresh: err == nil && fresh[0], err: err}
		}
		return
	}
	for i, p := range batch {
		if err != nil {
			p.done <- rowResult{err: err}
			continue
		}
		p.done <- rowResult{fresh: fresh[i]}
	}
}

// insert runs the batch statement and tells, row by row, which were new.
// Of rows sharing an id, the first is stored and the others are duplicates.
func (b *batcher) insert(ctx context.Context, batch []*pendingRow) ([]bool, error) {
	n := len(batch)
	ids, actors, types, recipients, bodies := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, p := range batch {
		ids[i], actors[i], types[i], recipients[i], bodies[i] = p.env.ID, p.env.Actor, p.env.Type, p.recipient, string(p.body)
	}
	rows, err := b.pool.Query(ctx, insertBatch, ids, actors, types, recipients, bodies)
	if err != nil {
		return nil, fmt.Errorf("store %d activities: %w", n, err)
	}
	// CollectRows reads to the end of the statement, past its commit.
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store %d activities: %w", n, err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	fresh := make([]bool, n)
	for i, id := range ids {
		if isNew[id] {
			fresh[i] = true
			delete(isNew, id) // later rows with this id are duplicates
		}
	}
	return fresh, nil
}
