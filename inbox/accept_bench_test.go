package inbox_test

// BenchmarkInboxAccept measures the whole inbox accept path over real HTTP:
// a server on 127.0.0.1 running the real Handler and Verifier on a durable
// PostgreSQL, loaded by 64 keep-alive clients posting signed Create(Note)
// activities of about 1 KB from 100 remote actors. It checks the design
// targets (DESIGN.md, "Performance targets"):
//
//   - accepted/s ≥ 10,000 and p99 < 20 ms;
//   - ratio_vs_rsa = accepted/s ÷ the raw RSA-2048 verify rate of all cores,
//     measured in the same run, ≥ 0.13;
//   - dup/s, the rate of the same requests replayed, ≥ 1.5 × accepted/s
//     (dup_ratio).
//
// COLEARN_BENCH_CPUPROFILE=file writes a CPU profile of the measured part.
//
// Each run does a fixed amount of work (acceptRequests activities, then the
// same again as replays), whatever b.N is, so run it once:
//
//	go test -run='^$' -bench=InboxAccept -benchtime=1x ./inbox/
//
// What is and is not measured:
//
//   - Signing is done before the clock starts (RSA signing is 30 times
//     slower than verifying), with Date inside the accepted window; keys are
//     served from memory, as the Resolver serves them from its cache.
//   - PostgreSQL is a private cluster with fsync and synchronous_commit on,
//     started for the benchmark, not pgtest's shared one (which trades
//     durability for speed): a 202 here means the row is on disk.
//   - The load clients run in the same process, on the same 2 cores as the
//     server and PostgreSQL. Their HTTP work (about a sixth of the
//     process's CPU in profiles, besides PostgreSQL's share) is charged
//     against the server's figure, so a server alone does better than
//     reported; the ratio against RSA carries the same handicap. Other load
//     on the machine lowers accepted/s and dup/s directly but the ratios
//     much less, since the raw rate is measured under it too.
//   - The raw rate is measured over all cores (GOMAXPROCS goroutines), since
//     the server verifies on all cores; the single-core rate is reported
//     beside it (rsa1/s). Comparing against one core would flatter the ratio
//     by the number of cores.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/internal/httpload"
	"github.com/colearn/colearn/internal/pgcluster"
	"github.com/colearn/colearn/migrations"
)

const (
	acceptRequests    = 20_000 // distinct activities posted, then replayed
	acceptWarmup      = 500    // posted first, outside the measurement
	acceptActors      = 100
	acceptConcurrency = 64
	rawVerifyTime     = 300 * time.Millisecond // per raw measurement
)

// signedPost is one pre-signed delivery to the shared inbox.
type signedPost struct {
	body                    []byte
	date, digest, signature string
}

// BenchmarkInboxAccept posts acceptRequests signed activities, then replays
// them, and reports the figures the file comment lists. It fails if a
// request is not answered 202 or an accepted activity is not in the database.
func BenchmarkInboxAccept(b *testing.B) {
	ctx := b.Context()
	pool := durablePool(b)

	srv := httptest.NewUnstartedServer(nil)
	host := srv.Listener.Addr().String()
	keys, actors := benchActors(b, acceptActors)
	var accepted atomic.Int64
	h := &inbox.Handler{
		Pool:         pool,
		Verifier:     &federation.Verifier{Keys: keys},
		URLs:         federation.URLs{Scheme: "http", Host: host},
		AcceptedFunc: func(string) { accepted.Add(1) },
		WakeFunc:     func(string) {},
	}
	r := chi.NewRouter()
	h.Routes(r)
	srv.Config.Handler = r
	b.Cleanup(h.Close) // after srv.Close: cleanups run last in, first out
	srv.Start()
	b.Cleanup(srv.Close)
	url := srv.URL + "/inbox"
	if err := httpload.CheckLoopback(url); err != nil {
		b.Fatal(err)
	}

	warm := signPosts(b, url, actors, 0, acceptWarmup)
	posts := signPosts(b, url, actors, acceptWarmup, acceptRequests)
	raw := rawFixtureFor(b, actors[0].key, posts[0].body)

	transport := httpload.NewTransport(acceptConcurrency)
	b.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	if path := os.Getenv("COLEARN_BENCH_CPUPROFILE"); path != "" {
		stop := startCPUProfile(b, path)
		defer stop()
	}
	b.ResetTimer()
	rsa1Before, rsaNBefore := raw.rate(1), raw.rate(runtime.GOMAXPROCS(0))
	if res := postAll(ctx, client, url, warm); res.errors > 0 {
		b.Fatalf("warm-up: %d errors, first: %v", res.errors, res.firstErr)
	}
	acquiresBefore := pool.Stat().AcquireCount()
	fresh := postAll(ctx, client, url, posts)
	acquiresAfter := pool.Stat().AcquireCount()
	dup := postAll(ctx, client, url, posts)
	rsa1After, rsaNAfter := raw.rate(1), raw.rate(runtime.GOMAXPROCS(0))
	b.StopTimer()

	for name, res := range map[string]loadResult{"accept": fresh, "replay": dup} {
		if res.errors > 0 {
			b.Fatalf("%s: %d of %d requests failed, first: %v", name, res.errors, len(posts), res.firstErr)
		}
	}
	var stored int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	if want := int64(acceptWarmup + acceptRequests); stored != want || accepted.Load() != want {
		b.Fatalf("%d rows stored and %d reported fresh, want %d", stored, accepted.Load(), want)
	}

	rsa1 := (rsa1Before + rsa1After) / 2
	rsaN := (rsaNBefore + rsaNAfter) / 2
	b.ReportMetric(fresh.rate(), "accepted/s")
	b.ReportMetric(ms(fresh.p50), "p50_ms")
	b.ReportMetric(ms(fresh.p99), "p99_ms")
	b.ReportMetric(fresh.rate()/rsaN, "ratio_vs_rsa")
	b.ReportMetric(dup.rate(), "dup/s")
	b.ReportMetric(ms(dup.p99), "dup_p99_ms")
	b.ReportMetric(dup.rate()/fresh.rate(), "dup_ratio")
	b.ReportMetric(rsa1, "rsa1/s")
	b.ReportMetric(rsaN, "rsaN/s")
	// Nothing else uses the pool meanwhile: one acquire is one statement.
	b.ReportMetric(float64(acceptRequests)/float64(max(1, acquiresAfter-acquiresBefore)), "rows/commit")
}

// startCPUProfile profiles the measured part only, without the key
// generation and signing that -cpuprofile would be dominated by.
func startCPUProfile(b *testing.B, path string) (stop func()) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// durablePool starts a private PostgreSQL with its durability settings left
// as they are by default, migrates it and returns a pool on it.
func durablePool(b *testing.B) *pgxpool.Pool {
	b.Helper()
	dir, err := os.MkdirTemp("", "colearn-bench-pg")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Database: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Stop() })
	pool, err := pgxpool.New(context.Background(), c.URL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := migrations.Apply(context.Background(), pool); err != nil {
		b.Fatal(err)
	}
	var fsync, syncCommit string
	if err := pool.QueryRow(context.Background(), `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit); err != nil {
		b.Fatal(err)
	}
	if fsync != "on" || syncCommit != "on" {
		b.Fatalf("fsync=%s synchronous_commit=%s, want both on", fsync, syncCommit)
	}
	return pool
}

type benchActor struct {
	iri, keyID string
	key        *rsa.PrivateKey
}

// benchActors generates n remote actors on 10 hosts, their keys served from
// memory.
func benchActors(b *testing.B, n int) (benchKeys, []benchActor) {
	b.Helper()
	actors := make([]benchActor, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range actors {
		wg.Go(func() {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				errs <- err
				return
			}
			iri := fmt.Sprintf("https://peer%d.example/users/u%d", i%10, i)
			actors[i] = benchActor{iri: iri, keyID: federation.MainKey(iri), key: key}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	keys := benchKeys{}
	for _, a := range actors {
		keys[a.keyID] = federation.PublicKey{ID: a.keyID, Owner: a.iri, Key: &a.key.PublicKey}
	}
	return keys, actors
}

// signPosts signs count distinct activities, numbered from first, spread
// over the actors, as federation.Signer signs them.
func signPosts(b *testing.B, url string, actors []benchActor, first, count int) []signedPost {
	b.Helper()
	posts := make([]signedPost, count)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				a := actors[i%len(actors)]
				body := bytes.Replace(benchNote(a.iri), []byte("/statuses/113"), []byte("/statuses/"+strconv.Itoa(first+i)), 2)
				req, err := http.NewRequest(http.MethodPost, url, nil)
				if err == nil {
					err = federation.Signer{KeyID: a.keyID, Key: a.key}.Sign(req, body)
				}
				if err != nil {
					errs <- err
					return
				}
				posts[i] = signedPost{body: body, date: req.Header.Get("Date"), digest: req.Header.Get("Digest"), signature: req.Header.Get("Signature")}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return posts
}

type loadResult struct {
	elapsed  time.Duration
	n        int
	errors   int
	firstErr error
	p50, p99 time.Duration
}

func (r loadResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// postAll sends every post once, acceptConcurrency at a time, each client
// on its own keep-alive connection; anything but 202 is an error.
func postAll(ctx context.Context, client *http.Client, url string, posts []signedPost) loadResult {
	var (
		next    atomic.Int64
		mu      sync.Mutex
		res     loadResult
		latency = make([]time.Duration, 0, len(posts))
		wg      sync.WaitGroup
	)
	start := time.Now()
	for range acceptConcurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, len(posts)/acceptConcurrency+1)
			var errs int
			var first error
			for {
				i := int(next.Add(1)) - 1
				if i >= len(posts) || ctx.Err() != nil {
					break
				}
				t0 := time.Now()
				if err := post(ctx, client, url, posts[i]); err != nil {
					errs++
					if first == nil {
						first = err
					}
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			latency = append(latency, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.n = len(latency)
	if res.n > 0 {
		slices.Sort(latency)
		res.p50 = latency[res.n*50/100]
		res.p99 = latency[min(res.n-1, res.n*99/100)]
	}
	return res
}

func post(ctx context.Context, client *http.Client, url string, p signedPost) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(p.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Date", p.date)
	req.Header.Set("Digest", p.digest)
	req.Header.Set("Signature", p.signature)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	msg, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return nil
}

// rawVerify is one RSA-2048 PKCS#1 v1.5 signature over a SHA-256 digest,
// what every accepted request must check at least once.
type rawVerify struct {
	pub    *rsa.PublicKey
	digest []byte
	sig    []byte
}

func rawFixtureFor(b *testing.B, key *rsa.PrivateKey, body []byte) rawVerify {
	b.Helper()
	sum := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	return rawVerify{pub: &key.PublicKey, digest: sum[:], sig: sig}
}

// rate runs rsa.VerifyPKCS1v15 on workers goroutines for rawVerifyTime and
// returns verifications per second.
func (f rawVerify) rate(workers int) float64 {
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(rawVerifyTime)
	for range workers {
		wg.Go(func() {
			n := 0
			for time.Now().Before(deadline) {
				for range 16 {
					if rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, f.digest, f.sig) != nil {
						panic("raw verify failed")
					}
				}
				n += 16
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds()
}
