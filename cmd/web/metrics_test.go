package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
)

func TestMetricsConfig(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"ADDR": "127.0.0.1:8080", "PUBLIC_URL": "", "METRICS_ADDR": "127.0.0.1:9100", "METRICS_TOKEN": "scrape-secret-123"}
	c, err := loadConfig(environ)
	if err != nil || c.MetricsAddr != "127.0.0.1:9100" || c.MetricsToken != "scrape-secret-123" {
		t.Fatalf("metrics settings: %q %q %v", c.MetricsAddr, c.MetricsToken, err)
	}
	environ["METRICS_ADDR"] = "127.0.0.1:8080"
	if _, err := loadConfig(environ); err == nil {
		t.Error("METRICS_ADDR equal to ADDR was accepted: the metrics would be public")
	}
	environ["METRICS_ADDR"] = ""
	environ["METRICS_TOKEN"] = "short"
	if _, err := loadConfig(environ); err == nil {
		t.Error("a guessable METRICS_TOKEN was accepted")
	}
}

func TestMetricsListenerServesItsHandlerAndStops(t *testing.T) {
	t.Parallel()
	h := http.NewServeMux()
	h.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) { writeOrFail(t, w, "kasa_up 1\n") })
	m, err := startMetrics("127.0.0.1:0", h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + m.addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "kasa_up 1\n" {
		t.Fatalf("metrics listener: %d %q", resp.StatusCode, body)
	}
	if err := m.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + m.addr() + "/metrics"); err == nil {
		t.Error("the metrics listener still answers after shutdown")
	}
}
