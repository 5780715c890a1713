package migrations_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Several processes starting at once must apply each migration exactly once.
func TestApplyConcurrentlyIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	want, err := migrations.Apply(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := pgxpool.New(ctx, pool.Config().ConnString())
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			v, err := migrations.Apply(ctx, p)
			if err == nil && v != want {
				t.Errorf("version %d, want %d", v, want)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var applied int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id = $1", want).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("migration %d recorded %d times", want, applied)
	}
}

// River's job tables come with the schema, so a fresh database can queue
// deliveries straight away.
func TestApplyCreatesRiverTables(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	var n int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename IN ('river_job', 'river_leader', 'river_queue', 'river_migration')`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("found %d of River's 4 tables", n)
	}
	if _, err := migrations.Apply(ctx, pool); err != nil {
		t.Fatalf("re-apply: %v", err)
	}
}
