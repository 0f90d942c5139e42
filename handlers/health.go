package handlers

import (
	"context"
	"crypto/subtle"
	"io"
	"net/http"
	"time"

	"kasa/queue"
)

// healthz says the process is alive; it touches nothing else.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	h.writeText(w, r, "ok\n")
}

// readyz says the database answers and carries every migration.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		h.writeText(w, r, "database unreachable\n")
		return
	}
	if !h.migrated.Load() {
		ok, err := h.store.Migrated(ctx)
		if err != nil || !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			h.writeText(w, r, "database not migrated\n")
			return
		}
		h.migrated.Store(true)
	}
	h.writeText(w, r, "ready\n")
}

// metricsHandler refreshes the job counts from the database, then serves
// the Prometheus exposition.
func (h *Handler) metricsHandler() http.HandlerFunc {
	prom := h.metrics.handler()
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if counts, err := queue.CountByState(ctx, h.store.DB()); err == nil {
			h.metrics.SetJobCounts(counts)
		}
		prom.ServeHTTP(w, r)
	}
}

// publicMetrics is /metrics on the public listener: the metrics name every
// route, job state and provider call, so they are served there only with
// the configured token, and not at all without one.
func (h *Handler) publicMetrics() http.HandlerFunc {
	serve := h.metricsHandler()
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.MetricsToken == "" {
			h.notFound(w, r)
			return
		}
		h.withMetricsToken(serve)(w, r)
	}
}

// MetricsHandler serves /metrics for a listener of its own (METRICS_ADDR),
// reachable only where the operator exposes it; it asks for the token too
// when one is configured.
func (h *Handler) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", h.withMetricsToken(h.metricsHandler()))
	return mux
}

// withMetricsToken lets through requests that carry the configured bearer
// token; without a configured token it lets everything through.
func (h *Handler) withMetricsToken(next http.HandlerFunc) http.HandlerFunc {
	want := []byte("Bearer " + h.cfg.MetricsToken)
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.MetricsToken != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kasa metrics"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

// writeText writes a short plain-text answer. A failed write means the
// prober hung up; no one is left to answer, so it is only logged.
func (h *Handler) writeText(w http.ResponseWriter, r *http.Request, s string) {
	if _, err := io.WriteString(w, s); err != nil {
		h.log.Debug("write probe answer", "request_id", requestID(r.Context()), "path", r.URL.Path, "err", err)
	}
}
