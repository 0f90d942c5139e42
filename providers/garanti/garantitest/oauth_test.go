package garantitest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLoginAndApprovalPages(t *testing.T) {
	e := newEnv(t)
	id, href := e.createOK(consentJSON(nil))
	page := e.do("GET", href+"&state=s-1", nil, "", "")
	for _, want := range []string{`id="login-form"`, `id="customer_no" name="customer_no"`, `id="password" name="password"`, `id="otp" name="otp"`, `id="login"`} {
		if !strings.Contains(string(page.body), want) {
			t.Fatalf("login page lacks %s", want)
		}
	}
	rid := requestID(t, page.body)
	login := func(no, pw, otp string) reply {
		return e.form(LoginPath, url.Values{"request_id": {rid}, "customer_no": {no}, "password": {pw}, "otp": {otp}})
	}
	for _, c := range []struct{ no, pw, otp, want string }{
		{SandboxCustomerNo, "wrong", SandboxOTP, "şifre veya tek kullanımlık kod hatalı"},
		{SandboxCustomerNo, SandboxPassword, "000000", "şifre veya tek kullanımlık kod hatalı"},
		{"", SandboxPassword, SandboxOTP, "Customer number cannot be empty"},
	} {
		r := login(c.no, c.pw, c.otp)
		if r.status != 200 || !strings.Contains(string(r.body), `id="error"`) || !strings.Contains(string(r.body), c.want) || strings.Contains(string(r.body), `id="approve"`) {
			t.Fatalf("bad login %q/%q: %d %s", c.pw, c.otp, r.status, r.body)
		}
	}
	// What the user typed comes back escaped.
	r := login(`<script>alert(1)</script>`, "x", "y")
	if strings.Contains(string(r.body), "<script>alert") || !strings.Contains(string(r.body), "&lt;script&gt;") {
		t.Fatalf("customer_no not escaped: %s", r.body)
	}
	r = login(SandboxCustomerNo, SandboxPassword, SandboxOTP)
	body := string(r.body)
	for _, want := range []string{`id="approve-form"`, `id="approve"`, `id="decline"`, `id="product-7001000101"`, "34 ABC 123", "06 YZ 9087",
		`id="authority-HgsTransactionInfo" name="authority" value="HgsTransactionInfo" checked`, "Ayşe Yılmaz"} {
		if !strings.Contains(body, want) {
			t.Fatalf("approval page lacks %s: %s", want, body)
		}
	}
	if strings.Contains(body, "7002000201") {
		t.Fatal("approval page shows another customer's tag")
	}
	// Approving with nothing chosen shows the page again.
	r = e.form(ApprovePath, url.Values{"request_id": {rid}, "action": {"approve"}, "authority": {AuthorityTransactionInfo}})
	if r.status != 200 || !strings.Contains(string(r.body), "En az bir araç") {
		t.Fatalf("empty approval: %d %s", r.status, r.body)
	}
	q := e.approve(rid, []string{"7001000101", "7002000201"}, []string{AuthorityProductInfo, AuthorityTransactionInfo})
	if q.Get("state") != "s-1" || len(q.Get("code")) != 32 {
		t.Fatalf("redirect query = %v", q)
	}
	st, _ := e.fake.Consent(id)
	if st.Status != "Y" || st.CustomerNo != SandboxCustomerNo || len(st.Grants) != 2 || st.Grants[0].ProductID != "7001000101" {
		t.Fatalf("consent after approval = %+v", st)
	}
	// The request is spent.
	if r := e.form(ApprovePath, url.Values{"request_id": {rid}, "action": {"approve"}}); r.status != 400 {
		t.Fatalf("second approval: %d", r.status)
	}
}

func TestDeclineAndLockout(t *testing.T) {
	e := newEnv(t)
	id, href := e.createOK(consentJSON(nil))
	rid, _ := e.login(href, url.Values{"state": {"s-2"}})
	r := e.form(ApprovePath, url.Values{"request_id": {rid}, "action": {"decline"}})
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != 303 || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s-2" || loc.Query().Get("code") != "" {
		t.Fatalf("decline: %d %s", r.status, r.header.Get("Location"))
	}
	if st, _ := e.fake.Consent(id); st.Status != "R" {
		t.Fatalf("declined consent status %s", st.Status)
	}
	// A rejected consent cannot be authorised again.
	if r := e.do("GET", href, nil, "", ""); r.status != 400 {
		t.Fatalf("authorize rejected consent: %d", r.status)
	}

	_, href = e.createOK(consentJSON(nil))
	rid = requestID(t, e.do("GET", href, nil, "", "").body)
	for i := 1; i <= maxLoginFailures; i++ {
		r = e.form(LoginPath, url.Values{"request_id": {rid}, "customer_no": {SandboxCustomerNo}, "password": {"bad"}, "otp": {"1"}})
	}
	if r.status != 403 {
		t.Fatalf("after %d failures: %d", maxLoginFailures, r.status)
	}
	r = e.form(LoginPath, url.Values{"request_id": {rid}, "customer_no": {SandboxCustomerNo}, "password": {SandboxPassword}, "otp": {SandboxOTP}})
	if r.status != 400 {
		t.Fatalf("login on a voided request: %d", r.status)
	}
}

func TestAuthorizeChecksTheLink(t *testing.T) {
	e := newEnv(t)
	_, href := e.createOK(consentJSON(nil))
	u, _ := url.Parse(href)
	mutate := func(k, v string) string {
		c := *u
		q := c.Query()
		q.Set(k, v)
		c.RawQuery = q.Encode()
		return c.String()
	}
	for _, bad := range []string{mutate("client_id", "someone"), mutate("redirect_uri", "https://evil.example/cb"), mutate("consentId", "nope")} {
		if r := e.do("GET", bad, nil, "", ""); r.status != 400 || r.header.Get("Location") != "" {
			t.Fatalf("%s: %d %s", bad, r.status, r.header.Get("Location"))
		}
	}
	r := e.do("GET", mutate("code_challenge_method", "plain")+"&code_challenge="+strings.Repeat("a", 43)+"&state=z", nil, "", "")
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != 303 || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "z" {
		t.Fatalf("plain PKCE: %d %s", r.status, r.header.Get("Location"))
	}
}

func TestAuthorizationCodeRules(t *testing.T) {
	e := newEnv(t)
	codeFor := func(extra url.Values) string {
		_, href := e.createOK(consentJSON(nil))
		rid, _ := e.login(href, extra)
		return e.approve(rid, sandboxProducts, []string{AuthorityTransactionInfo}).Get("code")
	}
	// Single use.
	code := codeFor(nil)
	if r := e.exchange(code, ""); r.status != 200 || r.json(t)["expires_in"] != "3600" {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	wantCode(t, e.exchange(code, ""), 400, "invalid_grant")

	// Ten minutes.
	code = codeFor(nil)
	e.clk.Advance(CodeLifetime)
	wantCode(t, e.exchange(code, ""), 400, "invalid_grant")
	code = codeFor(nil)
	e.clk.Advance(CodeLifetime - time.Second)
	if r := e.exchange(code, ""); r.status != 200 {
		t.Fatalf("exchange just in time: %d %s", r.status, r.body)
	}

	// Bound to redirect_uri and client; form bodies are accepted too.
	code = codeFor(nil)
	wantCode(t, e.form("/cards/service/gettoken/v0", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {e.clientID},
		"client_secret": {e.secret}, "redirect_uri": {redirectURI + "/x"}}), 400, "invalid_grant")
	code = codeFor(nil)
	wantCode(t, e.form("/cards/service/gettoken/v0", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {e.clientID},
		"client_secret": {"wrong"}, "redirect_uri": {redirectURI}}), 401, "invalid_client")
	if r := e.form("/cards/service/gettoken/v0", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {e.clientID},
		"client_secret": {e.secret}, "redirect_uri": {redirectURI}}); r.status != 200 {
		t.Fatalf("form exchange: %d %s", r.status, r.body)
	}

	// PKCE.
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	wantCode(t, e.exchange(codeFor(pkce), ""), 400, "invalid_grant")
	wantCode(t, e.exchange(codeFor(pkce), strings.Repeat("w", 50)), 400, "invalid_grant")
	if r := e.exchange(codeFor(pkce), verifier); r.status != 200 {
		t.Fatalf("PKCE exchange: %d %s", r.status, r.body)
	}
}

func TestRefreshRotationAndTokenExpiry(t *testing.T) {
	e := newEnv(t)
	id, access, refresh := e.active(consentJSON(nil))
	refreshWith := func(tok string) reply {
		return e.form("/cards/service/refreshtoken/v0", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok},
			"client_id": {e.clientID}, "client_secret": {e.secret}})
	}
	e.clk.Advance(time.Hour)
	wantCode(t, e.do("GET", ConsentsPath, e.dataHeaders(id, access), "", ""), 401, "")
	r := refreshWith(refresh)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["refresh_token"] == refresh || m["access_token"] == access {
		t.Fatal("refresh did not rotate")
	}
	wantCode(t, refreshWith(refresh), 400, "invalid_grant")
	if r := e.do("GET", ConsentsPath, e.dataHeaders(id, m["access_token"].(string)), "", ""); r.status != 200 {
		t.Fatalf("read with refreshed token: %d %s", r.status, r.body)
	}
	// The seed's sample sends the token as "code"; that works too.
	r = e.form("/cards/service/refreshtoken/v0", url.Values{"grant_type": {"refresh_token"}, "code": {m["refresh_token"].(string)},
		"client_id": {e.clientID}, "client_secret": {e.secret}})
	if r.status != 200 {
		t.Fatalf("refresh via code: %d %s", r.status, r.body)
	}
	// A token of one consent does not open another.
	other, _, _ := e.active(consentJSON(nil))
	wantCode(t, e.do("GET", ConsentsPath, e.dataHeaders(other, r.json(t)["access_token"].(string)), "", ""), 401, "")
}

func TestProductsActivates(t *testing.T) {
	e := newEnv(t)
	id, href := e.createOK(consentJSON(nil))
	rid, _ := e.login(href, nil)
	q := e.approve(rid, []string{"7001000102"}, []string{AuthorityProductInfo, AuthorityTransactionInfo})
	access := e.exchange(q.Get("code"), "").json(t)["access_token"].(string)
	if st, _ := e.fake.Consent(id); st.Status != "K" {
		t.Fatalf("after exchange: %s", st.Status)
	}
	// Data calls wait for activation.
	wantCode(t, e.do("GET", ConsentsPath, e.dataHeaders(id, access), "", ""), 400, "E031")
	r := e.do("POST", ConsentsPath+"products", e.dataHeaders(id, access), "", "")
	m := r.json(t)
	list := m["authorityConsentList"].([]any)
	if r.status != 200 || m["consentId"] != id || m["validationDate"] != "2025-12-01" || m["frequencyPerDay"].(float64) != 4 || len(list) != 2 ||
		list[0].(map[string]any)["productId"] != "7001000102" || list[0].(map[string]any)["authorityFLAG"] != true {
		t.Fatalf("products: %d %s", r.status, r.body)
	}
	if st, _ := e.fake.Consent(id); st.Status != "A" {
		t.Fatalf("after products: %s", st.Status)
	}
	if r := e.do("POST", ConsentsPath+"products", e.dataHeaders(id, access), "", ""); r.status != 200 {
		t.Fatalf("repeated products: %d", r.status)
	}
	e.do("POST", ConsentsPath+"delete", e.dataHeaders(id, access), "", "")
	wantCode(t, e.do("POST", ConsentsPath+"products", e.dataHeaders(id, access), "", ""), 400, "E033")
}

func TestConsentNotActivatedInTimeEnds(t *testing.T) {
	e := newEnv(t)
	id, href := e.createOK(consentJSON(nil))
	e.clk.Advance(ConsentCreationWindow)
	if r := e.do("GET", href, nil, "", ""); r.status != 400 {
		t.Fatalf("authorize after window: %d", r.status)
	}
	if st, _ := e.fake.Consent(id); st.Status != "S" {
		t.Fatalf("status %s", st.Status)
	}
}
