package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/federation"
)

// metricValue reads one series' value from a metrics page, -1 if absent.
func metricValue(t *testing.T, page []byte, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(page)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

// The delivery queue's depth and outcomes are on the instance's metrics
// listener, which is not the public one: a delivery to a peer answering
// 503 is pending and counted as 5xx, and once the peer recovers the queue
// is empty and a 2xx is counted.
func TestDeliveryMetrics(t *testing.T) {
	t.Parallel()
	a := startInstance(t, testInstanceOptions{RetryDelay: 200 * time.Millisecond})
	a.createUser(t, "ada")
	var up atomic.Bool
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(peer.Close)

	metrics := httptest.NewServer(a.metrics.handler())
	t.Cleanup(metrics.Close)
	scrape := func() []byte {
		resp, err := http.Get(metrics.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	if status, _ := a.get(t, "/metrics", ""); status != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", status)
	}

	ctx := context.Background()
	ada := a.user(t, "ada")
	act := federation.NewActivity(a.urls.Activity(federation.NewID()), vocab.UpdateType, a.urls.User("ada"),
		vocab.IRI(a.urls.User("ada")), "", []string{federation.Public}, nil)
	if err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		return a.sender.FromUser(ctx, tx, ada, act, peer.URL+"/users/bob/inbox", peer.URL+"/users/cat/inbox")
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a 5xx counted and two deliveries pending", 10*time.Second, func() (bool, error) {
		page := scrape()
		return metricValue(t, page, `colearn_delivery_outcomes_total{class="5xx"}`) >= 1 &&
			metricValue(t, page, "colearn_delivery_pending") == 2, nil
	})
	up.Store(true)
	eventually(t, "the queue to drain", 10*time.Second, func() (bool, error) {
		page := scrape()
		return metricValue(t, page, `colearn_delivery_outcomes_total{class="2xx"}`) == 2 &&
			metricValue(t, page, "colearn_delivery_pending") == 0, nil
	})
}
