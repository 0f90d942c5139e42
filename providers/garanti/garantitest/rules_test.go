package garantitest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRegistrationValidates(t *testing.T) {
	e := newEnv(t)
	for name, body := range map[string]string{
		"no company":   `{"redirect_uris":["https://a.example/cb"],"company_name":" "}`,
		"no uris":      `{"redirect_uris":[],"company_name":"X"}`,
		"relative uri": `{"redirect_uris":["/cb"],"company_name":"X"}`,
		"not json":     `redirect_uris=x`,
	} {
		if r := e.do("POST", "/cards/service/registiration/v0", nil, body, "application/json"); r.status != 400 {
			t.Errorf("%s: status %d, want 400", name, r.status)
		}
	}
	regs := e.fake.Registrations()
	if len(regs) != 1 || regs[0].ClientID != e.clientID || regs[0].CompanyName != "Kasa A.Ş." || regs[0].RedirectURIs[0] != redirectURI {
		t.Fatalf("registrations = %+v", regs)
	}
}

func TestClientCredentialsToken(t *testing.T) {
	e := newEnv(t)
	bad := func(v url.Values, status int, code string) {
		t.Helper()
		wantCode(t, e.form("/auth/oauth/v2/token", v), status, code)
	}
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.clientID}, "client_secret": {e.secret}, "redirect_uri": {redirectURI}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c.Set(k, v)
		return c
	}
	bad(with("grant_type", "password"), 400, "unsupported_grant_type")
	bad(with("client_secret", "wrong"), 401, "invalid_client")
	bad(with("redirect_uri", "https://evil.example/cb"), 400, "invalid_request")

	r := e.form("/auth/oauth/v2/token", good)
	m := r.json(t)
	if r.status != 200 || m["expires_in"].(float64) != 3600 || m["access_token"] == "" {
		t.Fatalf("token = %d %s", r.status, r.body)
	}
	tok := m["access_token"].(string)
	// Single use: the first call spends it, the second is refused.
	if r := e.do("POST", ConsentsPath, e.createHeaders(tok), consentJSON(nil), "application/json"); r.status != 200 {
		t.Fatalf("first use: %d %s", r.status, r.body)
	}
	r = e.do("POST", ConsentsPath, e.createHeaders(tok), consentJSON(nil), "application/json")
	wantCode(t, r, 401, "")
	if !strings.Contains(string(r.body), "already been used") {
		t.Fatalf("second use body: %s", r.body)
	}
	// Expiry.
	tok = e.ccToken()
	e.clk.Advance(time.Hour)
	r = e.do("POST", ConsentsPath, e.createHeaders(tok), consentJSON(nil), "application/json")
	if r.status != 401 || !strings.Contains(string(r.body), "expired") {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
}

func TestCreateConsentRules(t *testing.T) {
	e := newEnv(t)
	auth := func(items ...map[string]any) func(m map[string]any) {
		return func(m map[string]any) {
			list := []any{}
			for _, it := range items {
				list = append(list, it)
			}
			m["authorityConsentList"] = list
		}
	}
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	a := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	long := strings.Repeat("x", 51)
	cases := []struct {
		name string
		edit func(m map[string]any)
		code string
	}{
		{"frequency zero", set("frequencyPerDay", 0), "E020"},
		{"frequency too high", set("frequencyPerDay", 100), "E020"},
		{"one-off with frequency 2", func(m map[string]any) { m["recurringIndicator"] = false; m["frequencyPerDay"] = 2 }, "E022"},
		{"validation date not a date", set("validationDate", "2025-13-01"), "E023"},
		{"validation date in the past", set("validationDate", "2025-06-15"), "E023"},
		{"validation date too far", set("validationDate", "2025-12-14"), "E044"},
		{"begin date invalid", set("tranBeginDate", "01.07.2024"), "E041"},
		{"end date invalid", set("tranEndDate", ""), "E040"},
		{"end before begin", set("tranEndDate", "2024-06-30"), "E042"},
		{"range over a year", set("tranEndDate", "2025-07-02"), "E050"},
		{"no authorities", auth(), "E006"},
		{"empty authority id", auth(a("authorityID", "")), "E006"},
		{"authority id too long", auth(a("authorityID", long)), "E007"},
		{"attribute without name", auth(a("authorityID", AuthorityTransactionInfo, "authorityAttribute", "7001000101")), "E010"},
		{"name without attribute", auth(a("authorityID", AuthorityTransactionInfo, "authorityAttributeName", "productId")), "E011"},
		{"attribute name too long", auth(a("authorityID", AuthorityTransactionInfo, "authorityAttributeName", long, "authorityAttribute", "1")), "E012"},
		{"attribute too long", auth(a("authorityID", AuthorityTransactionInfo, "authorityAttributeName", "productId", "authorityAttribute", long)), "E013"},
		{"duplicate authority", auth(a("authorityID", AuthorityTransactionInfo), a("authorityID", AuthorityTransactionInfo)), "E025"},
		{"unknown authority", auth(a("authorityID", "ZZZZZ")), "E029"},
		{"unknown attribute name", auth(a("authorityID", AuthorityTransactionInfo, "authorityAttributeName", "plate", "authorityAttribute", "34 ABC 123")), "E043"},
		{"flag sent by TPP", auth(map[string]any{"authorityID": AuthorityTransactionInfo, "authorityFLAG": true}), "E026"},
		{"flag in other case", auth(map[string]any{"authorityID": AuthorityTransactionInfo, "AuthorityFlag": true}), "E024"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.create(consentJSON(c.edit))
			wantCode(t, r, 400, c.code)
			if c.code == "E029" && !strings.Contains(string(r.body), "not found : ZZZZZ") {
				t.Fatalf("E029 text: %s", r.body)
			}
			if c.code == "E044" && !strings.Contains(string(r.body), "greater than 180 days") {
				t.Fatalf("E044 text: %s", r.body)
			}
		})
	}
	// The last allowed day and a one-off consent are accepted.
	if r := e.create(consentJSON(set("validationDate", "2025-12-13"))); r.status != 200 {
		t.Fatalf("last day: %d %s", r.status, r.body)
	}
	if r := e.create(consentJSON(func(m map[string]any) { m["recurringIndicator"] = false; m["frequencyPerDay"] = 1 })); r.status != 200 {
		t.Fatalf("one-off: %d %s", r.status, r.body)
	}
}

func TestCreateConsentHeaders(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, header, value string
		status              int
		code                string
	}{
		{"no client id", "Client-ID", "", 401, ""},
		{"long client id", "Client-ID", strings.Repeat("c", 65), 400, "E014"},
		{"wrong secret", "Client-Secret", "nope", 401, ""},
		{"no portal id", "Client-ID-Portal", "", 400, "E015"},
		{"no tpp id", "TPP-ID", "", 400, "E016"},
		{"long tpp name", "TPP-Name", strings.Repeat("n", 101), 400, "E017"},
		{"unregistered redirect", "TPP-Redirect-URI", "https://kasa.example.com.tr/other", 400, ""},
		{"no token", "Authorization", "", 401, ""},
		{"no request id", "X-Request-ID", "", 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := e.createHeaders(e.ccToken())
			h[c.header] = c.value
			wantCode(t, e.do("POST", ConsentsPath, h, consentJSON(nil), "application/json"), c.status, c.code)
		})
	}
	r := e.create(consentJSON(nil))
	if r.status != 200 || r.header.Get("ASPSP-SCA-Approach") != "REDIRECT" || r.header.Get("X-Request-ID") != "req-1" ||
		!strings.HasPrefix(r.header.Get("Location"), ConsentsPath) {
		t.Fatalf("create: %d %v", r.status, r.header)
	}
	m := r.json(t)
	id := m["consentId"].(string)
	href := m["_links"].(map[string]any)["scaOAuth"].(map[string]any)["href"].(string)
	if len(id) != 36 || m["consentStatus"] != "B" || m["creationEndTime"] != "2025-06-16T11:00:00+03:00" ||
		!strings.HasPrefix(href, e.srv.URL+AuthorizePath+"?") || !strings.Contains(href, "consentId="+id) {
		t.Fatalf("created = %s", r.body)
	}
}

func TestConsentIDAndOwnership(t *testing.T) {
	e := newEnv(t)
	id, _ := e.createOK(consentJSON(nil))
	h := e.clientHeaders()
	h["Consent-ID"] = id[:35]
	wantCode(t, e.do("GET", ConsentsPath+"status", h, "", ""), 400, "E001")
	h["Consent-ID"] = "00000000-0000-0000-0000-000000000000"
	wantCode(t, e.do("GET", ConsentsPath+"status", h, "", ""), 400, "E032")

	// Another TPP cannot see this consent.
	other := e.do("POST", "/cards/service/registiration/v0", nil, `{"redirect_uris":["https://other.example/cb"],"company_name":"Other"}`, "application/json").json(t)
	h2 := map[string]string{"X-Request-ID": "r", "Client-ID": other["client_id"].(string), "Client-Secret": other["client_secret"].(string), "Client-ID-Portal": "p", "Consent-ID": id}
	wantCode(t, e.do("GET", ConsentsPath+"status", h2, "", ""), 400, "E032")

	h["Consent-ID"] = id
	r := e.do("GET", ConsentsPath+"status", h, "", "")
	list := r.json(t)["consentStatusList"].([]any)
	if r.status != 200 || len(list) != 2 || list[0].(map[string]any)["consentStatus"] != "B" || list[1].(map[string]any)["authorityID"] != AuthorityTransactionInfo {
		t.Fatalf("status = %d %s", r.status, r.body)
	}
}

func TestMethodsAndFaults(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", TxnListPath, nil, "", "")
	wantCode(t, r, http.StatusMethodNotAllowed, "")
	if r.json(t)["apiError"].(map[string]any)["code"].(float64) != 405 {
		t.Fatalf("405 body: %s", r.body)
	}
	e.fake.Faults.FailNext(1, http.StatusServiceUnavailable)
	if r := e.form("/auth/oauth/v2/token", url.Values{}); r.status != 503 {
		t.Fatalf("fault not applied: %d", r.status)
	}
	// The login pages and the control page stay outside the faults.
	e.fake.Faults.Down()
	if r := e.do("GET", "/_fake/faults", nil, "", ""); r.status != 200 || !strings.Contains(string(r.body), "Garanti BBVA") {
		t.Fatalf("control page: %d", r.status)
	}
	if r := e.do("GET", AuthorizePath+"?consentId=x", nil, "", ""); r.status != 400 || !strings.Contains(string(r.body), `id="error"`) {
		t.Fatalf("authorize while down: %d %s", r.status, r.body)
	}
	e.fake.Faults.Reset()
}

func TestConcurrentConsents(t *testing.T) {
	e := newEnv(t)
	const n = 16
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.create(consentJSON(nil))
			if r.status != 200 {
				t.Errorf("create: %d %s", r.status, r.body)
				return
			}
			var m struct {
				ConsentID string `json:"consentId"`
			}
			_ = json.Unmarshal(r.body, &m)
			ids <- m.ConsentID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if _, ok := e.fake.Consent(id); !ok || seen[id] {
			t.Fatalf("consent %s missing or repeated", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d consents", len(seen))
	}
}

// TestAddedRegistrationIsKnown: a registration given to a fresh fake (the
// product's stored client after a restart) works as one the fake made, and
// only with its own secret.
func TestAddedRegistrationIsKnown(t *testing.T) {
	e := newEnv(t)
	again := newEnv(t)
	again.fake.AddRegistration(Registration{ClientID: e.clientID, ClientSecret: e.secret, CompanyName: "Kasa A.Ş.", RedirectURIs: []string{redirectURI}})
	again.fake.AddRegistration(Registration{ClientID: "no-secret"})
	token := func(id, secret string) int {
		return again.form("/auth/oauth/v2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_secret": {secret}, "redirect_uri": {redirectURI}}).status
	}
	if s := token(e.clientID, e.secret); s != 200 {
		t.Fatalf("the added registration got %d", s)
	}
	if s := token(e.clientID, "wrong"); s != 401 {
		t.Fatalf("a wrong secret got %d", s)
	}
	if s := token("no-secret", ""); s == 200 {
		t.Fatal("a registration without a secret was accepted")
	}
	if regs := again.fake.Registrations(); len(regs) != 2 || regs[1].ClientID != e.clientID {
		t.Fatalf("registrations %+v", regs)
	}
}
