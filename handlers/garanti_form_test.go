package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kasa/i18n"
	"kasa/providers/garanti"
	"kasa/store"
)

func TestConsentFormExplainsEveryRule(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	today := i18n.Today(time.Now())
	day := func(d int) string { return today.AddDate(0, 0, d).Format("2006-01-02") }
	cases := []struct {
		name, field, en, tr string
		change              func(url.Values)
	}{
		{"one-off with 3 calls", "frequency", "A one-off consent allows exactly 1 call per day", "Tek seferlik izinde", func(v url.Values) { v.Set("recurring", "false"); v.Set("frequency", "3") }},
		{"frequency not a number", "frequency", "Enter a whole number from 1 to 99.", "1 ile 99 arasında", func(v url.Values) { v.Set("frequency", "çok") }},
		{"frequency over 99", "frequency", "between 1 and 99", "1 ile 99 arasında", func(v url.Values) { v.Set("frequency", "100") }},
		{"validation date past", "validation_date", "today or later", "bugün ya da sonrası", func(v url.Values) { v.Set("validation_date", day(-1)) }},
		{"validation date too far", "validation_date", "at most 180 days ahead", "en fazla 180 gün", func(v url.Values) { v.Set("validation_date", day(181)) }},
		{"validation date unreadable", "validation_date", "DD.MM.YYYY", "GG.AA.YYYY", func(v url.Values) { v.Set("validation_date", "31.02.2026") }},
		{"range reversed", "tran_end", "cannot be before its start", "başlangıcından önce olamaz", func(v url.Values) { v.Set("tran_begin", day(-10)); v.Set("tran_end", day(-20)) }},
		{"range over a year", "tran_end", "at most 1 year", "en fazla 1 yıl", func(v url.Values) { v.Set("tran_begin", day(-400)); v.Set("tran_end", day(0)) }},
		{"no authority", "authorities", "Choose at least one authority", "En az bir yetki", func(v url.Values) { v.Del("authority") }},
		{"attribute without name", "attr_name_" + garanti.AuthorityTransactionInfo, "also choose the attribute name", "daraltma alanını da seçin",
			func(v url.Values) { v.Set("attr_"+garanti.AuthorityTransactionInfo, "7001000101") }},
		{"name without attribute", "attr_" + garanti.AuthorityProductInfo, "also enter its value", "değerini de yazın",
			func(v url.Values) { v.Set("attr_name_"+garanti.AuthorityProductInfo, "productId") }},
		{"kind missing", "recurring", "Choose recurring or one-off.", "Sürekli veya tek seferlik", func(v url.Values) { v.Del("recurring") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, l := range []struct{ lang, want string }{{"en", tc.en}, {"tr", tc.tr}} {
				form := consentForm(5)
				tc.change(form)
				resp, doc := e.postForm(admin, "/consents", form, "Accept-Language", l.lang)
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("%s: status %d", l.lang, resp.StatusCode)
				}
				if got := fieldError(doc, tc.field); !strings.Contains(got, l.want) {
					t.Errorf("%s: %s says %q, want %q", l.lang, tc.field, got, l.want)
				}
				// Nothing typed is lost.
				if got := doc.Find("#f-frequency").AttrOr("value", ""); got != form.Get("frequency") {
					t.Errorf("frequency came back as %q", got)
				}
				if got := doc.Find("#f-validation_date").AttrOr("value", ""); got != form.Get("validation_date") {
					t.Errorf("validation date came back as %q", got)
				}
			}
		})
	}
	if cs, _ := e.h.app.Consents.Consents(context.Background()); len(cs) != 0 {
		t.Fatalf("invalid forms created %d consents", len(cs))
	}
}

func TestGarantiSetupStoresSecretsEncrypted(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	resp, doc := e.postForm(admin, "/consents/setup/register", url.Values{"company_name": {" "}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "company_name") != "Enter the company name." {
		t.Fatalf("empty company: %d %q", resp.StatusCode, fieldError(doc, "company_name"))
	}
	resp, _ = e.postForm(admin, "/consents/setup/register", url.Values{"company_name": {"Kasa A.Ş."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	regs := e.sandbox.Garanti.Registrations()
	if len(regs) != 1 || regs[0].RedirectURIs[0] != e.srv.URL+"/oauth/garanti/callback" || regs[0].CompanyName != "Kasa A.Ş." {
		t.Fatalf("registrations = %+v", regs)
	}
	s, _ := e.st.Settings(context.Background())
	if s["garanti.client_id"] != regs[0].ClientID || s["garanti.client_secret"] != regs[0].ClientSecret || s["garanti.tpp_name"] != "Kasa A.Ş." {
		t.Fatalf("settings = %v", s)
	}
	var raw []byte
	noErr(t, e.st.DB().QueryRow(`SELECT value_enc FROM settings WHERE key = 'garanti.client_secret'`).Scan(&raw))
	if strings.Contains(string(raw), regs[0].ClientSecret) {
		t.Fatal("client secret stored in clear text")
	}
	_, doc = e.get(admin, "/consents/setup", "Accept-Language", "en")
	if testID(doc, "redirect-uri") != e.srv.URL+"/oauth/garanti/callback" || testID(doc, "client-id") != regs[0].ClientID {
		t.Fatalf("setup page shows %q %q", testID(doc, "redirect-uri"), testID(doc, "client-id"))
	}
	if html, _ := doc.Html(); strings.Contains(html, regs[0].ClientSecret) {
		t.Fatal("setup page shows the client secret")
	}
	// Existing credentials: the secret may stay as it is, the rest is required.
	resp, doc = e.postForm(admin, "/consents/setup/credentials", url.Values{"client_id": {"abc"}, "tpp_name": {"Kasa"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "client_id_portal") != "This field is required." ||
		fieldError(doc, "client_secret") != "" || doc.Find("#f-client_id").AttrOr("value", "") != "abc" {
		t.Fatalf("credentials: %d %q %q", resp.StatusCode, fieldError(doc, "client_id_portal"), fieldError(doc, "client_secret"))
	}
}

func TestGarantiRoles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	registerGaranti(t, e)
	viewer, _ := e.login(store.RoleViewer)
	operator, _ := e.login(store.RoleOperator)
	for _, c := range []struct {
		client *http.Client
		method string
		path   string
		want   int
	}{
		{viewer, http.MethodGet, "/consents", 200},
		{viewer, http.MethodGet, "/hgs", 200},
		{viewer, http.MethodGet, "/consents/new", 403},
		{viewer, http.MethodPost, "/consents", 403},
		{viewer, http.MethodPost, "/hgs/refresh", 403},
		{viewer, http.MethodPost, "/consents/1/revoke", 403},
		{viewer, http.MethodGet, "/consents/1/revoke", 403},
		{viewer, http.MethodPost, "/consents/1/refresh", 403},
		{viewer, http.MethodPost, "/consents/1/activate", 403},
		{viewer, http.MethodGet, "/oauth/garanti/callback?state=x&code=y", 403},
		{viewer, http.MethodPost, "/consents/setup/credentials", 403},
		{viewer, http.MethodPost, "/consents/setup/register", 403},
		{operator, http.MethodPost, "/consents/setup/credentials", 403},
		{operator, http.MethodGet, "/consents/new", 200},
		{operator, http.MethodGet, "/consents/setup", 403},
		{operator, http.MethodPost, "/consents/setup/register", 403},
	} {
		var resp *http.Response
		if c.method == http.MethodGet {
			resp, _ = e.get(c.client, c.path)
		} else {
			resp, _ = e.postForm(c.client, c.path, consentForm(5))
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
}
