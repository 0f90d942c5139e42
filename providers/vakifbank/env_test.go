package vakifbank

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"kasa/clocktest"
	"kasa/providers/apicall"
	"kasa/providers/tokens"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/tz"
)

// testNow is "now" for the fake, the client and the token store.
var testNow = time.Date(2026, 3, 15, 14, 30, 0, 0, tz.Istanbul)

// seen is one request as the fake received it.
type seen struct {
	Path, RequestID, Authorization, ContentType string
	Body                                        []byte
}

// env is a client wired to the fake over real HTTP, with the app's
// recording transport.
type env struct {
	fake   *vakifbanktest.Server
	client *Client
	clock  *clocktest.Clock
	store  *tokens.Memory

	mu    sync.Mutex
	reqs  []seen
	calls []apicall.Call
	// rewrite, when set, changes the JSON body of /accountTransactions
	// requests before the fake sees them: the client always sends valid
	// dates, so this is how the date-format codes are reached.
	rewrite func(map[string]any)
	// before runs before the fake handles a request.
	before func(*http.Request)
}

func newEnv(t *testing.T) *env {
	return newEnvWith(t, Credentials{
		ClientID:     vakifbanktest.SandboxClientID,
		ClientSecret: vakifbanktest.SandboxClientSecret,
		ConsentID:    vakifbanktest.SandboxConsentID,
		Resource:     "sandbox",
	})
}

func newEnvWith(t *testing.T, creds Credentials) *env {
	t.Helper()
	e := &env{clock: clocktest.New(testNow)}
	e.fake = fakeFor(e.clock.Now)
	srv := httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &apicall.Transport{
		Base:     srv.Client().Transport,
		Recorder: apicall.RecorderFunc(func(_ context.Context, c apicall.Call) { e.mu.Lock(); e.calls = append(e.calls, c); e.mu.Unlock() }),
	}}
	e.store = &tokens.Memory{Now: e.clock.Now}
	e.client = New(srv.URL, hc, creds, e.store)
	e.client.Now = e.clock.Now
	return e
}

// fakeFor returns a seeded fake. Every test gets its own server (tokens,
// quirks and faults are per test); the seed is identical for all.
func fakeFor(now func() time.Time) *vakifbanktest.Server {
	return vakifbanktest.New(vakifbanktest.Options{Now: now, Seed: true, RandSeed: 42})
}

func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if e.rewrite != nil && r.URL.Path == "/accountTransactions" {
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			e.rewrite(m)
			body, _ = json.Marshal(m)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	e.mu.Lock()
	e.reqs = append(e.reqs, seen{Path: r.URL.Path, RequestID: r.Header.Get("X-Request-ID"),
		Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: body})
	before := e.before
	e.mu.Unlock()
	if before != nil {
		before(r)
	}
	e.fake.ServeHTTP(w, r)
}

func (e *env) requests() []seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]seen(nil), e.reqs...)
}

func (e *env) recorded() []apicall.Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]apicall.Call(nil), e.calls...)
}

func (e *env) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs, e.calls = nil, nil
}

func (e *env) paths() []string {
	var p []string
	for _, r := range e.requests() {
		p = append(p, r.Path)
	}
	return p
}

// inWindow returns the fake's movements of account with start <= date <= end.
func inWindow(ms []vakifbanktest.Movement, start, end time.Time) []vakifbanktest.Movement {
	var out []vakifbanktest.Movement
	for _, m := range ms {
		if !m.Date.Before(start) && !m.Date.After(end) {
			out = append(out, m)
		}
	}
	return out
}

// sameMovements fails t unless got is exactly want, field by field.
func sameMovements(t *testing.T, got []Transaction, want []vakifbanktest.Movement) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d movements, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.Date.Equal(w.Date) || int(g.Type) != w.Type || !g.Amount.Equal(w.Amount) ||
			!g.Balance.Equal(w.Balance) || g.Currency != w.Currency || g.Code != w.Code || g.Name != w.Name ||
			g.Description != w.Description {
			t.Fatalf("movement %d:\n got %+v\nwant %+v", i, g, w)
		}
		if g.Date.Location().String() != "Europe/Istanbul" {
			t.Fatalf("movement %d is in %v", i, g.Date.Location())
		}
	}
}
