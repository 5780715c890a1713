package courses_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type bundle struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	store *courses.Store
}

func setup(t *testing.T) bundle {
	t.Helper()
	pool := pgtest.NewPool(t)
	return bundle{ctx: t.Context(), pool: pool, store: courses.NewStore(pool)}
}

// inTx runs fn in a transaction, committing when it succeeds.
func inTx[T any](t *testing.T, b bundle, fn func(tx pgx.Tx) (T, error)) (T, error) {
	t.Helper()
	tx, err := b.pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx)
	v, err := fn(tx)
	if err != nil {
		return v, err
	}
	return v, tx.Commit(b.ctx)
}

func mustCreate(t *testing.T, b bundle, nu courses.NewUser) courses.User {
	t.Helper()
	u, err := inTx(t, b, func(tx pgx.Tx) (courses.User, error) { return b.store.CreateUser(b.ctx, tx, nu) })
	if err != nil {
		t.Fatalf("create %q: %v", nu.Username, err)
	}
	return u
}

func count(t *testing.T, b bundle, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(b.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
