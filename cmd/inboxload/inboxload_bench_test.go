package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkInboxLoad is the whole-server inbox benchmark: a real `colearn
// serve` process on a durable private PostgreSQL, loaded from outside by
// this driver with COLEARN_INBOXLOAD_N distinct signed Create(Note)s
// (default 20,000; the target run is 100,000) from 100 actors over 32
// connections; then the process is restarted and the same requests are
// replayed, so duplicates go through the durable dedupe. It prints the
// report with the targets (MISS where below) and reports the figures.
//
//	COLEARN_INBOXLOAD_N=100000 go test -run '^$' -bench InboxLoad -benchtime 1x -timeout 1h ./cmd/inboxload/
func BenchmarkInboxLoad(b *testing.B) {
	n := 20_000
	if v := os.Getenv("COLEARN_INBOXLOAD_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("COLEARN_INBOXLOAD_N=%q: want a count", v)
		}
	}
	in := startInstance(b)
	var fsync, syncCommit string
	conn := &backlog{databaseURL: in.databaseURL}
	defer conn.close()
	ctx := context.Background()
	if _, _, err := conn.pending(ctx); err != nil {
		b.Fatal(err)
	}
	if err := conn.conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit); err != nil {
		b.Fatal(err)
	}
	if fsync != "on" || syncCommit != "on" {
		b.Fatalf("the instance's PostgreSQL is not durable: fsync=%s synchronous_commit=%s", fsync, syncCommit)
	}
	// The target is 10 s; two minutes tell how far off a miss is.
	o, err := parse(in.args(n, "-drain-limit", "2m"), os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	d, err := prepare(ctx, o)
	if err != nil {
		b.Fatalf("prepare: %v\n%s", err, in.out)
	}
	defer d.close()
	b.ResetTimer()
	for range b.N {
		// CPU shares over the load pass itself, not the backlog wait.
		var cpu0, cpu1 cpuShares
		var t0, t1 time.Time
		// COLEARN_INBOXLOAD_PROFILE=DIR keeps CPU profiles of the server:
		// posting.pprof over the first 10 s of the load, applying.pprof over
		// the 15 s after the last request, replaying.pprof over the first 3 s
		// of the duplicates.
		profDir := os.Getenv("COLEARN_INBOXLOAD_PROFILE")
		var profiles []<-chan struct{}
		d.sendingFunc = func(start bool) {
			if start {
				cpu0, t0 = in.cpu(), time.Now()
				if profDir != "" {
					profiles = append(profiles, in.profileInto(b, profDir, "posting.pprof", 10))
				}
			} else {
				cpu1, t1 = in.cpu(), time.Now()
				if profDir != "" {
					profiles = append(profiles, in.profileInto(b, profDir, "applying.pprof", 15))
				}
			}
		}
		rep, err := d.load(ctx)
		if err != nil {
			b.Fatalf("load: %v\n%s", err, in.out)
		}
		for _, p := range profiles {
			<-p
		}
		colearn, postgres, driver := cpu0.cores(cpu1, t1.Sub(t0))
		perAccepted := func(cores float64) float64 {
			return cores * t1.Sub(t0).Seconds() / float64(max(rep.load.accepted, 1)) * 1e6
		}
		fmt.Printf("  cores used while posting: colearn %.2f, PostgreSQL %.2f, this driver %.2f (of %d); CPU per accepted activity: colearn %.0f µs, PostgreSQL %.0f µs (applying and delivering included)\n",
			colearn, postgres, driver, runtime.NumCPU(), perAccepted(colearn), perAccepted(postgres))
		b.StopTimer()
		in.restart(b)
		// Duplicates are measured on their own: a backlog still being
		// applied would share the cores with them.
		if _, _, err := d.bl.drained(ctx, 3*time.Minute); err != nil {
			rep.dupNote = fmt.Sprintf("replayed while the backlog was still applied: %v", err)
		}
		b.StartTimer()
		dup0, dupT0 := in.cpu(), time.Now()
		var replayProfile <-chan struct{}
		if profDir != "" {
			replayProfile = in.profileInto(b, profDir, "replaying.pprof", 3)
		}
		if err := d.replay(ctx, rep); err != nil {
			b.Fatal(err)
		}
		if replayProfile != nil {
			<-replayProfile
		}
		colearn, postgres, driver = dup0.cores(in.cpu(), time.Since(dupT0))
		fmt.Printf("  cores used while replaying: colearn %.2f, PostgreSQL %.2f, this driver %.2f (of %d)\n", colearn, postgres, driver, runtime.NumCPU())
		rep.print(os.Stdout)
		b.ReportMetric(rep.load.rate(), "accepted/s")
		b.ReportMetric(rep.load.rate()/rep.baseline(), "ratio-to-verify")
		b.ReportMetric(rep.load.fifths[4]/rep.load.fifths[0], "last/first-fifth")
		if rep.drainErr == nil {
			b.ReportMetric(rep.drain.Seconds(), "s-to-applied")
		}
		b.ReportMetric(rep.dup.rate()/rep.load.rate(), "dup-ratio")
		b.ReportMetric(float64(rep.load.p99.Microseconds())/1000, "p99-ms")
	}
}
