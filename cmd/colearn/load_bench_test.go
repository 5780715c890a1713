package main

// Whole-server benchmarks of the GETs peers make most: actor documents and
// WebFinger. Each starts a real instance (a pgtest database, newInstance, an
// http.Server on 127.0.0.1:0 with the timeouts of `colearn serve`), creates
// a user and sends b.N requests from 64 workers over keep-alive connections.
// The same load goes to a static handler writing a fixed 1 KB JSON document
// in the same process, in alternating rounds, so the report carries a ratio
// that does not depend on the machine or on other load on it:
//
//	go test -run='^$' -bench=GET -benchtime=100000x ./cmd/colearn/
//
// Client and server share the machine's cores, so req/s is a lower bound of
// what the server alone can do. DESIGN.md asks for ≥ 20,000 req/s on 2 cores.
//
// The package's TestMain provides the pgtest cluster. Names here start with
// "bench" so as not to collide with the package's other test helpers.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/httpload"
	"github.com/colearn/colearn/internal/pgtest"
)

const (
	benchConcurrency = 64
	benchUsername    = "benchuser"
)

// benchInstance is a running instance and a static server beside it, with
// one warm client for each.
type benchInstance struct {
	in           *instance
	base         string // http://127.0.0.1:PORT of the instance
	host         string
	static       string // URL of the static handler
	client       *http.Client
	staticClient *http.Client
}

// benchStaticDoc is the static baseline's 1 KB JSON document.
var benchStaticDoc = func() []byte {
	doc := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Note","content":"`)
	doc = append(doc, bytes.Repeat([]byte("x"), 1024-len(doc)-2)...)
	return append(doc, '"', '}')
}()

// benchStart starts an instance with one user, and the static server.
// Everything stops when b ends.
func benchStart(b *testing.B) *benchInstance {
	b.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	cfg := config{Host: ln.Addr().String(), Dev: true, LogLevel: "error"}
	log, err := newLogger(cfg.LogLevel, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	pool := pgtest.NewPool(b)
	in, err := newInstance(ctx, cfg, pool, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(in.Close)
	if _, err := createAccount(ctx, pool, in.keys,
		courses.NewUser{Username: benchUsername, Password: "bench password 1234", DisplayName: "Bench User"},
		in.courses.CreateUser); err != nil {
		b.Fatal(err)
	}
	s := &benchInstance{
		in:           in,
		base:         benchServe(b, ln, in.handler),
		host:         cfg.Host,
		client:       &http.Client{Transport: httpload.NewTransport(benchConcurrency)},
		staticClient: &http.Client{Transport: httpload.NewTransport(benchConcurrency)},
	}
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s.static = benchServe(b, sln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		w.Write(benchStaticDoc)
	})) + "/static"
	b.Cleanup(s.client.CloseIdleConnections)
	b.Cleanup(s.staticClient.CloseIdleConnections)
	return s
}

// benchServe serves h on ln with the server settings of `colearn serve`
// and returns the listener's base URL.
func benchServe(b *testing.B, ln net.Listener, h http.Handler) string {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// benchRounds is how many alternating rounds benchGET splits its requests
// into, so that a change of load on the machine during the run (other
// processes share the cores) weighs on both sides of the ratio alike.
const benchRounds = 10

// benchGET sends b.N GETs of target to the instance and b.N GETs to the
// static handler, alternating in rounds, and reports both rates, their
// ratio and the instance's p50 and p99 latency (the worst round's). Only the
// instance's rounds are timed.
func (s *benchInstance) benchGET(b *testing.B, target, accept string) {
	ctx := context.Background()
	// One request first, so that a broken route fails at once and not as
	// b.N errors.
	warm, err := httpload.Run(ctx, httpload.Options{URL: target, Accept: accept, Concurrency: 1, Requests: 1, Client: s.client})
	if err != nil || warm.Errors > 0 {
		b.Fatalf("GET %s: %v", target, errors.Join(err, warm.FirstError))
	}
	run := func(url string, client *http.Client, n int) httpload.Result {
		res, err := httpload.Run(ctx, httpload.Options{URL: url, Accept: accept, Concurrency: benchConcurrency, Requests: n, Client: client})
		if err == nil && res.Errors > 0 {
			err = fmt.Errorf("%d of %d requests failed; first: %w", res.Errors, res.Requests, res.FirstError)
		}
		if err != nil {
			b.Fatalf("GET %s: %v", url, err)
		}
		return res
	}
	var served, static httpload.Result
	b.ResetTimer()
	b.StopTimer()
	for i := range benchRounds {
		n := b.N / benchRounds
		if i < b.N%benchRounds {
			n++
		}
		if n == 0 {
			continue
		}
		b.StartTimer()
		r := run(target, s.client, n)
		b.StopTimer()
		served.Requests += r.Requests
		served.Elapsed += r.Elapsed
		served.P50 = max(served.P50, r.P50)
		served.P99 = max(served.P99, r.P99)
		r = run(s.static, s.staticClient, n)
		static.Requests += r.Requests
		static.Elapsed += r.Elapsed
	}
	b.ReportMetric(served.Rate(), "req/s")
	b.ReportMetric(static.Rate(), "static-req/s")
	b.ReportMetric(served.Rate()/static.Rate(), "ratio")
	b.ReportMetric(float64(served.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(served.P99.Microseconds())/1000, "p99-ms")
}

// BenchmarkActorGET fetches a user's actor document as a peer does.
func BenchmarkActorGET(b *testing.B) {
	s := benchStart(b)
	target := s.base + "/users/" + benchUsername
	b.Run("c64", func(b *testing.B) { s.benchGET(b, target, federation.ContentTypeActivity) })
}

// BenchmarkWebFingerGET resolves a user's handle as a peer does before
// following.
func BenchmarkWebFingerGET(b *testing.B) {
	s := benchStart(b)
	target := s.base + "/.well-known/webfinger?resource=" + url.QueryEscape("acct:"+benchUsername+"@"+s.host)
	b.Run("c64", func(b *testing.B) { s.benchGET(b, target, "application/jrd+json") })
}

// stampedeSize is how many peers fetch a new post at the same moment, as
// when a course with a thousand followers on as many servers announces it.
const stampedeSize = 1000

// BenchmarkPostStampede publishes a new post and has 1,000 clients, each on
// a new connection, fetch it at once; then the same against the static
// handler. It reports how long until all were answered (DESIGN.md: every
// one within 500 ms, no errors), the p99, and the ratio of the static
// stampede's time to the post's.
func BenchmarkPostStampede(b *testing.B) {
	s := benchStart(b)
	ctx := context.Background()
	owner, err := s.in.courses.UserByUsername(ctx, benchUsername)
	if err != nil {
		b.Fatal(err)
	}
	course, err := s.in.actions.CreateCourse(ctx, owner, courses.CourseDraft{Slug: "stampede", Title: "Stampede"})
	if err != nil {
		b.Fatal(err)
	}
	stampede := func(target string) httpload.Result {
		client := &http.Client{Transport: httpload.NewTransport(stampedeSize)}
		defer client.CloseIdleConnections()
		res, err := httpload.Run(ctx, httpload.Options{URL: target, Accept: federation.ContentTypeActivity,
			Concurrency: stampedeSize, Requests: stampedeSize, Client: client})
		if err == nil && res.Errors > 0 {
			err = fmt.Errorf("%d of %d requests failed; first: %w", res.Errors, res.Requests, res.FirstError)
		}
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	var worst, worstStatic time.Duration
	var p99 time.Duration
	for range b.N {
		b.StopTimer()
		post, err := s.in.actions.Announce(ctx, owner, course, "Everyone fetches this at once")
		if err != nil {
			b.Fatal(err)
		}
		s.awaitNotices(b)
		b.StartTimer()
		r := stampede(post.IRI)
		b.StopTimer()
		worst, p99 = max(worst, r.Elapsed), max(p99, r.P99)
		worstStatic = max(worstStatic, stampede(s.static).Elapsed)
		b.StartTimer()
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "all-answered-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(worstStatic.Microseconds())/1000, "static-all-answered-ms")
	b.ReportMetric(float64(worstStatic)/float64(worst), "ratio")
}

// benchSite makes the instance's user the owner of a course with members,
// a lesson and a discussion post, and waits until the document cache
// listens. It returns the course, the post and the lesson's IRI.
func (s *benchInstance) benchSite(b *testing.B, slug string, members int) (courses.Course, courses.Post, string) {
	b.Helper()
	ctx := context.Background()
	owner, err := s.in.courses.UserByUsername(ctx, benchUsername)
	if err != nil {
		b.Fatal(err)
	}
	course, err := s.in.actions.CreateCourse(ctx, owner, courses.CourseDraft{Slug: slug, Title: "Reads", Summary: "A course to *read*."})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.in.pool.Exec(ctx, `
		INSERT INTO course_members (course_id, actor_iri, name, handle, role, state, via)
		SELECT $1, 'https://s' || (g % 20) || '.example/users/u' || g, 'U' || g, 'u' || g, 'learner', 'accepted', 'follow'
		FROM generate_series(1, $2::int) g`, course.ID, members); err != nil {
		b.Fatal(err)
	}
	m, err := s.in.actions.AddModule(ctx, owner, course, courses.ModuleDraft{Title: "First lesson", Body: "Read *this* first."})
	if err != nil {
		b.Fatal(err)
	}
	post, err := s.in.actions.Post(ctx, owner, s.in.urls.Course(slug), "Hello, readers", "")
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !s.in.docs.Listening() {
		if time.Now().After(deadline) {
			b.Fatal("the document cache does not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return course, post, s.in.urls.Module(slug, m.ID)
}

// awaitNotices waits until the change notices of this process's own
// changes have come back. Until then the changed documents are rendered per
// request (so none is stale); a real stampede starts only once the
// followers' servers have received the delivery, long after the notice.
func (s *benchInstance) awaitNotices(b *testing.B) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.in.docs.Pending() > 0 {
		if time.Now().After(deadline) {
			b.Fatal("change notices did not come back")
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkReads is the load driver's table in a benchmark run: every
// public document and page (the list of `loadgen reads`) loaded for 2 s at
// 32 connections, beside /healthz of the same server measured before and
// after, with its target and MISS where below:
//
//	go test -run='^$' -bench=Reads -benchtime=1x ./cmd/colearn/
func BenchmarkReads(b *testing.B) {
	s := benchStart(b)
	_, post, lesson := s.benchSite(b, "reads", 200)
	targets := httpload.ReadTargets(httpload.Site{Base: s.base, Host: s.host, User: benchUsername, Course: "reads",
		Post: post.IRI, Lesson: lesson})
	var tb httpload.Table
	for range b.N {
		var err error
		tb, err = httpload.MeasureTable(context.Background(), httpload.Target{Name: "/healthz", URL: s.base + "/healthz"},
			targets, 32, 2*time.Second)
		if err != nil {
			b.Fatal(err)
		}
	}
	var out strings.Builder
	tb.Print(&out)
	fmt.Println(out.String()) // b.Log would cut the table at ten lines
	misses := 0
	for _, r := range tb.Rows {
		if r.Miss() {
			misses++
		}
	}
	b.ReportMetric(tb.BaselineRate(), "healthz-req/s")
	b.ReportMetric(float64(misses), "misses")
}

// BenchmarkLessonStampede publishes a new lesson and has 1,000 clients,
// each on a new connection, fetch its HTML page at once, then 1,000 more its
// JSON (a separate document, so that too is a first fetch): the
// link-preview stampede of a lesson announced to a thousand servers. It
// reports when the last of each was answered (target < 500 ms, no errors)
// and, as the machine's own figure, the same stampede on the static
// handler.
func BenchmarkLessonStampede(b *testing.B) {
	s := benchStart(b)
	course, _, _ := s.benchSite(b, "stampede-lessons", 20)
	ctx := context.Background()
	owner, err := s.in.courses.UserByUsername(ctx, benchUsername)
	if err != nil {
		b.Fatal(err)
	}
	const limit = 500 * time.Millisecond
	stampede := func(url, accept string) httpload.StampedeResult {
		res, err := httpload.Stampede(ctx, url, accept, stampedeSize, limit)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	var worstHTML, worstJSON, worstStatic httpload.StampedeResult
	for i := range b.N {
		b.StopTimer()
		m, err := s.in.actions.AddModule(ctx, owner, course, courses.ModuleDraft{Title: fmt.Sprintf("Lesson %d", i+2), Body: "Everyone previews this at once."})
		if err != nil {
			b.Fatal(err)
		}
		iri := s.in.urls.Module(course.Slug, m.ID)
		s.awaitNotices(b)
		b.StartTimer()
		html := stampede(iri, "text/html")
		js := stampede(iri, federation.ContentTypeActivity)
		b.StopTimer()
		static := stampede(s.static, "")
		for _, w := range []struct {
			worst *httpload.StampedeResult
			got   httpload.StampedeResult
		}{
			{&worstHTML, html}, {&worstJSON, js}, {&worstStatic, static},
		} {
			if w.got.Elapsed >= w.worst.Elapsed || w.got.Errors > 0 {
				*w.worst = w.got
			}
		}
		b.StartTimer()
	}
	fmt.Printf("lesson page: %s\nlesson JSON: %s\nstatic handler: %s\n", worstHTML, worstJSON, worstStatic)
	for _, r := range []httpload.StampedeResult{worstHTML, worstJSON} {
		if r.FirstError != nil {
			b.Logf("first error: %v", r.FirstError)
		}
	}
	b.ReportMetric(float64(worstHTML.Elapsed.Microseconds())/1000, "html-all-answered-ms")
	b.ReportMetric(float64(worstJSON.Elapsed.Microseconds())/1000, "json-all-answered-ms")
	b.ReportMetric(float64(worstStatic.Elapsed.Microseconds())/1000, "static-all-answered-ms")
	b.ReportMetric(float64(worstHTML.Errors+worstJSON.Errors), "errors")
}
