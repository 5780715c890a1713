package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
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
//   - one row: verify's work, then the activity alone, as one row of a
//     table with nothing but a primary key, in group commits on a durable
//     private PostgreSQL (fsync and synchronous commit on): the least a
//     server that answers 202 only once what it took is durable can do;
//   - ideal: verify's work, then the least any design must store durably
//     for a post to a course (idealStore): the activity (for dedupe and
//     crash safety), the post, and the course's Announce as a reference to
//     the stored activity (to be rendered when it is delivered), one row
//     each in such tables, all three in one statement per group commit,
//     from a minimal decoding of the Note;
//   - accept: colearn's own inbox.Handler, storing each activity in its
//     group commits on the same cluster (the migrations applied), with
//     nothing applying what it stores.
//
// accept is an upper bound for the whole server, which does all of it and
// then applies what it stored, on the same two cores; ideal is an upper
// bound for any server here that stores what colearn must, whatever its
// design; one row, for any durable inbox at all. Each line also gives the
// rate its CPU per request would allow with every core busy, which idle
// time (batching, latency) cannot lower.
// The ratio is taken against the highest raw-verify sample, as
// BenchmarkInboxLoad's is.
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
	var stageName atomic.Pointer[string]
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The stage label lets `go tool pprof -tagfocus stage=...` read one
		// stage's handler out of a -cpuprofile of the whole benchmark (the
		// driver's and net/http's own goroutines carry no label).
		pprof.Do(r.Context(), pprof.Labels("stage", *stageName.Load()), func(context.Context) {
			(*current.Load()).ServeHTTP(w, r)
		})
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
	ideal, err := newIdealStore(ctx, pool, idealInsert)
	if err != nil {
		b.Fatal(err)
	}
	defer ideal.close()
	oneRow, err := newIdealStore(ctx, pool, oneRowInsert)
	if err != nil {
		b.Fatal(err)
	}
	defer oneRow.close()
	acceptRoutes := chi.NewRouter()
	accept.Routes(acceptRoutes)
	stages := []struct {
		name    string
		handler http.Handler
	}{
		{"http", http.HandlerFunc(bareInbox)},
		{"verify", verifyingInbox(verifier)},
		{"one row", oneRow.handler(verifier)},
		{"ideal", ideal.handler(verifier)},
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
			stageName.Store(&s.name)
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
			// The rate this CPU per request would give with every core busy:
			// what batching or latency left idle does not lower it.
			full := float64(runtime.NumCPU()) / (per(cpu[i][0]+cpu[i][1]) / 1e6)
			fmt.Printf("  %-7s %8.0f/s  ratio %.3f (target of the whole server ≥ %.2f)  p50 %s, p99 %s; CPU per request: driver and server %.0f µs, PostgreSQL %.0f µs; with every core busy %.0f/s, ratio %.3f\n",
				s.name, p.rate(), p.rate()/base, targetRatio, p.p50.Round(10*time.Microsecond), p.p99.Round(10*time.Microsecond), per(cpu[i][0]), per(cpu[i][1]), full, full/base)
			b.ReportMetric(p.rate()/base, strings.ReplaceAll(s.name, " ", "-")+"-ratio")
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
		if _, _, ok := verified(w, r, v); ok {
			w.WriteHeader(http.StatusAccepted)
		}
	}
}

// verified is verifyingInbox's work: it returns the body and its envelope,
// or answers the request and returns ok false.
func verified(w http.ResponseWriter, r *http.Request, v *federation.Verifier) ([]byte, inbox.Envelope, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, inbox.MaxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, inbox.Envelope{}, false
	}
	env, err := inbox.ParseEnvelope(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, inbox.Envelope{}, false
	}
	key, err := v.Verify(r.Context(), r, body)
	if err != nil || key.Owner != env.Actor {
		http.Error(w, fmt.Sprintf("signature: %v", err), http.StatusUnauthorized)
		return nil, inbox.Envelope{}, false
	}
	return body, env, true
}

// idealStore is the least a server must store durably for a Create of a
// post to a course, written as cheaply as PostgreSQL allows: group commits
// of one statement that inserts the activity, its post and the Announce
// (a reference to the stored activity), into tables with only a primary
// key.
type idealStore struct {
	pool   *pgxpool.Pool
	insert string // idealInsert, or oneRowInsert (the activity alone)
	rows   chan idealRow
	stop   chan struct{}
	wg     sync.WaitGroup
}

type idealRow struct {
	id, actor, body, post, content string
	done                           chan error
}

const idealSchema = `
CREATE TABLE floor_activities (id text PRIMARY KEY, actor text NOT NULL, body text NOT NULL, received_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE floor_posts (iri text PRIMARY KEY, author text NOT NULL, content text NOT NULL);
CREATE TABLE floor_announces (id text PRIMARY KEY, activity text NOT NULL);
CREATE TABLE floor_received (id text PRIMARY KEY, actor text NOT NULL, body text NOT NULL, received_at timestamptz NOT NULL DEFAULT now());`

const idealInsert = `
WITH a AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, actor, body, post, content)),
stored AS (INSERT INTO floor_activities (id, actor, body) SELECT id, actor, body FROM a ON CONFLICT DO NOTHING RETURNING id),
posted AS (INSERT INTO floor_posts SELECT a.post, a.actor, a.content FROM a JOIN stored USING (id) ON CONFLICT DO NOTHING RETURNING iri)
INSERT INTO floor_announces SELECT a.post || '#announce', a.id FROM a JOIN posted ON posted.iri = a.post ON CONFLICT DO NOTHING`

const oneRowInsert = `
INSERT INTO floor_received (id, actor, body)
SELECT id, actor, body FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, actor, body, post, content)
ON CONFLICT DO NOTHING`

// idealWriters and idealBatchMax are the group commit's shape: two writers,
// each taking every row waiting, up to 64.
const (
	idealWriters  = 2
	idealBatchMax = 64
)

func newIdealStore(ctx context.Context, pool *pgxpool.Pool, insert string) (*idealStore, error) {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('floor_received') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		if _, err := pool.Exec(ctx, idealSchema); err != nil {
			return nil, err
		}
	}
	s := &idealStore{pool: pool, insert: insert, rows: make(chan idealRow), stop: make(chan struct{})}
	for range idealWriters {
		s.wg.Add(1)
		go s.write()
	}
	return s, nil
}

func (s *idealStore) close() {
	close(s.stop)
	s.wg.Wait()
}

func (s *idealStore) write() {
	defer s.wg.Done()
	batch := make([]idealRow, 0, idealBatchMax)
	cols := make([][]string, 5)
	for {
		select {
		case r := <-s.rows:
			batch = append(batch, r)
		case <-s.stop:
			return
		}
	gather:
		for len(batch) < idealBatchMax {
			select {
			case r := <-s.rows:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		for i := range cols {
			cols[i] = cols[i][:0]
		}
		for _, r := range batch {
			for i, v := range []string{r.id, r.actor, r.body, r.post, r.content} {
				cols[i] = append(cols[i], v)
			}
		}
		_, err := s.pool.Exec(context.Background(), s.insert, cols[0], cols[1], cols[2], cols[3], cols[4])
		for _, r := range batch {
			r.done <- err
		}
		batch = batch[:0]
	}
}

// handler does what verifyingInbox does, then, for idealInsert, decodes
// the Note's id and content, and stores the rows.
func (s *idealStore) handler(v *federation.Verifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, env, ok := verified(w, r, v)
		if !ok {
			return
		}
		row := idealRow{id: env.ID, actor: env.Actor, body: string(body), done: make(chan error, 1)}
		if s.insert == idealInsert {
			var ok bool
			if row.post, row.content, ok = noteOf(w, body); !ok {
				return
			}
		}
		select {
		case s.rows <- row:
		case <-r.Context().Done():
			return
		}
		if err := <-row.done; err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

// noteOf decodes the id and content of a Create's Note; on failure it
// answers the request and returns ok false.
func noteOf(w http.ResponseWriter, body []byte) (id, content string, ok bool) {
	var create struct {
		Object struct {
			ID      string `json:"id"`
			Content string `json:"content"`
		} `json:"object"`
	}
	if err := json.Unmarshal(body, &create); err != nil || create.Object.ID == "" {
		http.Error(w, "no object", http.StatusBadRequest)
		return "", "", false
	}
	return create.Object.ID, create.Object.Content, true
}
