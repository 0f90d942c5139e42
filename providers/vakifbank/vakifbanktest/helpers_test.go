package vakifbanktest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"kasa/clocktest"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/tz"
)

var istanbul = tz.Istanbul

// testNow is the fake's "now" in these tests: the seed ends here.
var testNow = time.Date(2026, 3, 15, 14, 30, 0, 0, istanbul)

type fixture struct {
	fake  *vakifbanktest.Server
	srv   *httptest.Server
	clock *clocktest.Clock
}

func newFixture(t *testing.T, seed bool) *fixture {
	t.Helper()
	c := clocktest.New(testNow)
	fake := vakifbanktest.New(vakifbanktest.Options{Now: c.Now, Seed: seed, RandSeed: 7})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &fixture{fake: fake, srv: srv, clock: c}
}

func sandboxForm() url.Values {
	return url.Values{
		"grant_type":    {"b2b_credentials"},
		"client_id":     {vakifbanktest.SandboxClientID},
		"client_secret": {vakifbanktest.SandboxClientSecret},
		"scope":         {"account"},
		"consentId":     {vakifbanktest.SandboxConsentID},
		"resource":      {"sandbox"},
	}
}

// postForm posts a token request and decodes the JSON answer.
func (f *fixture) postForm(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(f.srv.URL+"/auth/oauth/v2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, resp.Body)
	return resp.StatusCode, decode(t, resp)
}

func (f *fixture) token(t *testing.T) string {
	t.Helper()
	status, body := f.postForm(t, sandboxForm())
	if status != http.StatusOK {
		t.Fatalf("token: status %d, body %v", status, body)
	}
	return body["access_token"].(string)
}

// query posts to /accountTransactions with the bearer token.
func (f *fixture) query(t *testing.T, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/accountTransactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, resp.Body)
	return resp, decode(t, resp)
}

func reqBody(account, start, end string) string {
	b, _ := json.Marshal(map[string]string{"AccountNumber": account, "StartDate": start, "EndDate": end})
	return string(b)
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("status %d: body %q is not a JSON object: %v", resp.StatusCode, buf.String(), err)
	}
	return m
}

// headerOf returns the Header block's code and description.
func headerOf(t *testing.T, body map[string]any) (code, desc string) {
	t.Helper()
	h, ok := body["Header"].(map[string]any)
	if !ok {
		t.Fatalf("no Header in %v", body)
	}
	return h["StatusCode"].(string), h["StatusDescription"].(string)
}

// rowsOf returns Data.AccountTransactions as a list.
func rowsOf(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	data, ok := body["Data"].(map[string]any)
	if !ok {
		t.Fatalf("no Data in %v", body)
	}
	list, ok := data["AccountTransactions"].([]any)
	if !ok {
		t.Fatalf("AccountTransactions is %T, want a list", data["AccountTransactions"])
	}
	out := make([]map[string]any, len(list))
	for i, r := range list {
		out[i] = r.(map[string]any)
	}
	return out
}
