package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// scrape fetches url with an optional bearer token and returns the status,
// the WWW-Authenticate header and the body.
func scrape(t *testing.T, url, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, resp.Body)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
}

const metricsSample = `kasa_jobs{state="failed"}`

// TestMetricsAreOffOnThePublicListenerByDefault: without a token nobody on
// the public listener reads the metrics; the separate listener's handler
// serves them.
func TestMetricsAreOffOnThePublicListenerByDefault(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if status, _, body := scrape(t, e.srv.URL+"/metrics", ""); status != http.StatusNotFound || strings.Contains(body, metricsSample) {
		t.Fatalf("public /metrics without a token configured: status %d", status)
	}
	own := httptest.NewServer(e.h.MetricsHandler())
	t.Cleanup(own.Close)
	if status, _, body := scrape(t, own.URL+"/metrics", ""); status != http.StatusOK || !strings.Contains(body, metricsSample) {
		t.Fatalf("metrics listener: status %d, body lacks %s", status, metricsSample)
	}
}

// TestMetricsBehindABearerToken: with METRICS_TOKEN the public listener
// serves the metrics to the token only, and so does the separate listener.
func TestMetricsBehindABearerToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *Config) { c.MetricsToken = "scrape-secret-123" })
	own := httptest.NewServer(e.h.MetricsHandler())
	t.Cleanup(own.Close)
	for _, base := range []string{e.srv.URL, own.URL} {
		for _, token := range []string{"", "wrong", "scrape-secret-12"} {
			status, challenge, body := scrape(t, base+"/metrics", token)
			if status != http.StatusUnauthorized || challenge == "" || strings.Contains(body, metricsSample) {
				t.Errorf("%s/metrics with token %q: status %d, WWW-Authenticate %q", base, token, status, challenge)
			}
		}
		if status, _, body := scrape(t, base+"/metrics", "scrape-secret-123"); status != http.StatusOK || !strings.Contains(body, metricsSample) {
			t.Errorf("%s/metrics with the token: status %d", base, status)
		}
	}
}
