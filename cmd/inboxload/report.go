package main

import (
	"fmt"
	"io"
	"time"
)

// Targets of DESIGN.md for the whole-server inbox, on 2 cores.
const (
	targetRatio    = 0.13
	targetSustain  = 0.9
	targetDrain    = 10 * time.Second
	targetDupRatio = 1.5
)

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISS"
}

// baseline is the verify rate the ratio is taken against: the higher of
// the two samples, so that load left on the machine does not flatter it.
func (r *report) baseline() float64 { return max(r.verifyBefore, r.verify) }

func (r *report) print(w io.Writer) {
	l := r.load
	ratio := l.rate() / r.baseline()
	sustain := l.fifths[4] / l.fifths[0]
	fmt.Fprintf(w, "inbox load: %d distinct Create(Note) from %d actors, %d connections\n", r.n, r.actors, r.concurrency)
	fmt.Fprintf(w, "  accepted %d, refused %d, errors %d in %s", l.accepted, l.refused, l.errors, l.elapsed.Round(time.Millisecond))
	if l.firstError != "" {
		fmt.Fprintf(w, " (first failure: %s)", l.firstError)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  accepted/s      %8.0f   p50 %s, p99 %s\n", l.rate(), l.p50.Round(10*time.Microsecond), l.p99.Round(10*time.Microsecond))
	fmt.Fprintf(w, "  raw RSA verify  %8.0f/s before, %.0f/s after (all cores)\n", r.verifyBefore, r.verify)
	fmt.Fprintf(w, "  ratio           %8.3f   target ≥ %.2f  %s\n", ratio, targetRatio, verdict(ratio >= targetRatio))
	fmt.Fprintf(w, "  fifths          %8.0f … %.0f/s (%.0f %.0f %.0f %.0f %.0f); last ÷ first %.2f, target ≥ %.1f  %s\n",
		l.fifths[0], l.fifths[4], l.fifths[0], l.fifths[1], l.fifths[2], l.fifths[3], l.fifths[4], sustain, targetSustain, verdict(sustain >= targetSustain))
	if r.drainErr != nil {
		fmt.Fprintf(w, "  applied         not drained: %v (backlog read from %s), target ≤ %s  MISS\n", r.drainErr, r.drainSource, targetDrain)
	} else {
		fmt.Fprintf(w, "  applied         %8s after the last 202 (backlog read from %s), target ≤ %s  %s\n",
			r.drain.Round(time.Millisecond), r.drainSource, targetDrain, verdict(r.drain <= targetDrain))
	}
	if r.dup != nil {
		d := r.dup
		dr := d.rate() / l.rate()
		fmt.Fprintf(w, "  duplicates/s    %8.0f   p50 %s, p99 %s; %d accepted, %d refused, %d errors\n",
			d.rate(), d.p50.Round(10*time.Microsecond), d.p99.Round(10*time.Microsecond), d.accepted, d.refused, d.errors)
		fmt.Fprintf(w, "  dup ratio       %8.2f   (÷ accepted/s) target ≥ %.1f  %s\n", dr, targetDupRatio, verdict(dr >= targetDupRatio))
	}
}
