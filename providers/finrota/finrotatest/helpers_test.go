package finrotatest

import (
	"encoding/json"
	"io"
	"kasa/clocktest"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	agentCode     = "NT26822394"
	inactiveAgent = "NT00000002"
	accountCode   = "441B3BF1-8F5F-4CCD-A116-7CD90D3E4C04"
	account2      = "5D0C8E2A-1B7F-4E4B-9A53-2F1C0B9D7E11"
	closedAccount = "0A9E2B7C-3D4F-4A1B-8C6D-9E8F7A6B5C4D"
)

// env is a fake behind a real HTTP server, with a token and a little data.
type env struct {
	t     *testing.T
	srv   *Server
	url   string
	clock *clocktest.Clock
	token string
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	c := clocktest.New(time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC))
	if opts.Now == nil {
		opts.Now = c.Now
	}
	srv := New(opts)
	srv.AddAgent(Agent{Code: agentCode, Name: "Marmara Bayi", Active: true})
	srv.AddAgent(Agent{Code: inactiveAgent, Name: "Kapalı Bayi", Active: false})
	srv.AddCurrentAccount(CurrentAccount{ErpCode: accountCode, Name: "Yıldız Tekstil A.Ş.", Email: "muhasebe@yildiz.example", Active: true})
	srv.AddCurrentAccount(CurrentAccount{ErpCode: account2, Name: "Özkan Gıda Ltd. Şti.", Active: true})
	srv.AddCurrentAccount(CurrentAccount{ErpCode: closedAccount, Name: "Erdem Cam", Active: false})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, srv: srv, url: ts.URL, clock: c}
	e.token = e.newToken()
	return e
}

func (e *env) newToken() string {
	e.t.Helper()
	status, _, body := e.raw("POST", "/auth/api/token/connect", `{"apiKey":"`+SandboxAPIKey+`","secretKey":"`+SandboxSecretKey+`"}`, nil)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body["token"].(string)
}

// raw sends a request with JSON content type; hdr overrides headers ("" deletes).
func (e *env) raw(method, path, body string, hdr map[string]string) (int, http.Header, map[string]any) {
	e.t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rb)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer closeOrFail(e.t, resp.Body)
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(data) > 0 && json.Unmarshal(data, &m) != nil {
		m = map[string]any{"_raw": string(data)}
	}
	return resp.StatusCode, resp.Header, m
}

// call sends an authorized request.
func (e *env) call(method, path, body string) (int, map[string]any) {
	e.t.Helper()
	status, _, m := e.raw(method, path, body, map[string]string{"Authorization": "Bearer " + e.token})
	return status, m
}

// debtBody is a valid create body; edit changes it before encoding.
func debtJSONBody(erpCode string, edit func(m map[string]any)) string {
	m := map[string]any{
		"agentErpCode":          agentCode,
		"amount":                1550,
		"paidAmount":            0,
		"documentNo":            "MRT2025000000123",
		"currentAccountErpCode": accountCode,
		"documentType":          "Fatura",
		"dueDate":               "2025-10-20",
		"transactionDate":       "2025-09-20",
		"currencyId":            "TRY",
		"erpCode":               erpCode,
		"description":           "Eylül ayı mal alım faturası",
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (e *env) create(erpCode string, edit func(m map[string]any)) map[string]any {
	e.t.Helper()
	status, body := e.call("POST", "/cat/cat", debtJSONBody(erpCode, edit))
	if status != 200 {
		e.t.Fatalf("create %s: %d %v", erpCode, status, body)
	}
	return body
}

// wantStatusEnvelope checks {"status":"error","message":...,"messageCode":"<status>"}.
func wantStatusEnvelope(t *testing.T, status int, body map[string]any, message string) {
	t.Helper()
	if body["status"] != "error" || body["messageCode"] != itoa(status) {
		t.Fatalf("want status envelope with messageCode %d, got %v", status, body)
	}
	if message != "" && body["message"] != message {
		t.Fatalf("message = %q, want %q", body["message"], message)
	}
}

// wantGatewayEnvelope checks {"statusCode":N,"error":"<text>","message":...}.
func wantGatewayEnvelope(t *testing.T, status int, body map[string]any) {
	t.Helper()
	if body["statusCode"] != float64(status) || body["error"] != http.StatusText(status) || body["message"] == "" || body["message"] == nil {
		t.Fatalf("want gateway envelope %d, got %v", status, body)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func fieldErrs(body map[string]any) map[string]any {
	m, _ := body["errors"].(map[string]any)
	return m
}
