package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// queuePoolConns is the size of River's own pool: its producer's fetches,
// its completer, its LISTEN connection, its maintenance (leader election,
// cleaner, rescuer, scheduler), and the fan-out jobs' transactions (at
// most 4 at once) and the deliveries' continuations.
const queuePoolConns = 12

// newQueuePool opens River's own pool, to the same database as pool, whose
// sessions plan each prepared statement once (plan_cache_mode =
// force_generic_plan). River's statements fetch and complete jobs by id
// arrays and states, whose best plan does not depend on the values; left
// to choose, PostgreSQL planned them afresh on every run (custom plans):
// in BenchmarkInboxLoad, 20,000 Creates, River's completion took 0.85 ms
// of planning per call, more than its execution, and its fetch 0.3 ms. The
// fan-out jobs' transactions run here too (outbox.Config.QueuePool): they
// complete their job with River's statement.
// Plans are still made again when autovacuum analyzes river_job
// (migrations/00020_queue_statistics.sql keeps that frequent), so one made
// while the table was small does not outlive its growth. colearn's own
// statements stay on the main pool, where PostgreSQL chooses.
func newQueuePool(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config().Copy()
	cfg.MaxConns = queuePoolConns
	cfg.MinConns = 0
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	cfg.ConnConfig.RuntimeParams["application_name"] = "colearn-queue"
	qp, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("delivery queue's pool: %w", err)
	}
	return qp, nil
}
