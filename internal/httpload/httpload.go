// Package httpload drives HTTP GET load at a server on the loopback
// interface and measures it: requests per second, latency percentiles and
// errors. It backs cmd/loadgen and the whole-server benchmarks, and it only
// ever sends traffic to 127.0.0.0/8, ::1 or localhost.
package httpload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotLoopback means a target URL's host is not a loopback address.
var ErrNotLoopback = errors.New("load may only be sent to loopback hosts (127.0.0.0/8, ::1, localhost)")

// CheckLoopback returns an error unless rawURL is an http(s) URL whose host
// is localhost or a loopback IP literal. Names other than localhost are
// refused without being resolved, so DNS cannot redirect the load.
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("parse %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", rawURL)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q: %w", rawURL, ErrNotLoopback)
}

// NewTransport returns a keep-alive transport that holds one idle
// connection per worker, so that a run of concurrency workers reuses
// concurrency connections instead of dialling for most requests.
func NewTransport(concurrency int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // load must not leave the machine through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// Options describe one run.
type Options struct {
	// URL is fetched with GET; it must pass CheckLoopback.
	URL string
	// Accept is sent as the Accept header when not empty.
	Accept string
	// Concurrency is the number of workers, each with at most one request
	// in flight (default 64).
	Concurrency int
	// Requests, when above zero, ends the run after that many requests.
	Requests int
	// Duration, when above zero, ends the run after that long. With
	// neither Requests nor Duration the run is refused.
	Duration time.Duration
	// Client sends the requests; nil means one on NewTransport(Concurrency).
	Client *http.Client
}

// Result is what a run measured. Latencies are of whole requests, from
// sending to the end of the body.
type Result struct {
	Requests int
	Errors   int
	// FirstError is the first failure seen, for the report.
	FirstError error
	Elapsed    time.Duration
	P50, P99   time.Duration
}

// Rate is requests per second, errors included.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Run sends GETs until Requests are done, Duration has passed or ctx ends.
// A request fails when it cannot be sent or read or its status is not 2xx;
// failures are counted, not returned. Run returns an error only when the
// options are unusable. Every latency is kept until the end (8 bytes a
// request), so bound long runs by Duration.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := CheckLoopback(o.URL); err != nil {
		return Result{}, err
	}
	if o.Requests <= 0 && o.Duration <= 0 {
		return Result{}, errors.New("httpload: set Requests or Duration")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	client := o.Client
	if client == nil {
		t := NewTransport(o.Concurrency)
		defer t.CloseIdleConnections()
		client = &http.Client{Transport: t}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL, nil)
	if err != nil {
		return Result{}, fmt.Errorf("httpload: %w", err)
	}
	if o.Accept != "" {
		req.Header.Set("Accept", o.Accept)
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}

	var (
		issued  atomic.Int64
		mu      sync.Mutex
		res     Result
		latency []time.Duration
		wg      sync.WaitGroup
		perCap  = 1024
		limit   = int64(o.Requests)
	)
	if o.Requests > 0 {
		perCap = o.Requests/o.Concurrency + 1
	}
	start := time.Now()
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, perCap)
			var errs int
			var first error
			for ctx.Err() == nil && (limit <= 0 || issued.Add(1) <= limit) {
				t0 := time.Now()
				err := fetch(client, req.Clone(ctx))
				if err != nil {
					if ctx.Err() != nil {
						break // cut short by the end of the run, not a failure
					}
					errs++
					if first == nil {
						first = err
					}
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			latency = append(latency, lat...)
			res.Errors += errs
			if res.FirstError == nil {
				res.FirstError = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(latency)
	if len(latency) > 0 {
		slices.Sort(latency)
		res.P50 = latency[len(latency)*50/100]
		res.P99 = latency[min(len(latency)-1, len(latency)*99/100)]
	}
	return res, nil
}

// fetch sends one request and reads the whole body, so that the connection
// goes back to the pool for the next request.
func fetch(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	return nil
}
