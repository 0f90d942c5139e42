package garantitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kasa/clocktest"
	"kasa/tz"
)

// start is a Monday morning in Istanbul.
var start = time.Date(2025, 6, 16, 10, 0, 0, 0, tz.Istanbul)

const redirectURI = "https://kasa.example.com.tr/oauth/garanti/callback"

type env struct {
	t        *testing.T
	fake     *Server
	srv      *httptest.Server
	clk      *clocktest.Clock
	clientID string
	secret   string
	hc       *http.Client // does not follow redirects
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// code returns apiError.apiResponse.apiResponseCode, or the OAuth error.
func (r reply) code() string {
	var b struct {
		APIError struct {
			APIResponse struct {
				Code string `json:"apiResponseCode"`
			} `json:"apiResponse"`
		} `json:"apiError"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	if b.Error != "" {
		return b.Error
	}
	return b.APIError.APIResponse.Code
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, Options{Seed: true, RandSeed: 7})
}

// newEnvWith is newEnv with other options; the clock is the env's.
func newEnvWith(t *testing.T, opts Options) *env {
	t.Helper()
	clk := clocktest.New(start)
	opts.Now = clk.Now
	fake := New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{t: t, fake: fake, srv: srv, clk: clk,
		hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	r := e.do("POST", "/cards/service/registiration/v0", nil, `{"redirect_uris":["`+redirectURI+`"],"company_name":"Kasa A.Ş."}`, "application/json")
	if r.status != 200 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	m := r.json(t)
	e.clientID, e.secret = m["client_id"].(string), m["client_secret"].(string)
	return e
}

func (e *env) do(method, path string, hdr map[string]string, body, ctype string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = e.srv.URL + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer closeOrFail(e.t, resp.Body)
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func (e *env) form(path string, v url.Values) reply {
	e.t.Helper()
	return e.do("POST", path, nil, v.Encode(), "application/x-www-form-urlencoded")
}

func (e *env) ccToken() string {
	e.t.Helper()
	r := e.form("/auth/oauth/v2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.clientID},
		"client_secret": {e.secret}, "redirect_uri": {redirectURI}})
	if r.status != 200 {
		e.t.Fatalf("client token: %d %s", r.status, r.body)
	}
	return r.json(e.t)["access_token"].(string)
}

// clientHeaders are the headers of every consent call.
func (e *env) clientHeaders() map[string]string {
	return map[string]string{"X-Request-ID": "req-1", "Client-ID": e.clientID, "Client-Secret": e.secret, "Client-ID-Portal": "portal-1"}
}

func (e *env) createHeaders(token string) map[string]string {
	h := e.clientHeaders()
	h["TPP-ID"], h["TPP-Name"], h["TPP-Redirect-URI"], h["Authorization"] = e.clientID, "Kasa", redirectURI, "Bearer "+token
	return h
}

func (e *env) dataHeaders(consentID, token string) map[string]string {
	h := e.clientHeaders()
	h["Consent-ID"], h["Authorization"] = consentID, "Bearer "+token
	return h
}

// consentBody is a valid create-consent body; edit mutates it.
func consentJSON(edit func(m map[string]any)) string {
	m := map[string]any{
		"recurringIndicator": true, "validationDate": "2025-12-01", "frequencyPerDay": 4,
		"tranBeginDate": "2024-07-01", "tranEndDate": "2025-06-30",
		"authorityConsentList": []any{map[string]any{"authorityID": AuthorityProductInfo}, map[string]any{"authorityID": AuthorityTransactionInfo}},
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (e *env) create(body string) reply {
	e.t.Helper()
	return e.do("POST", ConsentsPath, e.createHeaders(e.ccToken()), body, "application/json")
}

func (e *env) createOK(body string) (id, href string) {
	e.t.Helper()
	r := e.create(body)
	if r.status != 200 {
		e.t.Fatalf("create consent: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	return m["consentId"].(string), m["_links"].(map[string]any)["scaOAuth"].(map[string]any)["href"].(string)
}

var requestIDRe = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

func requestID(t *testing.T, page []byte) string {
	t.Helper()
	m := requestIDRe.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no request_id in page: %s", page)
	}
	return string(m[1])
}

// login opens the scaOAuth link with extra query params and logs in,
// returning the approval page.
func (e *env) login(href string, extra url.Values) (string, reply) {
	e.t.Helper()
	u, _ := url.Parse(href)
	q := u.Query()
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	page := e.do("GET", u.String(), nil, "", "")
	if page.status != 200 {
		e.t.Fatalf("authorize: %d %s", page.status, page.body)
	}
	rid := requestID(e.t, page.body)
	r := e.form(LoginPath, url.Values{"request_id": {rid}, "customer_no": {SandboxCustomerNo}, "password": {SandboxPassword}, "otp": {SandboxOTP}})
	if r.status != 200 || !strings.Contains(string(r.body), `id="approve"`) {
		e.t.Fatalf("login: %d %s", r.status, r.body)
	}
	return rid, r
}

// approve approves with every box checked and returns the redirect query.
func (e *env) approve(rid string, products, authorities []string) url.Values {
	e.t.Helper()
	v := url.Values{"request_id": {rid}, "action": {"approve"}, "product": products, "authority": authorities}
	r := e.form(ApprovePath, v)
	if r.status != http.StatusSeeOther {
		e.t.Fatalf("approve: %d %s", r.status, r.body)
	}
	loc, _ := url.Parse(r.header.Get("Location"))
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		e.t.Fatalf("redirected to %s", got)
	}
	return loc.Query()
}

func (e *env) exchange(code, verifier string) reply {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "code": code, "client_id": e.clientID,
		"client_secret": e.secret, "redirect_uri": redirectURI, "code_verifier": verifier})
	return e.do("POST", "/cards/service/gettoken/v0", nil, string(b), "application/json")
}

var sandboxProducts = []string{"7001000101", "7001000102", "7001000103"}

// active creates, approves, exchanges and activates a consent.
func (e *env) active(body string) (consentID, access, refresh string) {
	e.t.Helper()
	id, href := e.createOK(body)
	rid, _ := e.login(href, url.Values{"state": {"st"}})
	q := e.approve(rid, sandboxProducts, []string{AuthorityProductInfo, AuthorityTransactionInfo})
	r := e.exchange(q.Get("code"), "")
	if r.status != 200 {
		e.t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	access, refresh = m["access_token"].(string), m["refresh_token"].(string)
	if p := e.do("POST", ConsentsPath+"products", e.dataHeaders(id, access), "", ""); p.status != 200 {
		e.t.Fatalf("products: %d %s", p.status, p.body)
	}
	return id, access, refresh
}

func txnBody(edit func(m map[string]any)) string {
	m := map[string]any{"productId": "7001000101", "orderByFieldNum": 3, "startInstanceId": "2025-06-01", "stopInstanceId": "2025-06-16",
		"authorityList": []any{map[string]any{"authorityID": AuthorityProductInfo}, map[string]any{"authorityID": AuthorityTransactionInfo}}}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (e *env) txns(consentID, token, body string) reply {
	e.t.Helper()
	return e.do("POST", TxnListPath, e.dataHeaders(consentID, token), body, "application/json")
}

func wantCode(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.code() != code {
		t.Fatalf("got %d %q, want %d %q: %s", r.status, r.code(), status, code, r.body)
	}
}
