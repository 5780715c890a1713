package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/internal/pgcluster"
	"github.com/colearn/colearn/migrations"
)

// BenchmarkInboxFloor measures what the same driver, requests and cores
// reach against servers that each do less than `colearn serve`, so that
// BenchmarkInboxLoad's ratio can be read against what is possible here at
// all. The servers run in this process (no second runtime, no scheduling
// between two server processes, none of colearn's middleware), which only
// flatters them:
//
//   - http: reads the body and answers 202;
//   - verify: also parses the envelope and verifies the signature, with the
//     keys already in memory;
//   - accept: colearn's own inbox.Handler, storing each activity in its
//     group commits on a durable private PostgreSQL (fsync and synchronous
//     commit on, the migrations applied), with nothing applying what it
//     stores.
//
// Each is an upper bound for the whole server: colearn does all of accept
// and then applies what it stored, on the same two cores. The ratio is
// taken against the highest raw-verify sample, as BenchmarkInboxLoad's is.
//
//	COLEARN_INBOXLOAD_N=100000 go test -run '^$' -bench InboxFloor -benchtime 1x -timeout 1h ./cmd/inboxload/
func BenchmarkInboxFloor(b *testing.B) {
	n := loadCount(b)
	ctx := context.Background()
	a, err := startActors(100)
	if err != nil {
		b.Fatal(err)
	}
	defer a.close()

	dir := b.TempDir()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Database: "colearn"})
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Stop()
	pgdata := filepath.Join(dir, "pgdata")
	pool, err := pgxpool.New(ctx, cluster.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := migrations.Apply(ctx, pool); err != nil {
		b.Fatal(err)
	}
	var fsync, syncCommit string
	if err := pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit); err != nil {
		b.Fatal(err)
	}
	if fsync != "on" || syncCommit != "on" {
		b.Fatalf("the floor's PostgreSQL is not durable: fsync=%s synchronous_commit=%s", fsync, syncCommit)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	host := ln.Addr().String()
	var current atomic.Pointer[http.Handler]
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*current.Load()).ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	t, err := newTarget("http://"+host, 32)
	if err != nil {
		b.Fatal(err)
	}
	t.course, t.inbox = "http://"+host+"/courses/floor", "http://"+host+"/inbox"
	a.course = t.course
	reqs, err := t.presign(a, n)
	if err != nil {
		b.Fatal(err)
	}

	verifier := &federation.Verifier{Keys: memoryKeys{a}, Host: host}
	accept := &inbox.Handler{Pool: pool, Verifier: verifier, URLs: federation.URLs{Scheme: "http", Host: host}}
	defer accept.Close()
	acceptRoutes := chi.NewRouter()
	accept.Routes(acceptRoutes)
	stages := []struct {
		name    string
		handler http.Handler
	}{
		{"http", http.HandlerFunc(bareInbox)},
		{"verify", verifyingInbox(verifier)},
		{"accept", acceptRoutes},
	}

	b.ResetTimer()
	for range b.N {
		before, err := verifySamples(verifySampleCount, verifySampleTime)
		if err != nil {
			b.Fatal(err)
		}
		passes := make([]pass, len(stages))
		cpu := make([][2]time.Duration, len(stages)) // this process, PostgreSQL
		for i, s := range stages {
			current.Store(&s.handler)
			self0, pg0 := selfCPU(), clusterCPU(pgdata)
			passes[i] = t.send(ctx, reqs, 32)
			cpu[i] = [2]time.Duration{selfCPU() - self0, clusterCPU(pgdata) - pg0}
			if p := passes[i]; p.accepted != n {
				b.Fatalf("%s: %d of %d accepted (%d refused, %d errors; first: %s)", s.name, p.accepted, n, p.refused, p.errors, p.firstError)
			}
		}
		after, err := verifySamples(verifySampleCount, verifySampleTime)
		if err != nil {
			b.Fatal(err)
		}
		rep := &report{verifyBefore: before, verify: after}
		base := rep.baseline()
		lo, med, hi := spread(append(before, after...))
		fmt.Printf("inbox floor: %d distinct Create(Note) from %d actors, %d connections, servers in this process\n", n, len(a.keys), 32)
		fmt.Printf("  raw RSA verify  %8.0f/s all cores, the highest of %d samples (lowest %.0f, median %.0f)\n", hi, 2*verifySampleCount, lo, med)
		for i, s := range stages {
			p := passes[i]
			per := func(d time.Duration) float64 { return d.Seconds() / float64(p.accepted) * 1e6 }
			fmt.Printf("  %-7s %8.0f/s  ratio %.3f (target of the whole server ≥ %.2f)  p50 %s, p99 %s; CPU per request: driver and server %.0f µs, PostgreSQL %.0f µs\n",
				s.name, p.rate(), p.rate()/base, targetRatio, p.p50.Round(10*time.Microsecond), p.p99.Round(10*time.Microsecond), per(cpu[i][0]), per(cpu[i][1]))
			b.ReportMetric(p.rate()/base, s.name+"-ratio")
		}
		fmt.Printf("  (%d cores; the ratio is ÷ the highest verify sample)\n", runtime.NumCPU())
	}
}

// loadCount is COLEARN_INBOXLOAD_N, or 20,000.
func loadCount(b *testing.B) int {
	v := os.Getenv("COLEARN_INBOXLOAD_N")
	if v == "" {
		return 20_000
	}
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
		b.Fatalf("COLEARN_INBOXLOAD_N=%q: want a count", v)
	}
	return n
}

// memoryKeys resolves the driver's own actors' keys without a fetch.
type memoryKeys struct{ a *actors }

func (k memoryKeys) ResolveKey(_ context.Context, keyID string, _ bool) (federation.PublicKey, error) {
	for i, key := range k.a.keys {
		if owner := k.a.iri(i); keyID == owner+"#main-key" {
			return federation.PublicKey{ID: keyID, Owner: owner, Key: &key.PublicKey}, nil
		}
	}
	return federation.PublicKey{}, errors.New("unknown key " + keyID)
}

// bareInbox reads the body, bounded as colearn's inbox bounds it, and
// answers 202.
func bareInbox(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(http.MaxBytesReader(w, r.Body, inbox.MaxBody)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// verifyingInbox reads the body, parses its envelope, verifies the
// signature and that the key is the actor's, and answers 202.
func verifyingInbox(v *federation.Verifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, inbox.MaxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		env, err := inbox.ParseEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		key, err := v.Verify(r.Context(), r, body)
		if err != nil || key.Owner != env.Actor {
			http.Error(w, fmt.Sprintf("signature: %v", err), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}
