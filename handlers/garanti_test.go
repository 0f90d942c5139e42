package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kasa/consents"
	"kasa/eventually"
	"kasa/hgs"
	"kasa/i18n"
	"kasa/providers/garanti"
	"kasa/providers/garanti/garantitest"
	"kasa/sandbox"
	"kasa/store"
)

// registerGaranti registers the application through the setup page as an
// admin and returns that admin's client.
func registerGaranti(t *testing.T, e *testEnv) *http.Client {
	t.Helper()
	admin, _ := e.login(store.RoleAdmin)
	resp, _ := e.postForm(admin, "/consents/setup/register", url.Values{"company_name": {"Kasa A.Ş."}, "client_id_portal": {"portal-1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	return admin
}

// consentForm is a valid consent form as of now.
func consentForm(freq int) url.Values {
	today := i18n.Today(time.Now())
	return url.Values{
		"recurring": {"true"}, "validation_date": {today.AddDate(0, 0, 60).Format("2006-01-02")}, "frequency": {strconv.Itoa(freq)},
		"tran_begin": {today.AddDate(-1, 0, 0).Format("2006-01-02")}, "tran_end": {today.Format("2006-01-02")},
		"authority": {garanti.AuthorityProductInfo, garanti.AuthorityTransactionInfo},
	}
}

// startConsent posts the consent form and returns the bank link it
// redirects to.
func startConsent(t *testing.T, e *testEnv, c *http.Client, form url.Values) string {
	t.Helper()
	resp, doc := e.postForm(c, "/consents", form, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create consent: %d %s %s", resp.StatusCode, testID(doc, "consent-error"), doc.Find(".error").Text())
	}
	loc, _ := location(resp)
	if !strings.HasPrefix(loc, e.sandbox.GarantiURL+garantitest.AuthorizePath) {
		t.Fatalf("create consent sent the browser to %s", loc)
	}
	return loc
}

var requestIDField = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

// atBank is the customer at the fake bank: it opens the link, logs in,
// presses approve or decline, and returns the redirect back to the product.
func atBank(t *testing.T, e *testEnv, href, action string) *url.URL {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	read := func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer closeOrFail(t, resp.Body)
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, page := read(hc.Get(href))
	m := requestIDField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no login form at the bank: %s", page)
	}
	read(hc.PostForm(e.sandbox.GarantiURL+garantitest.LoginPath, url.Values{"request_id": {m[1]},
		"customer_no": {garantitest.SandboxCustomerNo}, "password": {garantitest.SandboxPassword}, "otp": {garantitest.SandboxOTP}}))
	v := url.Values{"request_id": {m[1]}, "action": {action}, "authority": {garanti.AuthorityProductInfo, garanti.AuthorityTransactionInfo}}
	for _, p := range e.sandbox.Garanti.Products(garantitest.SandboxCustomerNo) {
		v.Add("product", p.ProductID)
	}
	resp, _ := read(hc.PostForm(e.sandbox.GarantiURL+garantitest.ApprovePath, v))
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), e.srv.URL+"/oauth/garanti/callback?") {
		t.Fatalf("bank answered %d, redirect %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc
}

// back follows the bank's redirect to the product's callback.
func back(e *testEnv, c *http.Client, loc *url.URL) *http.Response {
	resp, _ := e.get(c, loc.RequestURI(), "Accept-Language", "en")
	return resp
}

// onlyConsent returns the single consent stored.
func onlyConsent(t *testing.T, e *testEnv) consents.Consent {
	t.Helper()
	cs, err := e.h.app.Consents.Consents(context.Background())
	if err != nil || len(cs) == 0 {
		t.Fatalf("consents: %v %v", cs, err)
	}
	return cs[0]
}

func TestConsentFlowActivatesAndSyncs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	href := startConsent(t, e, admin, consentForm(10))
	q, _ := url.Parse(href)
	if q.Query().Get("code_challenge") == "" || q.Query().Get("state") == "" || q.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("bank link without state or PKCE: %s", href)
	}
	c := onlyConsent(t, e)
	if c.Status != consents.Awaiting || c.RawStatus != "B" || c.FrequencyPerDay != 10 {
		t.Fatalf("stored consent = %+v", c)
	}

	resp := back(e, admin, atBank(t, e, href, "approve"))
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || l != "/consents/"+strconv.FormatInt(c.ID, 10) {
		t.Fatalf("callback: %d → %q", resp.StatusCode, l)
	}
	resp, doc := e.get(admin, "/consents/"+strconv.FormatInt(c.ID, 10), "Accept-Language", "en")
	if resp.StatusCode != http.StatusOK || !strings.Contains(testID(doc, "flash-success"), "approved and is active") {
		t.Fatalf("consent page: %d, flash %q", resp.StatusCode, testID(doc, "flash-success"))
	}
	if got := doc.Find(`[data-testid=consent-status]`).AttrOr("data-status", ""); got != "active" || testID(doc, "consent-raw-status") != "(A)" {
		t.Fatalf("status %q raw %q", got, testID(doc, "consent-raw-status"))
	}
	if n := doc.Find(`[data-testid=consent-product]`).Length(); n != 6 {
		t.Fatalf("%d product rows, want 3 tags × 2 authorities", n)
	}
	tok, err := e.h.app.Consents.Tokens(context.Background(), c.ID)
	if err != nil || tok.Access == "" || tok.Refresh == "" || tok.Expiry.IsZero() {
		t.Fatalf("tokens = %+v, %v", tok, err)
	}
	var raw []byte
	noErr(t, e.st.DB().QueryRow(`SELECT access_enc FROM garanti_tokens WHERE consent_id = $1`, c.ID).Scan(&raw))
	if strings.Contains(string(raw), tok.Access) {
		t.Fatal("access token stored in clear text")
	}
	if st, _ := e.sandbox.Garanti.Consent(c.ConsentID); st.Status != "A" {
		t.Fatalf("bank status %q", st.Status)
	}

	// The first sync runs in the background: one call per tag.
	waitSynced(t, e, 3)
	if used, _ := e.h.app.Consents.Usage(context.Background(), c.ID, time.Now()); used != 3 {
		t.Fatalf("usage %d, want 3", used)
	}
	if st, _ := e.sandbox.Garanti.Consent(c.ConsentID); st.UsageToday != 3 {
		t.Fatalf("bank counted %d calls", st.UsageToday)
	}
}

// waitSynced waits until n tags have synced.
func waitSynced(t *testing.T, e *testEnv, n int) []hgs.Vehicle {
	t.Helper()
	var vs []hgs.Vehicle
	eventually.That(t, fmt.Sprintf("%d tags synced", n), func() error {
		var err error
		if vs, err = e.h.app.HGS.Vehicles(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, v := range vs {
			if v.LastSyncedAt != nil || v.LastErrorCode != "" {
				done++
			}
		}
		if done < n {
			return fmt.Errorf("%d of %d tags synced: %+v", done, n, vs)
		}
		return nil
	})
	return vs
}

func TestCallbackRefusesBadStates(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	other, _ := e.login(store.RoleOperator)

	href := startConsent(t, e, admin, consentForm(5))
	loc := atBank(t, e, href, "approve")

	withState := func(state string) *url.URL {
		u := *loc
		q := u.Query()
		if state == "" {
			q.Del("state")
		} else {
			q.Set("state", state)
		}
		u.RawQuery = q.Encode()
		return &u
	}
	cases := []struct {
		name   string
		client *http.Client
		loc    *url.URL
		status int
		want   string
	}{
		{"missing state", admin, withState(""), 400, "no security code"},
		{"forged state", admin, withState(garanti.NewState()), 400, "is unknown"},
		{"another session's state", other, loc, 403, "started in another session"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, doc := e.get(tc.client, tc.loc.RequestURI(), "Accept-Language", "en")
			if resp.StatusCode != tc.status || !strings.Contains(testID(doc, "error-message"), tc.want) {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, testID(doc, "error-message"), tc.status, tc.want)
			}
			// Nothing changed: the consent still awaits, no tokens, the code unspent.
			c := onlyConsent(t, e)
			if c.Status != consents.Awaiting || c.HasTokens {
				t.Fatalf("consent changed: %+v", c)
			}
		})
	}
	// The rightful session still completes with the same state and code.
	if resp := back(e, admin, loc); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rightful callback: %d", resp.StatusCode)
	}
	if c := onlyConsent(t, e); c.Status != consents.Active || !c.HasTokens {
		t.Fatalf("after the rightful callback: %+v", c)
	}
	// Replayed: the same redirect again is refused.
	resp, doc := e.get(admin, loc.RequestURI(), "Accept-Language", "tr")
	if resp.StatusCode != 400 || !strings.Contains(testID(doc, "error-message"), "zaten kullanıldı") {
		t.Fatalf("replayed state: %d %q", resp.StatusCode, testID(doc, "error-message"))
	}
}

func TestCallbackRefusesExpiredState(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	loc := atBank(t, e, startConsent(t, e, admin, consentForm(5)), "approve")
	e.now.Advance(10*time.Minute + time.Second)
	resp, doc := e.get(admin, loc.RequestURI(), "Accept-Language", "en")
	if resp.StatusCode != 400 || !strings.Contains(testID(doc, "error-message"), "more than 10 minutes") {
		t.Fatalf("expired state: %d %q", resp.StatusCode, testID(doc, "error-message"))
	}
	if c := onlyConsent(t, e); c.Status != consents.Awaiting || c.HasTokens {
		t.Fatalf("consent changed: %+v", c)
	}
}

func TestCallbackAccessDenied(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	loc := atBank(t, e, startConsent(t, e, admin, consentForm(5)), "decline")
	if loc.Query().Get("error") != "access_denied" {
		t.Fatalf("decline came back as %s", loc)
	}
	resp := back(e, admin, loc)
	c := onlyConsent(t, e)
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || l != "/consents/"+strconv.FormatInt(c.ID, 10) {
		t.Fatalf("callback: %d %q", resp.StatusCode, l)
	}
	if c.Status != consents.Rejected || c.RawStatus != "R" || c.LastErrorCode != "access_denied" || c.HasTokens {
		t.Fatalf("declined consent = %+v", c)
	}
	_, doc := e.get(admin, "/consents/"+strconv.FormatInt(c.ID, 10), "Accept-Language", "en")
	if got := testID(doc, "flash-error"); !strings.Contains(got, "declined the consent") {
		t.Fatalf("flash %q", got)
	}
	if doc.Find(`[data-testid=consent-renew]`).Length() != 1 {
		t.Fatal("no way to try again")
	}
}

func TestCallbackReplayedCode(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	first := atBank(t, e, startConsent(t, e, admin, consentForm(5)), "approve")
	if resp := back(e, admin, first); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	// A second consent, whose genuine state is paired with the first code.
	second := atBank(t, e, startConsent(t, e, admin, consentForm(5)), "approve")
	q := second.Query()
	q.Set("code", first.Query().Get("code"))
	second.RawQuery = q.Encode()
	resp := back(e, admin, second)
	newest := onlyConsent(t, e)
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || l != "/consents/"+strconv.FormatInt(newest.ID, 10) {
		t.Fatalf("callback with a replayed code: %d %q", resp.StatusCode, l)
	}
	if newest.LastErrorCode != "invalid_grant" || newest.HasTokens || newest.Status == consents.Active {
		t.Fatalf("consent after a replayed code: %+v", newest)
	}
	_, doc := e.get(admin, "/consents/"+strconv.FormatInt(newest.ID, 10), "Accept-Language", "en")
	if got := testID(doc, "consent-last-error"); !strings.Contains(got, "already used") {
		t.Fatalf("explanation %q", got)
	}
}

func TestRenewKeepsOldConsentUntilApproved(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, old := activeConsent(t, e, 10)
	oldPath := "/consents/" + strconv.FormatInt(old.ID, 10)

	// The renewal form proposes the old consent's settings.
	_, doc := e.get(admin, "/consents/new?renew="+strconv.FormatInt(old.ID, 10), "Accept-Language", "en")
	if doc.Find(`input[name=renews]`).AttrOr("value", "") != strconv.FormatInt(old.ID, 10) || doc.Find("#f-frequency").AttrOr("value", "") != "10" {
		t.Fatal("renewal form does not carry the old consent")
	}
	form := consentForm(10)
	form.Set("renews", strconv.FormatInt(old.ID, 10))
	form.Set("validation_date", i18n.Today(time.Now()).AddDate(0, 0, 10).Format("2006-01-02"))
	loc := atBank(t, e, startConsent(t, e, admin, form), "approve")
	if c, _ := e.h.app.Consents.Consent(context.Background(), old.ID); !c.Usable() {
		t.Fatalf("old consent unusable before the renewal is approved: %+v", c)
	}
	back(e, admin, loc)
	renewed := onlyConsent(t, e)
	if renewed.ID == old.ID || renewed.Status != consents.Active || renewed.RenewsID == nil || *renewed.RenewsID != old.ID {
		t.Fatalf("renewal = %+v", renewed)
	}
	c, _ := e.h.app.Consents.Consent(context.Background(), old.ID)
	if c.SupersededBy == nil || *c.SupersededBy != renewed.ID || c.Usable() {
		t.Fatalf("old consent after renewal = %+v", c)
	}
	vs, _ := e.h.app.HGS.Vehicles(context.Background(), renewed.ID)
	if len(vs) != 3 {
		t.Fatalf("%d tags moved to the renewal", len(vs))
	}
	_, doc = e.get(admin, oldPath, "Accept-Language", "en")
	if testID(doc, "consent-status") != "Replaced by a renewal" || testID(doc, "superseded-by") == "" {
		t.Fatalf("old consent shows %q", testID(doc, "consent-status"))
	}
	// Ten days left: a warning.
	_, doc = e.get(admin, "/consents/"+strconv.FormatInt(renewed.ID, 10), "Accept-Language", "en")
	if got := testID(doc, "expiry-warning"); got != "10 days left" {
		t.Fatalf("expiry warning %q", got)
	}
	var raw string
	noErr(t, e.st.DB().QueryRow(`SELECT raw->>'productId' FROM hgs_transactions LIMIT 1`).Scan(&raw))
	if raw == "" {
		t.Fatal("the bank's raw row was not kept")
	}
}

// TestSandboxBankKeepsTheRegistrationAcrossARestart: as the real bank
// does, the sandbox's bank still knows the application after the product
// (and so the fake) restarted: a consent is created with the stored client,
// without registering again.
func TestSandboxBankKeepsTheRegistrationAcrossARestart(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	before, _ := e.st.Settings(context.Background())
	restarted, err := sandbox.Start(context.Background(), e.st, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := restarted.Close(); err != nil {
			t.Error(err)
		}
	})
	e.sandbox = restarted
	startConsent(t, e, admin, consentForm(5))
	regs := e.sandbox.Garanti.Registrations()
	s, _ := e.st.Settings(context.Background())
	if len(regs) != 1 || regs[0].ClientID != before["garanti.client_id"] || s["garanti.client_id"] != before["garanti.client_id"] {
		t.Fatalf("registrations %+v, stored client %q, before %q", regs, s["garanti.client_id"], before["garanti.client_id"])
	}
}

// TestRefusedCredentialsSendTheAdminToSetup: when the bank refuses the
// stored client, an admin sees why and the way to the setup page; nothing
// registers the application again behind the admin's back (that would end
// the consents given to the old client).
func TestRefusedCredentialsSendTheAdminToSetup(t *testing.T) {
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	if err := e.st.PutSettings(context.Background(), 0, map[string]string{"garanti.client_id": "forgotten", "garanti.client_secret": "x"}); err != nil {
		t.Fatal(err)
	}
	resp, doc := e.postForm(admin, "/consents", consentForm(5), "Accept-Language", "en")
	if resp.StatusCode != http.StatusBadGateway || testID(doc, "consent-error") == "" ||
		doc.Find(`a[href="/consents/setup"]`).Length() == 0 || doc.Find("#f-frequency").AttrOr("value", "") != "5" {
		t.Fatalf("admin: %d %q", resp.StatusCode, testID(doc, "consent-error"))
	}
	s, _ := e.st.Settings(context.Background())
	if n := len(e.sandbox.Garanti.Registrations()); n != 1 || s["garanti.client_id"] != "forgotten" {
		t.Fatalf("registered again: %d registrations, client %q", n, s["garanti.client_id"])
	}
}
