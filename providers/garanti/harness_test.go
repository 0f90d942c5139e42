package garanti_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/clocktest"
	"kasa/providers/apicall"
	"kasa/providers/garanti"
	"kasa/providers/garanti/garantitest"
)

var (
	istanbul = time.FixedZone("Europe/Istanbul", 3*60*60)
	start    = time.Date(2025, 6, 16, 10, 0, 0, 0, istanbul)
)

const redirectURI = "https://kasa.example.com.tr/oauth/garanti/callback"

// seen is one request as the fake received it.
type seen struct {
	method, path string
	header       http.Header
	body         []byte
}

type env struct {
	t      *testing.T
	fake   *garantitest.Server
	srv    *httptest.Server
	clk    *clocktest.Clock
	client *garanti.Client
	app    garanti.AppCredentials
	hc     *http.Client

	mu    sync.Mutex
	reqs  []seen
	calls []apicall.Call
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clk: clocktest.New(start)}
	e.fake = garantitest.New(garantitest.Options{Now: e.clk.Now, Seed: true, RandSeed: 11})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("fake: read request body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		e.mu.Lock()
		e.reqs = append(e.reqs, seen{r.Method, r.URL.Path, r.Header.Clone(), body})
		e.mu.Unlock()
		e.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.hc = &http.Client{Transport: &apicall.Transport{Recorder: apicall.RecorderFunc(func(_ context.Context, c apicall.Call) {
		e.mu.Lock()
		e.calls = append(e.calls, c)
		e.mu.Unlock()
	})}}
	id, secret, err := garanti.New(e.srv.URL, e.hc, garanti.AppCredentials{}).Register(context.Background(), []string{redirectURI}, "Kasa A.Ş.")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	e.app = garanti.AppCredentials{ClientID: id, ClientSecret: secret, ClientIDPortal: "portal-42", TPPName: "Kasa", RedirectURI: redirectURI}
	e.client = e.newClient(e.app)
	return e
}

func (e *env) newClient(app garanti.AppCredentials) *garanti.Client {
	c := garanti.New(e.srv.URL, e.hc, app)
	c.Now = e.clk.Now
	return c
}

// reset forgets the requests and calls seen so far.
func (e *env) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs, e.calls = nil, nil
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

func validRequest() garanti.ConsentRequest {
	return garanti.ConsentRequest{
		Recurring: true, ValidationDate: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), FrequencyPerDay: 20,
		TranBeginDate: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), TranEndDate: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC),
		Authorities: []garanti.Authority{{ID: garanti.AuthorityProductInfo}, {ID: garanti.AuthorityTransactionInfo}},
	}
}

var requestIDRe = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

// browse is the customer at the bank: it opens the scaOAuth link, logs in
// and presses the button, and returns the query of the redirect back.
func (e *env) browse(href, action string) url.Values {
	e.t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(resp *http.Response, err error) (*http.Response, string) {
		e.t.Helper()
		if err != nil {
			e.t.Fatal(err)
		}
		defer closeOrFail(e.t, resp.Body)
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, page := get(hc.Get(href))
	m := requestIDRe.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no login form: %s", page)
	}
	get(hc.PostForm(e.srv.URL+garantitest.LoginPath, url.Values{"request_id": {m[1]}, "customer_no": {garantitest.SandboxCustomerNo},
		"password": {garantitest.SandboxPassword}, "otp": {garantitest.SandboxOTP}}))
	v := url.Values{"request_id": {m[1]}, "action": {action},
		"authority": {garanti.AuthorityProductInfo, garanti.AuthorityTransactionInfo}}
	for _, p := range e.fake.Products(garantitest.SandboxCustomerNo) {
		v.Add("product", p.ProductID)
	}
	resp, page := get(hc.PostForm(e.srv.URL+garantitest.ApprovePath, v))
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("approve: %d %s", resp.StatusCode, page)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != redirectURI {
		e.t.Fatalf("redirect to %s", resp.Header.Get("Location"))
	}
	return loc.Query()
}

// connect runs the whole consent flow and returns an active consent.
func (e *env) connect(req garanti.ConsentRequest) (string, garanti.Token) {
	e.t.Helper()
	ctx := context.Background()
	verifier, challenge := garanti.NewPKCE()
	cc, err := e.client.CreateConsent(ctx, req, "st", challenge)
	if err != nil {
		e.t.Fatalf("create consent: %v", err)
	}
	q := e.browse(cc.SCAHref, "approve")
	tok, err := e.client.ExchangeCode(ctx, q.Get("code"), verifier)
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	if _, err := e.client.ConsentProducts(ctx, cc.ConsentID, tok.AccessToken); err != nil {
		e.t.Fatalf("products: %v", err)
	}
	return cc.ConsentID, tok
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
