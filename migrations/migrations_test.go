package migrations_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/migrations"
	"github.com/jackc/pgx/v5"
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

// The queue tables are analyzed again within seconds of filling, not after
// a minute or a tenth of their size: a prepared statement's plan made
// while the table was empty (a sequential scan) must not outlive a burst.
func TestQueueTablesAreAnalyzedSoonAfterTheyFill(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	// 5,000 rows after an analyze of 50,000: beyond a fiftieth, below a
	// tenth, so only the table's own settings make autovacuum look again.
	insert := func(from, to int) {
		t.Helper()
		_, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body)
			SELECT 'https://peer.test/a/' || g, 'https://peer.test/u/' || (g % 100), 'Create', '{}' FROM generate_series($1::int, $2::int) g`, from, to)
		if err != nil {
			t.Fatal(err)
		}
	}
	lastAnalyze := func() *time.Time {
		t.Helper()
		var last *time.Time
		if err := pool.QueryRow(ctx, `SELECT last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'inbox_activities'`).Scan(&last); err != nil {
			t.Fatal(err)
		}
		return last
	}
	waitAnalyzed := func(after time.Time, why string) time.Time {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if last := lastAnalyze(); last != nil && last.After(after) {
				return *last
			}
			if time.Now().After(deadline) {
				t.Fatalf("inbox_activities not analyzed within 30 s of %s (last autoanalyze %v)", why, lastAnalyze())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	insert(1, 50_000)
	analyzed := waitAnalyzed(time.Time{}, "its first 50,000 rows")
	insert(50_001, 55_000)
	waitAnalyzed(analyzed, "growing by 5,000 rows (a tenth: below the default threshold)")
}

// Every column of the tables analyzed every few seconds samples 3,000
// rows, not 30,000 (00021): a column added later without the target would
// bring the whole table's sample back to the default.
func TestFrequentlyAnalyzedTablesSampleFewRows(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	rows, err := pool.Query(context.Background(), `
		SELECT a.attrelid::regclass::text || '.' || a.attname, a.attstattarget FROM pg_attribute a
		WHERE a.attrelid IN ('inbox_activities'::regclass, 'outbox_activities'::regclass, 'posts'::regclass, 'post_announces'::regclass)
		  AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	var target *int // NULL on PostgreSQL 17 for a column left at the default
	n := 0
	_, err = pgx.ForEachRow(rows, []any{&name, &target}, func() error {
		n++
		switch {
		case target == nil:
			t.Errorf("%s: statistics target the default, want 10", name)
		case *target != 10:
			t.Errorf("%s: statistics target %d, want 10", name, *target)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d columns found", n)
	}
}
