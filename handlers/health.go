package handlers

import (
	"context"
	"net/http"
	"time"

	"kasa/jobs"
)

// healthz says the process is alive; it touches nothing else.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz says the database answers and carries every migration.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unreachable\n"))
		return
	}
	if !h.migrated.Load() {
		ok, err := h.store.Migrated(ctx)
		if err != nil || !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database not migrated\n"))
			return
		}
		h.migrated.Store(true)
	}
	w.Write([]byte("ready\n"))
}

// metricsHandler refreshes the job counts from the database, then serves
// the Prometheus exposition.
func (h *Handler) metricsHandler() http.HandlerFunc {
	prom := h.metrics.handler()
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if counts, err := jobs.CountByState(ctx, h.store.DB()); err == nil {
			h.metrics.SetJobCounts(counts)
		}
		prom.ServeHTTP(w, r)
	}
}
