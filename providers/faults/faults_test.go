package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	var f Faults
	srv := httptest.NewServer(f.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeOrFail(t, w, `{"ok":true}`)
	})))
	defer srv.Close()
	get := func() (int, string, error) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			return 0, "", err
		}
		defer closeOrFail(t, resp.Body)
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
	closeOrFail(t, resp.Body)
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
	if _, _, err := get(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("latency not applied")
	}
	if st := f.State(); st.Delayed != 1 {
		t.Fatalf("%d requests counted as delayed, want 1", st.Delayed)
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
	closeOrFail(t, resp.Body)
	if st := f.State(); st.Status != 503 || st.Remaining != -1 || st.Latency != 10*time.Millisecond || !st.Malformed {
		t.Fatalf("state %+v", st)
	}
	resp, _ = http.Get(srv.URL)
	b, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	if !strings.Contains(string(b), "Test &lt;fake&gt;") || !strings.Contains(string(b), `value="503"`) ||
		!strings.Contains(string(b), `<span data-testid="fault-delayed">0</span>`) {
		t.Fatalf("page %s", b)
	}
	resp, _ = c.PostForm(srv.URL, url.Values{"reset": {"1"}})
	closeOrFail(t, resp.Body)
	if f.State() != (State{}) {
		t.Fatal("reset did not reset")
	}
}

// A documented answer replaces the real one for exactly the next n requests.
func TestAnswerNext(t *testing.T) {
	var f Faults
	srv := httptest.NewServer(f.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeOrFail(t, w, `{"ok":true}`)
	})))
	defer srv.Close()
	f.AnswerNext(2, Answer{Key: "E052", Label: "E052", Write: func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		writeOrFail(t, w, `{"code":"E052"}`)
	}})
	if st := f.State(); st.Answer != "E052" || st.AnswerLeft != 2 {
		t.Fatalf("state %+v", st)
	}
	for i, want := range []string{`{"code":"E052"}`, `{"code":"E052"}`, `{"ok":true}`} {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		closeOrFail(t, resp.Body)
		if string(b) != want {
			t.Fatalf("request %d: %d %s, want %s", i, resp.StatusCode, b, want)
		}
	}
	if st := f.State(); st.Answer != "" {
		t.Fatalf("the answer is still in force after its count: %+v", st)
	}
}

// A lost reply: the handler runs (the provider acts), the client gets no
// answer at all, and the next request is answered normally.
func TestLoseReplies(t *testing.T) {
	var f Faults
	var mu sync.Mutex
	acted := 0
	srv := httptest.NewServer(f.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		acted++
		mu.Unlock()
		writeOrFail(t, w, `{"created":true}`)
	})))
	defer srv.Close()
	f.LoseReplies(1)
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err == nil {
		closeOrFail(t, resp.Body)
		t.Fatalf("a lost reply arrived: %d", resp.StatusCode)
	}
	mu.Lock()
	n := acted
	mu.Unlock()
	if n != 1 {
		t.Fatalf("the provider acted %d times, want 1", n)
	}
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("the next reply was lost too: %v", err)
	}
	closeOrFail(t, resp.Body)
}

// The control page injects an answer from the fake's catalogue and lost
// replies, and shows what is in force.
func TestControlPageAnswersAndLostReplies(t *testing.T) {
	var f Faults
	page := Page{Title: "Fake", Answers: []Answer{
		{Key: "E001", Label: "E001 ConsentID length", Write: func(w http.ResponseWriter, r *http.Request) {}},
		{Key: "E052", Label: "E052 no consent for this product", Write: func(w http.ResponseWriter, r *http.Request) {}},
	}}
	srv := httptest.NewServer(f.ControlPage(page))
	defer srv.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(srv.URL, url.Values{"answer": {"E052"}, "answer_count": {"3"}, "lost": {"2"}})
	if err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, resp.Body)
	if st := f.State(); st.Answer != "E052" || st.AnswerLeft != 3 || st.Lost != 2 {
		t.Fatalf("state %+v", st)
	}
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	if !strings.Contains(string(b), `<option value="E052" selected>E052 no consent for this product</option>`) {
		t.Fatalf("the page does not show the answer in force:\n%s", b)
	}
	// An unknown key injects nothing.
	resp, err = c.PostForm(srv.URL, url.Values{"answer": {"E999"}})
	if err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, resp.Body)
	if st := f.State(); st.Answer != "" || st.Lost != 0 {
		t.Fatalf("state after an unknown answer %+v", st)
	}
}
