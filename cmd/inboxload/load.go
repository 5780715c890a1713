package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/httpload"
)

// target is the instance under load: where to connect, and the course whose
// inbox receives the activities.
type target struct {
	base   string // http://127.0.0.1:PORT: where requests go
	course string // the course actor's IRI (its host is the instance's)
	inbox  string // the course's inbox URL
	client *http.Client
}

// discover fetches the course actor through base and reads its IRI and
// inbox. Requests are sent to base whatever host the IRIs name, with the
// IRIs' host in the Host header, so that signatures cover the instance's
// configured host.
func discover(ctx context.Context, base, slug string, concurrency int) (*target, error) {
	t, err := newTarget(base, concurrency)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/courses/"+slug, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the course %s: %w", slug, err)
	}
	defer resp.Body.Close()
	var doc struct {
		ID, Inbox string
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK || doc.ID == "" || doc.Inbox == "" {
		return nil, fmt.Errorf("fetch the course %s: status %d, %v", slug, resp.StatusCode, err)
	}
	t.course, t.inbox = doc.ID, doc.Inbox
	return t, nil
}

// newTarget is a target at base (loopback only) with a client of
// concurrency connections that sends every request to base, whatever host
// its URL names; course and inbox are still to be set.
func newTarget(base string, concurrency int) (*target, error) {
	if err := httpload.CheckLoopback(base); err != nil {
		return nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	tr := httpload.NewTransport(concurrency)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, u.Host)
	}
	return &target{base: base, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// signed is one pre-signed POST: its body and headers, Date included.
type signed struct {
	body   []byte
	header http.Header
}

// sign builds and signs a POST of body to the course's inbox as actor i.
func (t *target) sign(a *actors, i int, body []byte) (signed, error) {
	req, err := http.NewRequest(http.MethodPost, t.inbox, bytes.NewReader(body))
	if err != nil {
		return signed{}, err
	}
	req.Header.Set("Content-Type", contentType)
	s := federation.Signer{KeyID: a.iri(i) + "#main-key", Key: a.keys[i]}
	if err := s.Sign(req, body); err != nil {
		return signed{}, err
	}
	return signed{body: body, header: req.Header}, nil
}

// presign signs n distinct Create(Note)s, spread round-robin over the
// actors, on all cores.
func (t *target) presign(a *actors, n int) ([]signed, error) {
	out := make([]signed, n)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for k := range n {
		g.Go(func() error {
			i := k % len(a.keys)
			note := a.noteDoc(i, k, t.course)
			body, err := json.Marshal(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams",
				"id":       a.activity(i, k),
				"type":     "Create",
				"actor":    a.iri(i),
				"to":       []string{asPublic},
				"cc":       []string{t.course},
				"object":   note,
			})
			if err != nil {
				return err
			}
			out[k], err = t.sign(a, i, body)
			return err
		})
	}
	return out, g.Wait()
}

// follow has every actor follow the course and waits until each Follow is
// accepted (the Accepts arrive at the actors' inboxes), so that the course
// takes their posts.
func (t *target) follow(ctx context.Context, a *actors, wait time.Duration) error {
	a.course = t.course
	for i := range a.keys {
		body, _ := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       a.activity(i, -1) + "-follow",
			"type":     "Follow",
			"actor":    a.iri(i),
			"object":   t.course,
		})
		s, err := t.sign(a, i, body)
		if err != nil {
			return err
		}
		if status, err := t.post(ctx, s); err != nil || status/100 != 2 {
			return fmt.Errorf("Follow by %s: status %d, %v", a.iri(i), status, err)
		}
	}
	deadline := time.Now().Add(wait)
	for a.accepted.Load() < int64(len(a.keys)) {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d Follows accepted within %s", a.accepted.Load(), len(a.keys), wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// A busy answer's Retry-After is waited for at least busyRetryMin and at
// most busyRetryMax, and a request is sent at most busyAttempts times.
const (
	busyRetryMin = 100 * time.Millisecond
	busyRetryMax = 10 * time.Second
	busyAttempts = 200
)

// postUntilTaken sends one pre-signed request and, while the instance
// answers 429 or 503 (its backlog is full), waits its Retry-After and sends
// it again, as a fediverse server retries a busy inbox; it returns the last
// status and how many busy answers came before it.
func (t *target) postUntilTaken(ctx context.Context, s signed) (status, busy int, err error) {
	for {
		var retry time.Duration
		status, retry, err = t.postOnce(ctx, s)
		if err != nil || (status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable) || busy+1 >= busyAttempts {
			return status, busy, err
		}
		busy++
		select {
		case <-ctx.Done():
			return status, busy, ctx.Err()
		case <-time.After(retry):
		}
	}
}

// post sends one pre-signed request and returns its status.
func (t *target) post(ctx context.Context, s signed) (int, error) {
	status, _, err := t.postOnce(ctx, s)
	return status, err
}

// postOnce sends one pre-signed request and returns its status and how
// long a busy answer asks to wait (1 s when it does not say, within
// busyRetryMin and busyRetryMax).
func (t *target) postOnce(ctx context.Context, s signed) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.inbox, bytes.NewReader(s.body))
	if err != nil {
		return 0, 0, err
	}
	req.Header = s.header.Clone()
	req.Host = s.header.Get("Host")
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	retry := time.Second
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		retry = min(max(time.Duration(secs)*time.Second, busyRetryMin), busyRetryMax)
	}
	return resp.StatusCode, retry, nil
}

// pass is one pass of posting: what came back, and when.
type pass struct {
	accepted, refused, errors int
	busy                      int // 429s and 503s, each retried after its Retry-After
	firstError                string
	start, last202            time.Time
	elapsed                   time.Duration
	p50, p99                  time.Duration
	fifths                    [5]float64 // accepted/s over each fifth of the requests, by completion
}

func (r pass) rate() float64 { return float64(r.accepted) / r.elapsed.Seconds() }

// send posts every request once, from concurrency workers; a request
// answered 429 is sent again after its Retry-After, and its latency runs
// from its first attempt.
func (t *target) send(ctx context.Context, reqs []signed, concurrency int) pass {
	var next atomic.Int64
	done := make([]time.Time, len(reqs))
	lat := make([]time.Duration, len(reqs))
	ok := make([]bool, len(reqs))
	var mu sync.Mutex
	var r pass
	var wg sync.WaitGroup
	r.start = time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(reqs) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				status, busy, err := t.postUntilTaken(ctx, reqs[k])
				done[k], lat[k] = time.Now(), time.Since(t0)
				if busy > 0 {
					mu.Lock()
					r.busy += busy
					mu.Unlock()
				}
				ok[k] = err == nil && status/100 == 2
				if !ok[k] {
					mu.Lock()
					if err != nil {
						r.errors++
					} else {
						r.refused++
					}
					if r.firstError == "" {
						r.firstError = fmt.Sprintf("status %d, %v", status, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(r.start)
	type completion struct {
		at time.Time
		ok bool
	}
	var cs []completion
	for k := range reqs {
		if done[k].IsZero() {
			continue
		}
		cs = append(cs, completion{done[k], ok[k]})
		if ok[k] {
			r.accepted++
			if done[k].After(r.last202) {
				r.last202 = done[k]
			}
		}
	}
	slices.SortFunc(cs, func(a, b completion) int { return a.at.Compare(b.at) })
	from := r.start
	for f := range 5 {
		part := cs[len(cs)*f/5 : len(cs)*(f+1)/5]
		if len(part) == 0 {
			continue
		}
		n := 0
		for _, c := range part {
			if c.ok {
				n++
			}
		}
		r.fifths[f] = float64(n) / part[len(part)-1].at.Sub(from).Seconds()
		from = part[len(part)-1].at
	}
	lat = slices.DeleteFunc(lat, func(d time.Duration) bool { return d == 0 })
	slices.Sort(lat)
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}
