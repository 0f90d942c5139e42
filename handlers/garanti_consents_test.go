package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kasa/consents"
	"kasa/eventually"
	"kasa/i18n"
	"kasa/providers/garanti"
	"kasa/providers/garanti/garantitest"
	"kasa/store"
)

func TestRevokePendingConsentCancelsIt(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	href := startConsent(t, e, admin, consentForm(5))
	c := onlyConsent(t, e)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)

	// Only the whole of a consent awaiting approval can be withdrawn.
	resp, doc := e.postForm(admin, path+"/revoke", url.Values{"mode": {"authority"}, "authority": {garanti.AuthorityProductInfo},
		"confirm": {"yes"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(doc, "mode"), "only be cancelled as a whole") {
		t.Fatalf("partial revoke of a pending consent: %d %q", resp.StatusCode, fieldError(doc, "mode"))
	}
	resp, _ = e.postForm(admin, path+"/revoke", url.Values{"mode": {"all"}, "confirm": {"yes"}}, "Accept-Language", "en")
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || l != path {
		t.Fatalf("revoke: %d %q", resp.StatusCode, l)
	}
	got, _ := e.h.app.Consents.Consent(context.Background(), c.ID)
	if got.Status != consents.Revoked || got.NeedsReauth || got.ReauthReason != "" || !got.CancelledLocally() {
		t.Fatalf("cancelled consent = %+v", got)
	}
	_, doc = e.get(admin, path, "Accept-Language", "en")
	if !strings.Contains(testID(doc, "flash-success"), "awaiting approval was cancelled") || testID(doc, "consent-cancelled") == "" ||
		testID(doc, "reauth") != "" || doc.Find(`[data-testid=consent-status]`).AttrOr("data-status", "") != "revoked" {
		t.Fatalf("consent page: flash %q, note %q, reauth %q", testID(doc, "flash-success"), testID(doc, "consent-cancelled"), testID(doc, "reauth"))
	}
	// The customer approves at the bank anyway: the return is refused and
	// changes nothing.
	resp, _ = e.get(admin, atBank(t, e, href, "approve").RequestURI(), "Accept-Language", "en")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback after cancel: %d", resp.StatusCode)
	}
	if got, _ := e.h.app.Consents.Consent(context.Background(), c.ID); got.Status != consents.Revoked || got.HasTokens {
		t.Fatalf("consent after a late callback = %+v", got)
	}
}

func TestRevokeModesThroughTheOutbox(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	vs, _ := e.h.app.HGS.Vehicles(ctx, c.ID)
	revoke := func(form url.Values) {
		t.Helper()
		form.Set("confirm", "yes")
		if resp, _ := e.postForm(admin, path+"/revoke", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke %v: %d", form, resp.StatusCode)
		}
	}
	grant := func(product, authority string) consents.Product {
		ps, _ := e.h.app.Consents.Products(ctx, c.ID)
		for _, p := range ps {
			if p.ProductID == product && p.AuthorityID == authority {
				return p
			}
		}
		t.Fatalf("no grant %s/%s", product, authority)
		return consents.Product{}
	}
	bankGrant := func(product, authority string) garantitest.GrantState {
		st, _ := e.sandbox.Garanti.Consent(c.ConsentID)
		for _, g := range st.Grants {
			if g.ProductID == product && g.AuthorityID == authority {
				return g
			}
		}
		t.Fatalf("no bank grant %s/%s", product, authority)
		return garantitest.GrantState{}
	}

	// Both: one authority of one vehicle.
	revoke(url.Values{"mode": {"both"}, "authority": {garanti.AuthorityProductInfo}, "product": {vs[0].ProductID}})
	if grant(vs[0].ProductID, garanti.AuthorityProductInfo).Live() || !grant(vs[0].ProductID, garanti.AuthorityTransactionInfo).Live() ||
		!grant(vs[1].ProductID, garanti.AuthorityProductInfo).Live() || bankGrant(vs[0].ProductID, garanti.AuthorityProductInfo).Flag {
		t.Fatal("both: the wrong grants changed")
	}
	// Authority: that authority for every vehicle.
	revoke(url.Values{"mode": {"authority"}, "authority": {garanti.AuthorityProductInfo}})
	for _, v := range vs {
		if grant(v.ProductID, garanti.AuthorityProductInfo).Live() || !grant(v.ProductID, garanti.AuthorityTransactionInfo).Live() ||
			bankGrant(v.ProductID, garanti.AuthorityProductInfo).Flag {
			t.Fatalf("authority: grants of %s", v.ProductID)
		}
	}
	_, doc := e.get(admin, path, "Accept-Language", "en")
	if n := doc.Find(`[data-testid=revocation][data-state=done]`).Length(); n != 2 {
		t.Fatalf("%d withdrawals shown done", n)
	}
	// All: the whole consent.
	revoke(url.Values{"mode": {"all"}})
	got, _ := e.h.app.Consents.Consent(ctx, c.ID)
	if st, _ := e.sandbox.Garanti.Consent(c.ConsentID); got.Status != consents.Revoked || got.RevokedAt == nil || st.Status != "I" {
		t.Fatalf("all: consent %+v, bank %q", got, st.Status)
	}
	revs, _ := e.h.app.Consents.Revocations(ctx, c.ID)
	if len(revs) != 3 || revs[0].Mode != "all" || revs[0].State != consents.RevocationDone || revs[0].RawStatus != "I" {
		t.Fatalf("withdrawals = %+v", revs)
	}
}

func TestRevokeWhileTheBankIsDownStaysPendingAndIsDelivered(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	vs, _ := e.h.app.HGS.Vehicles(ctx, c.ID)
	e.sandbox.Garanti.Faults.Down()
	resp, _ := e.postForm(admin, path+"/revoke", url.Values{"mode": {"product"}, "product": {vs[2].ProductID}, "confirm": {"yes"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	_, doc := e.get(admin, path, "Accept-Language", "en")
	row := doc.Find(`[data-testid=revocation]`).First()
	if !strings.Contains(testID(doc, "flash-info"), "keeps trying") || row.AttrOr("data-state", "") != "pending" ||
		!strings.Contains(row.Text(), "cannot be reached") {
		t.Fatalf("while down: flash %q, row %q %q", testID(doc, "flash-info"), row.AttrOr("data-state", ""), row.Text())
	}
	e.sandbox.Garanti.Faults.Reset()
	eventually.That(t, "the withdrawal to be delivered", func() error {
		revs, err := e.h.app.Consents.Revocations(ctx, c.ID)
		if err != nil || len(revs) != 1 || revs[0].State != consents.RevocationDone {
			return fmt.Errorf("revocations %+v, %v", revs, err)
		}
		return nil
	})
	st, _ := e.sandbox.Garanti.Consent(c.ConsentID)
	for _, g := range st.Grants {
		if g.Revoked != (g.ProductID == vs[2].ProductID) {
			t.Fatalf("bank grants: %+v", st.Grants)
		}
	}
}

func TestReauthFlagFollowsTheBanksRefusal(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	g, hg := e.h.app.Consents, e.h.app.HGS
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	s, _ := e.st.Settings(ctx)
	secret := s["garanti.client_secret"]
	expire := func() {
		t.Helper()
		tok, _ := e.h.app.Consents.Tokens(ctx, c.ID)
		tok.Expiry = time.Now().Add(-time.Minute)
		if err := e.h.app.Consents.SaveTokens(ctx, c.ID, tok); err != nil {
			t.Fatal(err)
		}
	}
	client := func() *garanti.Client {
		cl, _, err := e.conn.Garanti(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	// The application's secret is wrong: the consent is not flagged; its
	// page tells the admin to fix the setup.
	noErr(t, e.st.PutSettings(ctx, 0, map[string]string{"garanti.client_secret": "wrong"}))
	expire()
	c, _ = e.h.app.Consents.Consent(ctx, c.ID)
	if _, err := g.AccessToken(ctx, client(), c, "", time.Minute); err == nil {
		t.Fatal("refresh with a wrong secret worked")
	}
	_, doc := e.get(admin, path, "Accept-Language", "en")
	if c, _ = e.h.app.Consents.Consent(ctx, c.ID); c.NeedsReauth || testID(doc, "reauth") != "" ||
		doc.Find(`[data-testid=consent-last-error]`).AttrOr("data-code", "") != "invalid_client" ||
		doc.Find(`[data-testid=consent-setup-link]`).AttrOr("href", "") != "/consents/setup" {
		t.Fatalf("after invalid_client: %+v, error %q", c, testID(doc, "consent-last-error"))
	}
	// Fixed: the next refresh works, the error goes, the sync calls again.
	noErr(t, e.st.PutSettings(ctx, 0, map[string]string{"garanti.client_secret": secret}))
	// A consent flagged by an older version (or any cause) is cleared by a
	// refresh that works.
	noErr(t, e.h.app.Consents.MarkReauth(ctx, c.ID, "unavailable"))
	c, _ = e.h.app.Consents.Consent(ctx, c.ID)
	if _, err := g.AccessToken(ctx, client(), c, "", time.Minute); err != nil {
		t.Fatalf("refresh with the right secret: %v", err)
	}
	if c, _ = e.h.app.Consents.Consent(ctx, c.ID); c.NeedsReauth || c.LastErrorCode != "" || !c.Usable() {
		t.Fatalf("after a working refresh: %+v", c)
	}
	res, err := hg.Sync(ctx, c.ID, true)
	if err != nil || res.Calls == 0 {
		t.Fatalf("sync after the fix: %+v %v", res, err)
	}
	// The bank refuses the refresh token itself: now the customer must approve again.
	tok, _ := e.h.app.Consents.Tokens(ctx, c.ID)
	tok.Refresh, tok.Expiry = "revoked-at-the-bank", time.Now().Add(-time.Minute)
	noErr(t, e.h.app.Consents.SaveTokens(ctx, c.ID, tok))
	if _, err := g.AccessToken(ctx, client(), c, "", time.Minute); err == nil {
		t.Fatal("refused refresh token worked")
	}
	_, doc = e.get(admin, path, "Accept-Language", "en")
	if c, _ = e.h.app.Consents.Consent(ctx, c.ID); !c.NeedsReauth || c.ReauthReason != "invalid_grant" || testID(doc, "reauth-renew") == "" {
		t.Fatalf("after invalid_grant: %+v", c)
	}
}

func TestRegisterAgainNeedsConfirmation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	_, doc := e.get(admin, "/consents/setup", "Accept-Language", "en")
	regs := e.sandbox.Garanti.Registrations()
	if testID(doc, "client-id") != regs[0].ClientID || testID(doc, "registered-at") == "" ||
		testID(doc, "registered-uri") != e.srv.URL+"/oauth/garanti/callback" || !strings.Contains(testID(doc, "reregister-warning"), "stops working") ||
		doc.Find(`[data-testid=reregister]`).AttrOr("open", "none") != "none" {
		t.Fatalf("setup page after registering: id %q, at %q, uri %q", testID(doc, "client-id"), testID(doc, "registered-at"), testID(doc, "registered-uri"))
	}
	resp, doc := e.postForm(admin, "/consents/setup/register", url.Values{"company_name": {"Kasa A.Ş."}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(doc, "confirm_reregister"), "confirm that the existing consents") ||
		doc.Find(`[data-testid=reregister]`).AttrOr("open", "none") == "none" {
		t.Fatalf("register again unconfirmed: %d %q", resp.StatusCode, fieldError(doc, "confirm_reregister"))
	}
	if n := len(e.sandbox.Garanti.Registrations()); n != 1 {
		t.Fatalf("%d registrations after an unconfirmed attempt", n)
	}
	resp, _ = e.postForm(admin, "/consents/setup/register", url.Values{"company_name": {"Kasa A.Ş."}, "confirm_reregister": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther || len(e.sandbox.Garanti.Registrations()) != 2 {
		t.Fatalf("confirmed: %d, %d registrations", resp.StatusCode, len(e.sandbox.Garanti.Registrations()))
	}
}

func TestOperatorCannotCauseSandboxReregistration(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	registerGaranti(t, e)
	operator, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	if err := e.st.PutSettings(ctx, 0, map[string]string{"garanti.client_id": "forgotten", "garanti.client_secret": "x"}); err != nil {
		t.Fatal(err)
	}
	resp, doc := e.postForm(operator, "/consents", consentForm(5), "Accept-Language", "en")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(testID(doc, "consent-error"), "Ask an administrator") ||
		doc.Find("#f-frequency").AttrOr("value", "") != "5" {
		t.Fatalf("operator: %d %q", resp.StatusCode, testID(doc, "consent-error"))
	}
	s, _ := e.st.Settings(ctx)
	if len(e.sandbox.Garanti.Registrations()) != 1 || s["garanti.client_id"] != "forgotten" {
		t.Fatalf("an operator re-registered: %d registrations, client %q", len(e.sandbox.Garanti.Registrations()), s["garanti.client_id"])
	}
}

func TestTamperedRenewsIsRefusedBeforeTheBank(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, old := activeConsent(t, e, 10)
	consentsAtBank := func() int {
		var n int
		noErr(t, e.st.DB().Get(&n, `SELECT count(*) FROM api_calls WHERE operation = 'create_consent'`))
		return n
	}
	before := consentsAtBank()
	for _, renews := range []string{"999999", "abc", "-1"} {
		form := consentForm(7)
		form.Set("renews", renews)
		resp, doc := e.postForm(admin, "/consents", form, "Accept-Language", "en")
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(doc, "renews"), "does not exist or was already renewed") ||
			doc.Find("#f-frequency").AttrOr("value", "") != "7" || doc.Find(`input[name=renews]`).Length() != 0 {
			t.Fatalf("renews=%s: %d %q", renews, resp.StatusCode, fieldError(doc, "renews"))
		}
	}
	// A consent already renewed cannot be renewed again.
	form := consentForm(10)
	form.Set("renews", strconv.FormatInt(old.ID, 10))
	back(e, admin, atBank(t, e, startConsent(t, e, admin, form), "approve"))
	resp, doc := e.postForm(admin, "/consents", form, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "renews") == "" {
		t.Fatalf("renewing a renewed consent: %d", resp.StatusCode)
	}
	if n := consentsAtBank(); n != before+1 {
		t.Fatalf("%d consents created at the bank, want only the genuine renewal", n-before)
	}
}

func TestBankLinkElsewhereLeavesAClearConsent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	fake, _ := url.Parse(e.sandbox.GarantiURL)
	for i, base := range []string{"http://evil.example.com", "https://" + fake.Host} {
		e.sandbox.Garanti.SetApprovalLinkBase(base)
		resp, doc := e.postForm(admin, "/consents", consentForm(6), "Accept-Language", "en")
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(testID(doc, "consent-error"), "unexpected host") ||
			doc.Find("#f-frequency").AttrOr("value", "") != "6" {
			t.Fatalf("%s: %d %q", base, resp.StatusCode, testID(doc, "consent-error"))
		}
		cs, _ := e.h.app.Consents.Consents(context.Background())
		if len(cs) != i+1 || cs[0].Status != consents.Revoked || cs[0].LastErrorCode != "badlink" || !cs[0].CancelledLocally() {
			t.Fatalf("consent after a refused link: %+v", cs)
		}
	}
}

func TestBankLinkAllowed(t *testing.T) {
	t.Parallel()
	u := func(s string) *url.URL { v, _ := url.Parse(s); return v }
	prod := u("https://apis.garantibbva.com.tr:443")
	local := u("http://127.0.0.1:8081")
	cases := []struct {
		base *url.URL
		link string
		want bool
	}{
		{prod, "https://apis.garantibbva.com.tr/oauth/authorize?x=1", true},
		{prod, "https://apis.garantibbva.com.tr:443/oauth/authorize", true},
		{prod, "https://APIS.garantibbva.com.tr/oauth/authorize", true},
		{prod, "http://apis.garantibbva.com.tr/oauth/authorize", false},     // downgrade
		{prod, "http://apis.garantibbva.com.tr:443/oauth/authorize", false}, // downgrade
		{prod, "https://apis.garantibbva.com.tr:8443/oauth/authorize", false},
		{prod, "https://apis.garantibbva.com.tr.evil.com/oauth", false},
		{prod, "https://user@apis.garantibbva.com.tr/oauth", false},
		{prod, "javascript:alert(1)", false},
		{prod, "/oauth/authorize", false},
		{local, "http://127.0.0.1:8081/oauth/authorize", true},
		{local, "http://127.0.0.1:8082/oauth/authorize", false},
		{local, "http://127.0.0.1/oauth/authorize", false},
		{u("https://gbcadt02.fw.garanti.com.tr:8443"), "https://gbcadt02.fw.garanti.com.tr:8443/x", true},
		{u("https://gbcadt02.fw.garanti.com.tr:8443"), "https://gbcadt02.fw.garanti.com.tr/x", false},
	}
	for _, c := range cases {
		if got := bankLinkAllowed(c.base, u(c.link)); got != c.want {
			t.Errorf("base %s, link %s: %v, want %v", c.base, c.link, got, c.want)
		}
	}
	if bankLinkAllowed(prod, nil) || bankLinkAllowed(nil, u("https://apis.garantibbva.com.tr")) {
		t.Error("a nil URL was allowed")
	}
}

func TestExpiredConsentIsShownExpiredNotAsErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	// The validation date was yesterday (Istanbul) and the status job has
	// not run yet: a sync makes no call and marks the consent expired.
	yesterday := i18n.Today(time.Now()).AddDate(0, 0, -1).Format("2006-01-02")
	if _, err := e.st.DB().Exec(`UPDATE garanti_consents SET validation_date = $2 WHERE id = $1`, c.ID, yesterday); err != nil {
		t.Fatal(err)
	}
	var calls int
	noErr(t, e.st.DB().Get(&calls, `SELECT count(*) FROM api_calls WHERE operation = 'hgs_transactions'`))
	res, err := e.h.app.HGS.Sync(ctx, c.ID, true)
	if err != nil || res.Calls != 0 {
		t.Fatalf("sync of an expired consent: %+v %v", res, err)
	}
	var after int
	noErr(t, e.st.DB().Get(&after, `SELECT count(*) FROM api_calls WHERE operation = 'hgs_transactions'`))
	got, _ := e.h.app.Consents.Consent(ctx, c.ID)
	if after != calls || got.Status != consents.Expired || got.NeedsReauth || got.LastErrorCode != "" {
		t.Fatalf("consent %+v, %d calls", got, after-calls)
	}
	_, doc := e.get(admin, path, "Accept-Language", "en")
	if doc.Find(`[data-testid=consent-status]`).AttrOr("data-status", "") != "expired" || testID(doc, "consent-last-error") != "" {
		t.Fatalf("consent page shows %q", testID(doc, "consent-status"))
	}
	_, doc = e.get(admin, "/hgs", "Accept-Language", "en")
	if n := doc.Find(`[data-testid=hgs-vehicle-error]`).Length(); n != 0 || testID(doc, "hgs-no-consent") == "" {
		t.Fatalf("hgs page: %d card errors", n)
	}
}

func TestConsentStatusJobMarksExpiry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, c := activeConsent(t, e, 10)
	ctx := context.Background()
	yesterday := i18n.Today(time.Now()).AddDate(0, 0, -1).Format("2006-01-02")
	if _, err := e.st.DB().Exec(`UPDATE garanti_consents SET validation_date = $2 WHERE id = $1`, c.ID, yesterday); err != nil {
		t.Fatal(err)
	}
	if err := runJob(ctx, e, consents.StatusArgs{}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.h.app.Consents.Consent(ctx, c.ID)
	if got.Status != consents.Expired || got.RawStatus != "A" || got.StatusCheckedAt == nil {
		t.Fatalf("after the status job: %+v", got)
	}
}

func TestAuthorityBadgeFollowsAnAuthorityOnlyRevoke(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	if resp, _ := e.postForm(admin, path+"/refresh", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status refresh: %d", resp.StatusCode)
	}
	badge := `[data-testid="authority-status-` + garanti.AuthorityProductInfo + `"]`
	_, doc := e.get(admin, path, "Accept-Language", "en")
	if got := strings.TrimSpace(doc.Find(badge).Text()); got != "Active (A)" {
		t.Fatalf("authority badge before the revoke %q", got)
	}
	if resp, _ := e.postForm(admin, path+"/revoke", url.Values{"mode": {"authority"}, "authority": {garanti.AuthorityProductInfo},
		"confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	// Without a status refresh, the withdrawn authority reads as revoked;
	// the other one is still in force.
	_, doc = e.get(admin, path, "Accept-Language", "en")
	if got := doc.Find(badge); got.AttrOr("data-status", "") != consents.Revoked || strings.Contains(got.Text(), "Active") {
		t.Fatalf("authority badge after the revoke %q", got.Text())
	}
	other := `[data-testid="authority-status-` + garanti.AuthorityTransactionInfo + `"]`
	if got := strings.TrimSpace(doc.Find(other).Text()); got != "Active (A)" {
		t.Fatalf("the other authority's badge %q", got)
	}
	// The bank agrees at the next status check.
	e.postForm(admin, path+"/refresh", url.Values{})
	_, doc = e.get(admin, path, "Accept-Language", "en")
	if got := doc.Find(badge); got.AttrOr("data-status", "") != consents.Revoked {
		t.Fatalf("authority badge after the status check %q", got.Text())
	}
}

func TestConsentAbandonedAtTheBankIsMarkedOnceItsStateExpires(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	startConsent(t, e, admin, consentForm(5))
	c := onlyConsent(t, e)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	ctx := context.Background()

	// A status check is queued for when the approval's state expires.
	queued := queuedJobs(t, e, consents.StatusArgs{}.Kind())
	expires := time.Now().Add(stateLifetime)
	if len(queued) != 1 || queued[0].RunAt.Before(expires.Add(-time.Minute)) || queued[0].RunAt.After(expires.Add(time.Minute)) {
		t.Fatalf("status checks queued = %+v", queued)
	}
	// Before then it is awaiting approval.
	if err := runJob(ctx, e, consents.StatusArgs{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.h.app.Consents.Consent(ctx, c.ID); got.Status != consents.Awaiting {
		t.Fatalf("consent before the state expired: %+v", got)
	}
	// The customer never came back: once the state has expired the consent
	// can never be completed, and says so.
	e.now.Advance(stateLifetime + time.Second)
	if err := runJob(ctx, e, consents.StatusArgs{}); err != nil {
		t.Fatal(err)
	}
	_, doc := e.get(admin, path, "Accept-Language", "tr")
	if got := doc.Find(`[data-testid=consent-status]`); got.AttrOr("data-status", "") != consents.Abandoned ||
		strings.Contains(got.Text(), "Onay bekliyor") {
		t.Fatalf("consent page status %q", got.Text())
	}
	if got := testID(doc, "consent-valid-until"); strings.Contains(got, "gün kaldı") {
		t.Fatalf("an abandoned consent counts days: %q", got)
	}
	if testID(doc, "consent-abandoned") == "" || doc.Find(`[data-testid=consent-abandoned] a[href="/consents/new"]`).Length() != 1 {
		t.Fatal("no note on what to do with an abandoned consent")
	}
	_, doc = e.get(admin, "/consents", "Accept-Language", "tr")
	if got := doc.Find(`[data-testid=consent-status]`).AttrOr("data-status", ""); got != consents.Abandoned ||
		strings.Contains(doc.Find(`[data-testid=consent-row]`).Text(), "gün kaldı") {
		t.Fatalf("consent list shows %q", doc.Find(`[data-testid=consent-row]`).Text())
	}
	// Asking the bank again does not bring it back to "awaiting".
	e.postForm(admin, path+"/refresh", url.Values{})
	if got, _ := e.h.app.Consents.Consent(ctx, c.ID); got.Status != consents.Abandoned {
		t.Fatalf("after a status refresh: %+v", got)
	}
}
