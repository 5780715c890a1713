package main

import (
	"context"
	"fmt"
	"time"
)

// driver is one prepared load: actors following the course, requests signed.
type driver struct {
	o      options
	actors *actors
	target *target
	reqs   []signed
	bl     *backlog
	// sendingFunc, when set, is called as the load pass starts (true) and
	// ends (false); the benchmark samples CPU time there.
	sendingFunc func(start bool)
}

// prepare starts the actors, has them follow the course and pre-signs the
// activities.
func prepare(ctx context.Context, o options) (*driver, error) {
	a, err := startActors(o.actors)
	if err != nil {
		return nil, err
	}
	d := &driver{o: o, actors: a, bl: &backlog{metricsURL: o.metrics, databaseURL: o.databaseURL}}
	if d.target, err = discover(ctx, o.url, o.course, o.concurrency); err != nil {
		d.close()
		return nil, err
	}
	if err := d.target.follow(ctx, a, time.Minute); err != nil {
		d.close()
		return nil, err
	}
	// Wait until the Follows themselves are applied, so that the backlog
	// measured later is the load's.
	if _, _, err := d.bl.drained(ctx, time.Minute); err != nil {
		d.close()
		return nil, fmt.Errorf("before the load: %w", err)
	}
	if d.reqs, err = d.target.presign(a, o.n); err != nil {
		d.close()
		return nil, fmt.Errorf("sign: %w", err)
	}
	return d, nil
}

func (d *driver) close() {
	d.actors.close()
	d.bl.close()
}

// report is what one run measured.
type report struct {
	n, actors, concurrency int
	verifyBefore, verify   []float64 // raw RSA verifies/s, samples before and after
	load                   pass
	drain                  time.Duration // last 202 until nothing pending
	drainSource            string
	drainErr               error // the backlog did not drain within the limit
	dup                    *pass
	dupNote                string // what disturbed the duplicates' measurement, if anything
}

// load measures verify, posts every request, measures verify again and
// waits for the backlog.
func (d *driver) load(ctx context.Context) (*report, error) {
	rep := &report{n: d.o.n, actors: d.o.actors, concurrency: d.o.concurrency}
	var err error
	if rep.verifyBefore, err = verifySamples(verifySampleCount, verifySampleTime); err != nil {
		return nil, err
	}
	if d.sendingFunc != nil {
		d.sendingFunc(true)
	}
	rep.load = d.target.send(ctx, d.reqs, d.o.concurrency)
	if d.sendingFunc != nil {
		d.sendingFunc(false)
	}
	// Measured while the backlog drains, as the instance then works too:
	// the backlog time is what the report is about, not this figure's
	// cleanliness. The lower of the two is the ratio's baseline.
	at, source, err := d.bl.drained(ctx, d.o.drainLimit)
	rep.drainSource = source
	if err != nil {
		if source == "" {
			return nil, err // no way to read the backlog at all
		}
		rep.drainErr = err // reported as a MISS, with the figures
	} else {
		rep.drain = max(at.Sub(rep.load.last202), 0)
	}
	if rep.verify, err = verifySamples(verifySampleCount, verifySampleTime); err != nil {
		return nil, err
	}
	return rep, nil
}

// replay posts the same requests again: all are duplicates.
func (d *driver) replay(ctx context.Context, rep *report) error {
	r := d.target.send(ctx, d.reqs, d.o.concurrency)
	rep.dup = &r
	return nil
}
