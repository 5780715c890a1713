package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
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

// baseline is the verify rate the ratio is taken against: the highest of
// all samples, before and after the load, so that other work on the machine
// during a sample never flatters the ratio.
func (r *report) baseline() float64 {
	return slices.Max(append(slices.Clone(r.verifyBefore), r.verify...))
}

// spread is the lowest, median and highest of samples.
func spread(samples []float64) (lo, median, hi float64) {
	s := slices.Sorted(slices.Values(samples))
	return s[0], s[len(s)/2], s[len(s)-1]
}

func rates(samples []float64) string {
	parts := make([]string, len(samples))
	for i, v := range samples {
		parts[i] = fmt.Sprintf("%.0f", v)
	}
	return strings.Join(parts, " ")
}

func (r *report) print(w io.Writer) {
	l := r.load
	ratio := l.rate() / r.baseline()
	sustain := l.fifths[4] / l.fifths[0]
	fmt.Fprintf(w, "inbox load: %d distinct Create(Note) from %d actors, %d connections\n", r.n, r.actors, r.concurrency)
	fmt.Fprintf(w, "  accepted %d, refused %d, errors %d in %s; %d busy answers (429 or 503: backlog full), each retried after its Retry-After",
		l.accepted, l.refused, l.errors, l.elapsed.Round(time.Millisecond), l.busy)
	if l.firstError != "" {
		fmt.Fprintf(w, " (first failure: %s)", l.firstError)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  accepted/s      %8.0f   p50 %s, p99 %s\n", l.rate(), l.p50.Round(10*time.Microsecond), l.p99.Round(10*time.Microsecond))
	all := append(slices.Clone(r.verifyBefore), r.verify...)
	lo, med, hi := spread(all)
	fmt.Fprintf(w, "  raw RSA verify  %8.0f/s all cores, the highest of %d samples of %s (lowest %.0f, median %.0f); before %s, after %s\n",
		hi, len(all), verifySampleTime, lo, med, rates(r.verifyBefore), rates(r.verify))
	fmt.Fprintf(w, "  ratio           %8.3f   target ≥ %.2f  %s  (÷ the highest sample; ÷ the median %.3f, ÷ the lowest %.3f)\n",
		ratio, targetRatio, verdict(ratio >= targetRatio), l.rate()/med, l.rate()/lo)
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
		if r.dupNote != "" {
			fmt.Fprintf(w, "  (%s)\n", r.dupNote)
		}
	}
}
