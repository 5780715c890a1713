package inbox_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/internal/pgtest"
)

// TestInboxBodyIsNotSizedByContentLength opens many connections that each
// declare a body just under the limit, send a few bytes of it and stall,
// as a slow-loris peer would before any signature is checked. Once every
// request is inside the handler, the heap must hold a few bytes per
// connection, not the declared megabyte: the body buffer grows as bytes
// arrive. Not parallel: the heap it measures is the whole test binary's,
// and parallel tests wait until the sequential ones are done.
func TestInboxBodyIsNotSizedByContentLength(t *testing.T) {
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	keys := federation.NewKeyStore(pool)
	if err := keys.EnsureInstanceKeys(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	urls := federation.URLs{Scheme: "http", Host: srv.Listener.Addr().String()}
	client := federation.NewClient(federation.ClientConfig{AllowPrivate: true, Timeout: 5 * time.Second})
	h := &inbox.Handler{
		Pool:       pool,
		Verifier:   &federation.Verifier{Keys: federation.NewResolver(pool, client, urls, keys), Host: urls.Host},
		Recipients: courses.NewStore(pool),
		URLs:       urls,
	}
	t.Cleanup(h.Close)
	r := chi.NewRouter()
	var inside atomic.Int64
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inside.Add(1)
			defer inside.Add(-1)
			next.ServeHTTP(w, r)
		})
	})
	h.Routes(r)
	srv.Config.Handler = r
	srv.Start()
	t.Cleanup(srv.Close)

	const conns = 64
	declared := inbox.MaxBody - 1
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range conns {
		c, err := net.Dial("tcp", urls.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST /inbox HTTP/1.1\r\nHost: %s\r\nContent-Type: application/activity+json\r\nContent-Length: %d\r\n\r\n{\"id\":\"stall-%d\"", urls.Host, declared, i)
	}
	deadline := time.Now().Add(30 * time.Second)
	for inside.Load() < conns {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d stalled requests reached the handler", inside.Load(), conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Every request is now blocked reading its body; give the reads a
	// moment to have allocated whatever they allocate up front.
	time.Sleep(100 * time.Millisecond)
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	grown := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	limit := int64(conns) * int64(declared) / 8
	t.Logf("%d stalled requests declaring %d bytes each: heap grew by %d bytes (declared total %d)", conns, declared, grown, int64(conns)*int64(declared))
	if grown > limit {
		t.Fatalf("the heap grew by %d bytes for %d stalled requests: bodies are allocated from Content-Length (limit %d)", grown, conns, limit)
	}
}
