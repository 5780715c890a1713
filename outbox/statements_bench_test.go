package outbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/internal/pgtest"
)

// BenchmarkAnnounceStatements counts what the database is asked per
// delivery when the inbox applies a set of Creates: 50 activities published
// in one transaction (as inbox/batch_apply.go does, DeferFanouts and
// FlushFanouts) to a course whose members are on one server with a shared
// inbox, each one delivery, until all 50 are delivered. Every statement the
// outbox and River send on its pool counts (a pgx tracer), polls included,
// so the figure does not swing with the machine's load, unlike a rate; the
// publishing transaction's own statements are not counted.
//
//	go test -run '^$' -bench AnnounceStatements -benchtime 3x ./outbox/
func BenchmarkAnnounceStatements(b *testing.B) {
	const perSet = 50
	var counter statementCounter
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	// The benchmark's own checks go through a pool of their own, uncounted.
	checks, err := pgxpool.NewWithConfig(context.Background(), cfg.Copy())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(checks.Close)
	cfg.ConnConfig.Tracer = &counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	bd := setupOn(b, pool)
	s := newSink(b, nil, nil)
	for i := range 20 {
		bd.member(b, fmt.Sprintf("https://one.test/users/u%d", i), s.url(fmt.Sprintf("/users/u%d/inbox", i)), s.url("/inbox"))
	}
	o := bd.start(b, func(c *Config) { c.RetryDelayFunc, c.PollInterval = nil, 0 })
	ctx := context.Background()
	var statements, roundTrips int64
	b.ResetTimer()
	for n := range b.N {
		before := s.requests.Load()
		err := pgx.BeginFunc(ctx, bd.pool, func(tx pgx.Tx) error {
			ctx := DeferFanouts(ctx)
			for i := range perSet {
				a := bd.activity(n*perSet + i)
				a.FollowersOf = bd.courseID
				if err := o.Publish(ctx, tx, a); err != nil {
					return err
				}
			}
			return o.FlushFanouts(ctx, tx)
		})
		if err != nil {
			b.Fatal(err)
		}
		st0, rt0 := counter.statements.Load(), counter.roundTrips.Load()
		waitFor(b, 2*time.Minute, "the set's deliveries", func() bool { return s.requests.Load()-before >= perSet })
		// River completes jobs in batches a moment after they finish.
		waitFor(b, time.Minute, "the set's jobs completed", func() bool {
			var left int
			err := checks.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state <> 'completed'`).Scan(&left)
			return err == nil && left == 0
		})
		statements += counter.statements.Load() - st0
		roundTrips += counter.roundTrips.Load() - rt0
	}
	b.StopTimer()
	if got := s.requests.Load(); got != int64(b.N*perSet) {
		b.Fatalf("%d deliveries, want %d", got, b.N*perSet)
	}
	deliveries := float64(b.N * perSet)
	b.ReportMetric(float64(statements)/deliveries, "statements/delivery")
	b.ReportMetric(float64(roundTrips)/deliveries, "round-trips/delivery")
	fmt.Printf("announce delivery of sets of %d Creates: %.2f statements, %.2f round trips per delivery (polls and completions included)\n",
		perSet, float64(statements)/deliveries, float64(roundTrips)/deliveries)
}

// statementCounter counts the statements and round trips of a pool's
// connections: a query is one of each, a batch one round trip for all its
// statements, a COPY two round trips.
type statementCounter struct{ statements, roundTrips atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	c.roundTrips.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.roundTrips.Add(1)
	return ctx
}

func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.statements.Add(1)
}

func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *statementCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	c.statements.Add(1)
	c.roundTrips.Add(2)
	return ctx
}

func (c *statementCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}
