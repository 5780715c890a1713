package outbox

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fan-out benchmarks of DESIGN.md's performance targets, on loopback:
//
//   - shared: one post to 10,000 members on 100 servers that all have a
//     shared inbox; reported as ms from the publishing transaction's commit
//     to the 100th delivery arriving (target ≤ 150 ms).
//   - personal: one post to 10,000 members without shared inboxes (100
//     servers × 100 inboxes); reported as deliveries/s and as a ratio to
//     the RSA-2048 sign-only rate measured in the same run on all cores
//     (target ≥ 0.85).
//
// The sinks do not verify signatures (verification would bill the sender for
// the receivers' CPU, which shares these cores); the tests do verify them.
// Every delivery is signed for real. Each run first publishes one warm-up
// post, so that connections to the 100 servers are open, as they are on a
// running instance.
//
//	go test -run '^$' -bench Fanout ./outbox/
func BenchmarkFanout(b *testing.B) {
	b.Run("shared", func(b *testing.B) { benchFanout(b, true) })
	b.Run("personal", func(b *testing.B) { benchFanout(b, false) })
}

// arrivals counts deliveries across all sinks and marks when a target count
// is reached.
type arrivals struct {
	n      atomic.Int64
	mu     sync.Mutex
	target int64
	done   chan time.Time
}

func (a *arrivals) expect(target int64) chan time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.target = target
	a.done = make(chan time.Time, 1)
	return a.done
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the body as a real inbox would.
	buf := make([]byte, 4096)
	for {
		if _, err := r.Body.Read(buf); err != nil {
			break
		}
	}
	n := a.n.Add(1)
	a.mu.Lock()
	if n == a.target {
		a.done <- time.Now()
	}
	a.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func benchFanout(b *testing.B, shared bool) {
	const servers, members = 100, 10_000
	bd := setup(b)
	arr := &arrivals{}
	bases := make([]string, servers)
	for i := range bases {
		srv := httptest.NewServer(arr)
		b.Cleanup(srv.Close)
		bases[i] = srv.URL
	}
	sharedInbox := `base[i % 100 + 1] || '/inbox'`
	if !shared {
		sharedInbox = `''`
	}
	_, err := bd.pool.Exec(context.Background(), `
		INSERT INTO course_members (course_id, actor_iri, inbox, shared_inbox, state, via)
		SELECT $1, 'https://h' || (i % 100) || '.test/users/u' || i,
		       base[i % 100 + 1] || '/users/u' || i || '/inbox', `+sharedInbox+`, 'accepted', 'follow'
		FROM generate_series(0, $3::int - 1) AS i, (SELECT $2::text[] AS base) AS b`, bd.courseID, bases, members)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bd.pool.Exec(context.Background(), `ANALYZE course_members`); err != nil {
		b.Fatal(err)
	}
	o := bd.start(b, func(c *Config) { c.RetryDelayFunc = nil })
	perPost := int64(servers)
	if !shared {
		perPost = members
	}

	post := func(n int) time.Duration {
		done := arr.expect(int64(n+1) * perPost)
		a := bd.activity(n)
		a.FollowersOf = bd.courseID
		bd.publish(b, o, a)
		committed := time.Now()
		select {
		case at := <-done:
			return at.Sub(committed)
		case <-time.After(2 * time.Minute):
			b.Fatalf("post %d: %d of %d delivered", n, arr.n.Load()-int64(n)*perPost, perPost)
			return 0
		}
	}
	post(0) // warm-up

	// The sign-only rate is sampled for a second before and after every
	// personal post, so that both sides of the ratio see the same machine
	// (other processes' load drifts).
	var signRate float64
	b.ResetTimer()
	var took []time.Duration
	for i := range b.N {
		if !shared {
			b.StopTimer()
			signRate += rsaSignRate(b, time.Second) / float64(2*b.N)
			b.StartTimer()
		}
		took = append(took, post(i+1))
		if !shared {
			b.StopTimer()
			signRate += rsaSignRate(b, time.Second) / float64(2*b.N)
			b.StartTimer()
		}
	}
	b.StopTimer()

	var sum time.Duration
	for _, d := range took {
		sum += d
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	mean := sum / time.Duration(len(took))
	if shared {
		b.ReportMetric(float64(mean)/float64(time.Millisecond), "ms-commit-to-all-delivered")
		b.ReportMetric(float64(took[len(took)-1])/float64(time.Millisecond), "max-ms")
		return
	}
	rate := float64(members) / mean.Seconds()
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(signRate, "rsa-signs/s")
	b.ReportMetric(rate/signRate, "ratio-to-sign")
}

// rsaSignRate measures RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second
// on all cores: the floor of a delivery's cost.
func rsaSignRate(b *testing.B, d time.Duration) float64 {
	key := benchKey(b)
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	start := time.Now()
	for g := range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Appendf(nil, "(request-target): post /inbox\nhost: example.test\ndate: %d", g)
			for time.Now().Before(stop) {
				sum := sha256.Sum256(msg)
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

var benchKeyOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err == nil {
		k.Precompute()
	}
	return k, err
})

func benchKey(b *testing.B) *rsa.PrivateKey {
	k, err := benchKeyOnce()
	if err != nil {
		b.Fatal(err)
	}
	return k
}
