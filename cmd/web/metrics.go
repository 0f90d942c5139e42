package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// metricsServer serves the Prometheus metrics on a listener of their own
// (METRICS_ADDR), so that they can be exposed to the scraper only and never
// to the users of the public address.
type metricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// startMetrics listens on addr and serves h there until shutdown is called.
func startMetrics(addr string, h http.Handler, log *slog.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &metricsServer{ln: ln, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return m, nil
}

// addr is where the metrics listener listens.
func (m *metricsServer) addr() string { return m.ln.Addr().String() }

// shutdown stops the metrics listener, waiting for scrapes in flight.
func (m *metricsServer) shutdown(ctx context.Context) error { return m.srv.Shutdown(ctx) }
