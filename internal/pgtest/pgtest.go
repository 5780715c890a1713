// Package pgtest gives tests real PostgreSQL databases: one private cluster
// per test binary (started by Main), a template database migrated once, and a
// fresh copy of the template for every caller of NewPool.
//
// There is no fallback: without PostgreSQL's server binaries the tests fail
// with the error that says what to install.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/internal/pgcluster"
	"github.com/colearn/colearn/migrations"
)

const template = "colearn_template"

// cluster is the test binary's private server. It is the one piece of package
// state in colearn, and it exists only in test binaries: TestMain has no other
// way to hand the server to the tests it runs.
var (
	cluster *pgcluster.Cluster
	counter atomic.Int64
)

// Main starts the private cluster, migrates the template database, runs the
// tests and stops the cluster. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "colearn-test-pg")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Database: template, Fast: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: cannot start PostgreSQL for the tests:", err)
		return 1
	}
	defer c.Stop()
	if err := migrateTemplate(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	cluster = c
	return m.Run()
}

func migrateTemplate(ctx context.Context, c *pgcluster.Cluster) error {
	pool, err := pgxpool.New(ctx, c.URL())
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrations.Apply(ctx, pool); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

// NewDatabase creates a fresh, migrated database and returns its URL. The
// database lives until the test binary ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if cluster == nil {
		t.Fatal("pgtest: no cluster; call pgtest.Main from TestMain")
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), counter.Add(1))
	if err := pgcluster.CreateDatabase(context.Background(), cluster.DSN("postgres"), name, template); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return cluster.DSN(name)
}

// NewPool returns a pool on a fresh, migrated database, closed when the test
// ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDatabase(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// AdminDSN is the cluster's maintenance database, for tests that must create
// databases of their own.
func AdminDSN() string { return cluster.DSN("postgres") }
