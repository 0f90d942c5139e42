package apicall

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type collector struct {
	mu    sync.Mutex
	calls []Call
}

func (c *collector) RecordCall(_ context.Context, call Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

func TestTransportRecordsCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusConflict)
			writeOrFail(t, w, `{"statusCode":409}`)
			return
		}
		writeOrFail(t, w, `{"ok":true}`)
	}))
	defer srv.Close()
	rec := &collector{}
	hc := &http.Client{Transport: &Transport{Recorder: rec}}

	ctx := WithOperation(context.Background(), "finrota", "create_debt")
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/fail?apiKey=SECRET", nil)
	req.Header.Set("X-Request-ID", "rid-1")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 0 {
		t.Fatal("recorded before the body was closed")
	}
	SetErrorCode(ctx, "409")
	closeOrFail(t, resp.Body)
	closeOrFail(t, resp.Body) // a second close records nothing more

	// A call with no operation is named by host and path.
	resp, err = hc.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, resp.Body)

	// A refused connection is recorded without its URL.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	req, _ = http.NewRequestWithContext(WithOperation(context.Background(), "vakifbank", "token"), "POST", deadURL+"/t?client_secret=SECRET", nil)
	if _, err := hc.Do(req); err == nil {
		t.Fatal("no error from a closed server")
	}

	if len(rec.calls) != 3 {
		t.Fatalf("%d calls recorded, want 3", len(rec.calls))
	}
	c := rec.calls[0]
	if c.Provider != "finrota" || c.Operation != "create_debt" || c.Method != "POST" || c.Status != 409 || c.ErrorCode != "409" || c.RequestID != "rid-1" || c.Duration <= 0 || time.Since(c.At) > time.Minute {
		t.Errorf("first call %+v", c)
	}
	if c := rec.calls[1]; c.Operation != "/ok" || c.Status != 200 || c.ErrorCode != "" {
		t.Errorf("second call %+v", c)
	}
	c = rec.calls[2]
	if c.Status != 0 || c.Failure == "" || strings.Contains(c.Failure, "SECRET") || strings.Contains(c.Failure, "127.0.0.1:") && strings.Contains(c.Failure, "/t?") {
		t.Errorf("failed call %+v", c)
	}
}

func TestRequestID(t *testing.T) {
	a, b := RequestID(context.Background()), RequestID(context.Background())
	if a == "" || a == b {
		t.Fatalf("fresh ids %q %q", a, b)
	}
	ctx := WithRequestID(context.Background(), "fixed")
	if RequestID(ctx) != "fixed" {
		t.Fatal("fixed id not kept")
	}
}
