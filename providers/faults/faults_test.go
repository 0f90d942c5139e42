package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	var f Faults
	srv := httptest.NewServer(f.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	})))
	defer srv.Close()
	get := func() (int, string, error) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if code, body, _ := get(); code != 200 || body != `{"ok":true}` {
		t.Fatalf("no faults: %d %s", code, body)
	}
	f.FailNext(2, 503)
	for i := 0; i < 2; i++ {
		if code, _, _ := get(); code != 503 {
			t.Fatalf("fault %d: %d", i, code)
		}
	}
	if code, _, _ := get(); code != 200 {
		t.Fatalf("after two failures: %d", code)
	}
	f.FailNext(1, 429)
	resp, _ := http.Get(srv.URL)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("429: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp.Body.Close()
	f.Malformed(true)
	if _, body, _ := get(); !strings.HasSuffix(body, `"id":`) {
		t.Fatalf("malformed body %q", body)
	}
	f.Malformed(false)
	f.DropConnections(true)
	if _, _, err := get(); err == nil {
		t.Fatal("a dropped connection answered")
	}
	f.Reset()
	f.SetLatency(50 * time.Millisecond)
	start := time.Now()
	get()
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("latency not applied")
	}
	f.Down()
	if code, _, _ := get(); code != 503 {
		t.Fatalf("down: %d", code)
	}
	f.Reset()
	if st := f.State(); st != (State{}) {
		t.Fatalf("reset state %+v", st)
	}
}

func TestControlHandler(t *testing.T) {
	var f Faults
	srv := httptest.NewServer(f.ControlHandler("Test <fake>"))
	defer srv.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := c.PostForm(srv.URL, url.Values{"status": {"503"}, "count": {"-1"}, "latency_ms": {"10"}, "malformed": {"1"}})
	resp.Body.Close()
	if st := f.State(); st.Status != 503 || st.Remaining != -1 || st.Latency != 10*time.Millisecond || !st.Malformed {
		t.Fatalf("state %+v", st)
	}
	resp, _ = http.Get(srv.URL)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "Test &lt;fake&gt;") || !strings.Contains(string(b), `value="503"`) {
		t.Fatalf("page %s", b)
	}
	resp, _ = c.PostForm(srv.URL, url.Values{"reset": {"1"}})
	resp.Body.Close()
	if f.State() != (State{}) {
		t.Fatal("reset did not reset")
	}
}
