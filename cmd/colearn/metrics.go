package main

import (
	"context"
	"net/http"
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
	m.reg.MustRegister(m.applied, m.applyTime)
	m.reg.MustRegister(m.requests, m.duration, m.sigFailed, m.activities,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) signatureFailed(reason string) { m.sigFailed.WithLabelValues(reason).Inc() }

func (m *metrics) activityAccepted(t string) { m.activities.WithLabelValues(t).Inc() }

func (m *metrics) activityApplied(t string, took time.Duration) {
	m.applied.WithLabelValues(t).Inc()
	m.applyTime.Observe(took.Seconds())
}

// inboxPending exports colearn_inbox_pending, counted at each scrape.
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
