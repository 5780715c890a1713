package httpload

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
)

// Target is one URL measured against a baseline, with the least ratio of
// the baseline's rate it must reach.
type Target struct {
	Name   string
	URL    string
	Accept string
	// Want is the target ratio to the baseline's rate (0.8 for
	// ActivityStreams documents and WebFinger, 0.5 for HTML pages).
	Want float64
}

// Row is one measured target.
type Row struct {
	Target
	Result
	// Baseline is the baseline as measured in the rounds alternating with
	// this target's.
	Baseline Result
	Ratio    float64 // Rate ÷ Baseline's rate
}

// Miss reports whether the row is below its target.
func (r Row) Miss() bool { return r.Ratio < r.Want || r.Errors > 0 }

// Table is a run of several targets against one baseline.
type Table struct {
	Baseline       Target
	Rows           []Row
	Concurrency    int
	DurationPerURL time.Duration
}

// tableRounds is how many alternating rounds each target and the baseline
// share, so that other load on the machine, which comes and goes, weighs
// on both sides of each ratio alike.
const tableRounds = 4

// BaselineRate is the baseline's rate over the whole run.
func (t Table) BaselineRate() float64 {
	var n int
	var d time.Duration
	for _, r := range t.Rows {
		n += r.Baseline.Requests
		d += r.Baseline.Elapsed
	}
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// MeasureTable measures every target for d with concurrency workers on
// keep-alive connections, in tableRounds rounds alternating with rounds of
// the baseline (as long in all), and returns each target's ratio to the
// baseline measured beside it. It refuses non-loopback URLs before sending
// anything.
func MeasureTable(ctx context.Context, baseline Target, targets []Target, concurrency int, d time.Duration) (Table, error) {
	for _, t := range append([]Target{baseline}, targets...) {
		if err := CheckLoopback(t.URL); err != nil {
			return Table{}, err
		}
	}
	tb := Table{Baseline: baseline, Concurrency: concurrency, DurationPerURL: d}
	client := &http.Client{Transport: NewTransport(concurrency)}
	defer client.CloseIdleConnections()
	run := func(t Target, into *Result) error {
		res, err := Run(ctx, Options{URL: t.URL, Accept: t.Accept, Concurrency: concurrency, Duration: d / tableRounds, Client: client})
		if err != nil {
			return err
		}
		into.Requests += res.Requests
		into.Errors += res.Errors
		into.Elapsed += res.Elapsed
		into.P50 = max(into.P50, res.P50)
		into.P99 = max(into.P99, res.P99)
		if into.FirstError == nil {
			into.FirstError = res.FirstError
		}
		return nil
	}
	for _, t := range targets {
		row := Row{Target: t}
		for range tableRounds {
			if err := run(baseline, &row.Baseline); err != nil {
				return tb, err
			}
			if err := run(t, &row.Result); err != nil {
				return tb, err
			}
		}
		if b := row.Baseline.Rate(); b > 0 {
			row.Ratio = row.Rate() / b
		}
		tb.Rows = append(tb.Rows, row)
	}
	return tb, nil
}

// Print writes the table: each target's rate, latency, errors, ratio to
// the baseline and its target, with MISS where below.
func (t Table) Print(w io.Writer) {
	fmt.Fprintf(w, "baseline %s: %.0f req/s over the run (%d connections; %s per URL in %d rounds alternating with the baseline)\n",
		t.Baseline.Name, t.BaselineRate(), t.Concurrency, t.DurationPerURL, tableRounds)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "document\treq/s\tp50\tp99\terrors\t%s beside\tratio\ttarget\t\n", t.Baseline.Name)
	for _, r := range t.Rows {
		verdict := ""
		if r.Miss() {
			verdict = "MISS"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%d\t%.0f\t%.2f\t≥ %.2f\t%s\n", r.Name, r.Rate(),
			r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Errors, r.Baseline.Rate(), r.Ratio, r.Want, verdict)
	}
	tw.Flush()
	for _, r := range t.Rows {
		if r.FirstError != nil {
			fmt.Fprintf(w, "%s: first error: %v\n", r.Name, r.FirstError)
		}
	}
}

// StampedeResult is what a stampede measured.
type StampedeResult struct {
	Result
	// Limit is the time within which every request must be answered.
	Limit time.Duration
}

// Miss reports whether a request failed or the last answer came after
// Limit.
func (s StampedeResult) Miss() bool { return s.Errors > 0 || s.Elapsed > s.Limit }

// String is the stampede's line of a report.
func (s StampedeResult) String() string {
	verdict := ""
	if s.Miss() {
		verdict = " MISS"
	}
	return fmt.Sprintf("%d requests, all answered in %s (target < %s), p99 %s, %d errors%s",
		s.Requests, s.Elapsed.Round(time.Millisecond), s.Limit, s.P99.Round(time.Millisecond), s.Errors, verdict)
}

// Stampede sends n GETs of url at once, each on a new connection (as n
// servers fetching a link preview would), and reports when the last was
// answered.
func Stampede(ctx context.Context, url, accept string, n int, limit time.Duration) (StampedeResult, error) {
	t := NewTransport(n)
	t.DisableKeepAlives = true
	defer t.CloseIdleConnections()
	res, err := Run(ctx, Options{URL: url, Accept: accept, Concurrency: n, Requests: n, Client: &http.Client{Transport: t}})
	return StampedeResult{Result: res, Limit: limit}, err
}

// Markdown writes the table as a Markdown table, for the README.
func (t Table) Markdown(w io.Writer) {
	fmt.Fprintf(w, "| document | req/s | p99 | %s beside | ratio | target |\n| --- | --- | --- | --- | --- | --- |\n", t.Baseline.Name)
	for _, r := range t.Rows {
		verdict := ""
		if r.Miss() {
			verdict = " **MISS**"
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %.0f | %.2f | ≥ %.2f%s |\n", strings.ReplaceAll(r.Name, "|", "\\|"), r.Rate(),
			r.P99.Round(10*time.Microsecond), r.Baseline.Rate(), r.Ratio, r.Want, verdict)
	}
}

// Site names what ReadTargets measures on one colearn instance.
type Site struct {
	// Base is the URL the load goes to (http://127.0.0.1:PORT).
	Base string
	// Host is the instance's public host[:port], as in its handles.
	Host string
	// User and Course are a local user's name and a local course's slug.
	User, Course string
	// Post and Lesson are paths (or IRIs, whose origin is replaced by
	// Base) of a post and a lesson written on the instance; "" leaves
	// them out.
	Post, Lesson string
}

// Targets ratios: what DESIGN.md and the issue ask on 2 cores.
const (
	WantDocument = 0.8 // ActivityStreams documents and WebFinger
	WantPage     = 0.5 // HTML pages
)

const (
	acceptActivity = "application/activity+json"
	acceptHTML     = "text/html"
)

// ReadTargets lists every public document and page of s that peers and
// browsers fetch, with their targets: WebFinger, NodeInfo, the user and
// course actors, the followers and outbox collections and their first
// pages, a post and a lesson (JSON and HTML), the course page, the
// catalogue and the user's profile.
func ReadTargets(s Site) []Target {
	path := func(p string) string {
		if i := strings.Index(p, "://"); i >= 0 {
			if j := strings.IndexByte(p[i+3:], '/'); j >= 0 {
				p = p[i+3+j:]
			}
		}
		return s.Base + p
	}
	course := "/courses/" + s.Course
	t := []Target{
		{"WebFinger", s.Base + "/.well-known/webfinger?resource=acct:" + s.User + "@" + s.Host, "application/jrd+json", WantDocument},
		{"NodeInfo", s.Base + "/nodeinfo/2.1", "application/json", WantDocument},
		{"user actor", s.Base + "/users/" + s.User, acceptActivity, WantDocument},
		{"course actor", s.Base + course, acceptActivity, WantDocument},
		{"course followers", s.Base + course + "/followers", acceptActivity, WantDocument},
		{"course followers page", s.Base + course + "/followers?page=1", acceptActivity, WantDocument},
		{"course outbox", s.Base + course + "/outbox", acceptActivity, WantDocument},
		{"course outbox page", s.Base + course + "/outbox?page=1", acceptActivity, WantDocument},
		{"user outbox", s.Base + "/users/" + s.User + "/outbox", acceptActivity, WantDocument},
	}
	if s.Post != "" {
		t = append(t, Target{"post (JSON)", path(s.Post), acceptActivity, WantDocument})
	}
	if s.Lesson != "" {
		t = append(t, Target{"lesson (JSON)", path(s.Lesson), acceptActivity, WantDocument})
	}
	if s.Post != "" {
		t = append(t, Target{"post page", path(s.Post), acceptHTML, WantPage})
	}
	if s.Lesson != "" {
		t = append(t, Target{"lesson page", path(s.Lesson), acceptHTML, WantPage})
	}
	return append(t,
		Target{"course page", s.Base + course, acceptHTML, WantPage},
		Target{"catalogue", s.Base + "/courses", acceptHTML, WantPage},
		Target{"profile", s.Base + "/@" + s.User, acceptHTML, WantPage},
	)
}
