package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"kasa/handlers"
)

// sandbox runs the provider fakes on loopback ports.
type sandbox struct {
	servers []*http.Server
	links   []handlers.SandboxLink
}

// startSandbox serves each provider fake on its own loopback port.
func startSandbox(ctx context.Context, log *slog.Logger) (*sandbox, error) {
	return &sandbox{}, nil
}

// serve starts one fake and returns its base URL.
func (s *sandbox) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// Links are the fakes' own pages, for the sandbox banner.
func (s *sandbox) Links() []handlers.SandboxLink { return s.links }

// Close stops the fakes.
func (s *sandbox) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		srv.Shutdown(ctx)
	}
}
