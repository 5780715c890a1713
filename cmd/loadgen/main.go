// Command loadgen sends GET load to one URL of a server on this machine and
// reports requests per second, p50 and p99 latency and errors:
//
//	loadgen -url http://127.0.0.1:8080/users/ada \
//	    -accept application/activity+json -duration 10s -concurrency 64 \
//	    -baseline http://127.0.0.1:8081/static
//
// Workers reuse keep-alive connections (one idle connection per worker).
// With -baseline, the same load is then sent to that URL (meant to be a
// static handler on the same machine) and the ratio of the two rates is
// printed, which says how close the server comes to what the machine and
// net/http can do at all, independently of the machine's speed.
//
// "loadgen reads ..." measures every public document and page of a colearn
// instance in one run (reads.go).
//
// loadgen refuses every URL whose host is not loopback (127.0.0.0/8, ::1 or
// the name localhost; other names are not resolved): it is for measuring,
// never for loading someone else's server. -duration is at most 60s.
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

const maxDuration = 60 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "reads" {
		return runReads(ctx, args[1:], stdout, stderr) // reads.go
	}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "URL to GET (loopback hosts only)")
	duration := fs.Duration("duration", 5*time.Second, "how long to send load to each URL (at most 60s)")
	concurrency := fs.Int("concurrency", 64, "workers, each with one request in flight")
	accept := fs.String("accept", "", "Accept header to send, e.g. application/activity+json")
	baseline := fs.String("baseline", "", "URL of a static handler to measure the same way, for a ratio (loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *target == "":
		fs.Usage()
		return errors.New("-url is required")
	case *duration <= 0 || *duration > maxDuration:
		return fmt.Errorf("-duration must be above 0 and at most %s", maxDuration)
	case *concurrency <= 0:
		return errors.New("-concurrency must be above 0")
	}
	// Check both before sending anything.
	for _, u := range []string{*target, *baseline} {
		if u == "" {
			continue
		}
		if err := httpload.CheckLoopback(u); err != nil {
			return err
		}
	}
	measure := func(u string) (httpload.Result, error) {
		res, err := httpload.Run(ctx, httpload.Options{URL: u, Accept: *accept, Concurrency: *concurrency, Duration: *duration})
		if err != nil {
			return res, err
		}
		fmt.Fprintf(stdout, "%s\n  %d requests in %s: %.0f req/s, p50 %s, p99 %s, %d errors\n",
			u, res.Requests, res.Elapsed.Round(time.Millisecond), res.Rate(),
			res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond), res.Errors)
		if res.FirstError != nil {
			fmt.Fprintf(stdout, "  first error: %v\n", res.FirstError)
		}
		return res, nil
	}
	res, err := measure(*target)
	if err != nil {
		return err
	}
	if *baseline == "" {
		return nil
	}
	base, err := measure(*baseline)
	if err != nil {
		return err
	}
	if base.Rate() > 0 {
		fmt.Fprintf(stdout, "ratio %.3f (target rate ÷ baseline rate)\n", res.Rate()/base.Rate())
	}
	return nil
}
