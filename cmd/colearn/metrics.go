package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is one instance's Prometheus registry and the series it exports.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	sigFailed  *prometheus.CounterVec
	activities *prometheus.CounterVec
	applied    *prometheus.CounterVec
	applyTime  prometheus.Histogram
	busy       prometheus.Counter
	deliveries *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "colearn_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "colearn_http_request_duration_seconds", Help: "HTTP request durations by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		sigFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "colearn_signature_failures_total", Help: "Refused HTTP signatures by reason.",
		}, []string{"reason"}),
		activities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "colearn_inbox_activities_total", Help: "Activities accepted into inboxes, by type.",
		}, []string{"type"}),
	}
	m.applied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "colearn_inbox_applied_total", Help: "Inbox activities applied (or dropped for good), by type.",
	}, []string{"type"})
	m.applyTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "colearn_inbox_apply_seconds", Help: "Time to apply one inbox activity, from its claim to its commit.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.busy = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "colearn_inbox_busy_total", Help: "Inbox requests refused (429, or 503 past twice the bound) because the backlog was past --inbox-backlog.",
	})
	m.reg.MustRegister(m.applied, m.applyTime, m.busy)
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "colearn_delivery_outcomes_total",
		Help: "Delivery requests by outcome: 2xx, 4xx (refused, dropped), 4xx-retried (401, 408, 429), 5xx, network, gone (410), forbidden (address refused).",
	}, []string{"class"})
	m.reg.MustRegister(m.requests, m.duration, m.sigFailed, m.activities, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) deliveryOutcome(class string) { m.deliveries.WithLabelValues(class).Inc() }

// gaugeFunc exports name as the value f returns when /metrics is scraped;
// f gets a few seconds, and a failure exports -1 (and is not hidden as 0).
func (m *metrics) gaugeFunc(name, help string, f func(ctx context.Context) (int64, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		n, err := f(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

func (m *metrics) signatureFailed(reason string) { m.sigFailed.WithLabelValues(reason).Inc() }

func (m *metrics) activityAccepted(t string) { m.activities.WithLabelValues(t).Inc() }

func (m *metrics) inboxBusy() { m.busy.Inc() }

func (m *metrics) activityApplied(t string, took time.Duration) {
	m.applied.WithLabelValues(t).Inc()
	m.applyTime.Observe(took.Seconds())
}

// inboxPending exports colearn_inbox_pending, read at each scrape (the
// processor reads a count kept by the inbox's own writes: a few rows,
// whatever the backlog).
func (m *metrics) inboxPending(count func(context.Context) (int64, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "colearn_inbox_pending", Help: "Inbox activities accepted and not yet applied (-1 when the database does not answer).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// instrument counts and times every request by its route pattern (never the
// raw path, which would make unbounded series).
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// serveMetrics serves /metrics on addr, apart from the public listener, so
// that only who can reach addr (by default loopback) can read it. An empty
// addr serves nothing. A listener that cannot be opened is logged, not
// fatal: the instance serves its users without metrics. The returned stop
// closes the listener.
func (m *metrics) serve(addr string, log *slog.Logger) (stop func()) {
	if addr == "" {
		return func() {}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("metrics listener not started", "listen", addr, "err", err)
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler())
	// Profiles of the running server, for whoever may read its metrics:
	// go tool pprof http://127.0.0.1:9464/debug/pprof/profile?seconds=20
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	log.Info("metrics listening", "listen", ln.Addr().String())
	return func() { srv.Close() }
}
