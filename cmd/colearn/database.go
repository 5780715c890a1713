package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/internal/pgcluster"
	"github.com/colearn/colearn/migrations"
)

// openDatabase connects to DATABASE_URL, or starts the private cluster in
// the data folder, and applies migrations. close releases both.
func openDatabase(ctx context.Context, c config, log *slog.Logger, ownCluster bool) (pool *pgxpool.Pool, close func(), err error) {
	url := c.DatabaseURL
	if url == "" {
		url = os.Getenv("DATABASE_URL")
	}
	stopCluster := func() {}
	private := url == ""
	if private {
		cl, err := pgcluster.Start(ctx, pgcluster.Options{
			Dir:          filepath.Join(c.DataDir, "postgres"),
			Database:     "colearn",
			Logger:       log,
			StopAttached: ownCluster,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("private PostgreSQL: %w", err)
		}
		url = cl.URL()
		stopCluster = func() { cl.Stop() }
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		stopCluster()
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		stopCluster()
		return nil, nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	v, err := migrations.Apply(ctx, pool)
	if err != nil {
		pool.Close()
		stopCluster()
		return nil, nil, err
	}
	log.Info("database ready", "schema_version", v, "private", private)
	return pool, func() { pool.Close(); stopCluster() }, nil
}

// connect makes a command's logger and opens its database; close releases
// the database.
func connect(ctx context.Context, c config, stderr io.Writer, ownCluster bool) (*slog.Logger, *pgxpool.Pool, func(), error) {
	log, err := newLogger(c.LogLevel, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	pool, closeDB, err := openDatabase(ctx, c, log, ownCluster)
	if err != nil {
		return nil, nil, nil, err
	}
	return log, pool, closeDB, nil
}

// openInstance opens the database and wires an instance on it, for the
// commands that run one (serve, worker). stop closes both, instance first.
func openInstance(ctx context.Context, c config, stderr io.Writer, ownCluster bool) (in *instance, stop func(), err error) {
	log, pool, closeDB, err := connect(ctx, c, stderr, ownCluster)
	if err != nil {
		return nil, nil, err
	}
	warnIfDev(c, log)
	if in, err = newInstance(ctx, c, pool, log); err != nil {
		closeDB()
		return nil, nil, err
	}
	stopMetrics := in.metrics.serve(c.MetricsListen, log)
	return in, func() { stopMetrics(); in.Close(); closeDB() }, nil
}
