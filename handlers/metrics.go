package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kasa/providers/apicall"
	"kasa/store"
)

// Metrics are the Prometheus series the product exports, in a registry of
// its own (no global state).
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	calls     *prometheus.CounterVec
	callTime  *prometheus.HistogramVec
	jobStates *prometheus.GaugeVec
}

// NewMetrics creates the registry and the series.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kasa_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kasa_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kasa_provider_calls_total", Help: "Outbound provider calls by provider, operation and status.",
		}, []string{"provider", "operation", "status"}),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kasa_provider_call_duration_seconds", Help: "Outbound provider call latency.",
			Buckets: prometheus.DefBuckets,
		}, []string{"provider", "operation"}),
		jobStates: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kasa_jobs", Help: "Jobs by state, read from the database at scrape time.",
		}, []string{"state"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.calls, m.callTime, m.jobStates,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observeRequest(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// CallRecorder records provider calls into the API call log and the metrics.
func CallRecorder(st *store.Store, m *Metrics, logf func(msg string, args ...any)) apicall.Recorder {
	return apicall.RecorderFunc(func(ctx context.Context, c apicall.Call) {
		status := strconv.Itoa(c.Status)
		if c.Status == 0 {
			status = "none"
		}
		m.calls.WithLabelValues(c.Provider, c.Operation, status).Inc()
		m.callTime.WithLabelValues(c.Provider, c.Operation).Observe(c.Duration.Seconds())
		err := st.InsertAPICall(ctx, store.APICall{
			At: c.At, Provider: c.Provider, Operation: c.Operation, Method: c.Method, Status: c.Status,
			DurationMS: float64(c.Duration.Microseconds()) / 1000, RequestID: c.RequestID,
			ErrorCode: c.ErrorCode, Failure: c.Failure,
		})
		if err != nil && logf != nil {
			logf("record api call", "err", err, "provider", c.Provider, "operation", c.Operation)
		}
	})
}

// SetJobCounts updates the jobs-by-state gauge.
func (m *Metrics) SetJobCounts(counts map[string]int) {
	for _, s := range []string{"queued", "running", "done", "failed", "cancelled"} {
		m.jobStates.WithLabelValues(s).Set(float64(counts[s]))
	}
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
