package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kasa/store"
)

// TestGarantiSetupRefusesWhatTheBankRefuses: the bank answers E014–E017 on
// every consent call when Client-ID, Client-ID-Portal, TPP-ID or TPP-Name is
// longer than it takes. Setup (and the settings page) refuses such a value
// next to its field, in both languages, and stores nothing; a value at the
// limit is taken.
func TestGarantiSetupRefusesWhatTheBankRefuses(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	long := strings.Repeat("p", 70)
	good := url.Values{"client_id": {"client-1"}, "client_secret": {"secret-1"}, "client_id_portal": {"portal-1"}, "tpp_id": {"tpp-1"}, "tpp_name": {"Kasa A.Ş."}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, c := range []struct{ field, value, code string }{
		{"client_id_portal", long, "E015"},
		{"tpp_id", long, "E016"},
		{"client_id", long, "E014"},
		{"tpp_name", strings.Repeat("Ş", 101), "E017"},
	} {
		for _, lang := range []struct{ header, want string }{{"en", "At most"}, {"tr", "En fazla"}} {
			resp, doc := e.postForm(admin, "/consents/setup/credentials", with(c.field, c.value), "Accept-Language", lang.header)
			msg := fieldError(doc, c.field)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, lang.want) || !strings.Contains(msg, c.code) {
				t.Errorf("%s of %d characters (%s): %d, message %q", c.field, len([]rune(c.value)), lang.header, resp.StatusCode, msg)
			}
			if v := doc.Find("#f-"+c.field).AttrOr("value", ""); v != c.value {
				t.Errorf("%s: typed value not shown back: %q", c.field, v)
			}
		}
		// The settings page stores the same values: it refuses them too.
		key := map[string]string{"client_id_portal": "garanti.client_id_portal", "tpp_id": "garanti.tpp_id",
			"client_id": "garanti.client_id", "tpp_name": "garanti.tpp_name"}[c.field]
		resp, doc := e.postForm(admin, "/settings", url.Values{key: {c.value}}, "Accept-Language", "en")
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(doc, key), c.code) {
			t.Errorf("settings %s: %d %q", key, resp.StatusCode, fieldError(doc, key))
		}
	}
	resp, doc := e.postForm(admin, "/consents/setup/register", url.Values{"company_name": {"Kasa"}, "client_id_portal": {long}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(doc, "client_id_portal"), "E015") {
		t.Errorf("register with a long Client-ID-Portal: %d %q", resp.StatusCode, fieldError(doc, "client_id_portal"))
	}
	if s, _ := e.st.Settings(context.Background()); s["garanti.client_id_portal"] != "" || s["garanti.tpp_id"] != "" || s["garanti.client_id"] != "" {
		t.Fatalf("refused values were stored: %v", s)
	}
	if len(e.sandbox.Garanti.Registrations()) != 0 {
		t.Fatal("a refused registration reached the bank")
	}

	// At the limit the values are taken, and the bank takes them too.
	portal := strings.Repeat("p", 64)
	if resp, doc := e.postForm(admin, "/consents/setup/register", url.Values{"company_name": {strings.Repeat("Ş", 100)}, "client_id_portal": {portal}}, "Accept-Language", "en"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("register at the limits: %d %q %q", resp.StatusCode, fieldError(doc, "client_id_portal"), fieldError(doc, "company_name"))
	}
	s, _ := e.st.Settings(context.Background())
	resp, doc = e.postForm(admin, "/consents/setup/credentials", url.Values{"client_id": {s["garanti.client_id"]}, "client_id_portal": {portal},
		"tpp_id": {strings.Repeat("t", 64)}, "tpp_name": {strings.Repeat("Ş", 100)}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("credentials at the limits: %d %s", resp.StatusCode, doc.Find(".error").Text())
	}
	startConsent(t, e, admin, consentForm(5))
}
