package finrota_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/clocktest"
	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/providers/finrota/finrotatest"
	"kasa/providers/tokens"
)

const (
	agentCode   = "NT26822394"
	accountCode = "441B3BF1-8F5F-4CCD-A116-7CD90D3E4C04"
)

// seen is one request as the fake received it.
type seen struct {
	Method, Path, Query string
	RequestID           string
	Authorization       string
	ContentType, Accept string
	Body                string
	Status              int
}

// spy records what reaches the fake and can answer in its place.
type spy struct {
	next http.Handler

	mu        sync.Mutex
	reqs      []seen
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (s *spy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	intercept := s.intercept
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: 200}
	if intercept == nil || !intercept(sw, r) {
		s.next.ServeHTTP(passHijack(sw, w), r)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Request-ID"), r.Header.Get("Authorization"),
		r.Header.Get("Content-Type"), r.Header.Get("Accept"), string(body), sw.status})
	s.mu.Unlock()
}

func (s *spy) setIntercept(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = f
}

func (s *spy) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func (s *spy) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// hijackWriter exposes the underlying Hijacker while counting the status.
type hijackWriter struct {
	*statusWriter
	http.Hijacker
}

func passHijack(sw *statusWriter, w http.ResponseWriter) http.ResponseWriter {
	if hj, ok := w.(http.Hijacker); ok {
		return hijackWriter{sw, hj}
	}
	return sw
}

type recorder struct {
	mu    sync.Mutex
	calls []apicall.Call
}

func (r *recorder) RecordCall(_ context.Context, c apicall.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) all() []apicall.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]apicall.Call(nil), r.calls...)
}

type harness struct {
	t      *testing.T
	fake   *finrotatest.Server
	spy    *spy
	client *finrota.Client
	clock  *clocktest.Clock
	store  *tokens.Memory
	rec    *recorder

	mu    sync.Mutex
	waits []time.Duration
}

func newHarness(t *testing.T, opts finrotatest.Options) *harness {
	t.Helper()
	c := clocktest.New(time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC))
	opts.Now = c.Now
	fake := finrotatest.New(opts)
	fake.AddAgent(finrotatest.Agent{Code: agentCode, Name: "Marmara Bayi", Active: true})
	fake.AddCurrentAccount(finrotatest.CurrentAccount{ErpCode: accountCode, Name: "Yıldız Tekstil A.Ş.", Active: true})
	sp := &spy{next: fake}
	ts := httptest.NewServer(sp)
	t.Cleanup(ts.Close)
	h := &harness{t: t, fake: fake, spy: sp, clock: c, store: &tokens.Memory{Now: c.Now}, rec: &recorder{}}
	hc := &http.Client{Transport: &apicall.Transport{Base: ts.Client().Transport, Recorder: h.rec}}
	h.client = finrota.New(ts.URL, hc, finrota.Credentials{APIKey: finrotatest.SandboxAPIKey, SecretKey: finrotatest.SandboxSecretKey}, h.store)
	h.client.Now = c.Now
	h.client.Wait = func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.waits = append(h.waits, d)
		return ctx.Err()
	}
	return h
}

func (h *harness) waited() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.waits...)
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func sampleDebt(erpCode string) finrota.Debt {
	return finrota.Debt{
		AgentErpCode:          agentCode,
		Amount:                dec("1550.00"),
		PaidAmount:            dec("200.5"),
		DocumentNo:            "MRT2025000000123",
		CurrentAccountErpCode: accountCode,
		DocumentType:          "Fatura",
		DueDate:               day(2025, 10, 20),
		TransactionDate:       day(2025, 9, 20),
		CurrencyID:            "TRY",
		ErpCode:               erpCode,
		Description:           "Eylül ayı mal alım faturası",
	}
}
