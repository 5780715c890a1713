// Command inboxload measures a running colearn instance's inbox from
// outside, the way the fediverse loads it. It serves its own remote actors
// and keys on loopback (100 by default), has each follow a course on the
// instance (real Follows, accepted by the course), pre-signs N distinct
// Create(Note)s to that course, posts them, and reports:
//
//   - accepted/s, p50 and p99 latency;
//   - the ratio of accepted/s to the all-core raw RSA-2048 verify rate,
//     measured in the same run before and after the load (target ≥ 0.13);
//   - the rate of the first and the last fifth of the requests (target:
//     last ≥ 0.9 × first);
//   - the time from the last 202 until every accepted activity is applied
//     (target ≤ 10 s), read from the metrics listener's
//     colearn_inbox_pending, or from the database with -database-url;
//   - with -replay, the same requests posted again: duplicates/s (target ≥
//     1.5 × accepted/s). Against a freshly started process this goes
//     through the durable dedupe; the benchmark in this folder restarts the
//     instance before replaying.
//
// Figures below their target are marked MISS. The instance must run with
// --dev (its federation must reach the driver's loopback actors):
//
//	colearn serve --dev --listen 127.0.0.1:8080 &
//	echo 'a long password' | colearn user create --username ada
//	colearn course create --owner ada --slug load --title Load --dev --listen 127.0.0.1:8080
//	go run ./cmd/inboxload -url http://127.0.0.1:8080 -course load \
//	    -metrics http://127.0.0.1:9464/metrics -n 20000
//
// inboxload refuses every URL whose host is not loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/colearn/colearn/internal/httpload"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "inboxload:", err)
		}
		os.Exit(2)
	}
}

// options are the driver's settings.
type options struct {
	url, course, metrics, databaseURL string
	n, actors, concurrency            int
	replay                            bool
	drainLimit                        time.Duration
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("inboxload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "", "base URL of the instance, e.g. http://127.0.0.1:8080 (loopback only)")
	fs.StringVar(&o.course, "course", "", "slug of a course on the instance that accepts Follows")
	fs.StringVar(&o.metrics, "metrics", "", "URL of the instance's metrics, e.g. http://127.0.0.1:9464/metrics (loopback only)")
	fs.StringVar(&o.databaseURL, "database-url", "", "the instance's database, to read the backlog when its metrics do not export colearn_inbox_pending")
	fs.IntVar(&o.n, "n", 20_000, "distinct activities to post")
	fs.IntVar(&o.actors, "actors", 100, "remote actors posting them")
	fs.IntVar(&o.concurrency, "concurrency", 32, "connections posting at once")
	fs.BoolVar(&o.replay, "replay", false, "post the same requests again afterwards (duplicates)")
	fs.DurationVar(&o.drainLimit, "drain-limit", 5*time.Minute, "how long to wait for the backlog to be applied")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.url == "" || o.course == "":
		fs.Usage()
		return o, errors.New("-url and -course are required")
	case o.n <= 0 || o.actors <= 0 || o.concurrency <= 0:
		return o, errors.New("-n, -actors and -concurrency must be above 0")
	}
	for _, u := range []string{o.url, o.metrics} {
		if u != "" {
			if err := httpload.CheckLoopback(u); err != nil {
				return o, err
			}
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*report, error) {
	o, err := parse(args, stderr)
	if err != nil {
		return nil, err
	}
	d, err := prepare(ctx, o)
	if err != nil {
		return nil, err
	}
	defer d.close()
	rep, err := d.load(ctx)
	if err != nil {
		return nil, err
	}
	if o.replay {
		if err := d.replay(ctx, rep); err != nil {
			return nil, err
		}
	}
	rep.print(stdout)
	return rep, nil
}
