// Package migrations holds colearn's forward-only SQL schema, embedded in the
// binary, and applies it with goose under a PostgreSQL advisory lock, so that
// several processes starting at once apply each migration exactly once. The
// job queue's own tables (River's) are migrated right after, under the same
// lock.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed *.sql
var files embed.FS

// lockID is the advisory lock key held while migrating ("colearn" in ASCII).
const lockID = 0x636f6c6561726e

// Apply brings the database behind pool up to the newest schema, then River's
// job tables up to River's newest, and returns colearn's schema version. It
// is safe to call from several processes at once: the others wait for the
// lock, then find nothing left to do. The pool needs at least two
// connections (one holds the lock while River migrates on another).
func Apply(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	v, err := apply(ctx, db)
	if err != nil {
		return 0, err
	}
	if err := applyRiver(ctx, pool); err != nil {
		return 0, err
	}
	return v, nil
}

// applyRiver runs River's migrations. rivermigrate takes no lock of its own
// (two processes would both try to create river_job), so a dedicated
// connection holds the same session advisory lock goose uses while it runs.
func applyRiver(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(lockID)); err != nil {
		return fmt.Errorf("migrate river: take lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx is done, or the
		// pooled connection would keep holding it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockID)); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB) (int64, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return 0, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
	if err != nil {
		return 0, fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("apply migrations: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
