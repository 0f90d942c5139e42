package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/debts"
	"kasa/i18n"
	"kasa/movements"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
)

// badUTF8 is what a broken client or a crafted request sends: bytes that
// are not UTF-8 text (name=%ff%fe).
const badUTF8 = "\xff\xfe"

// TestInvalidUTF8IsRefusedAtTheField: a value that is not valid UTF-8 is
// refused with a message next to its field (422), the other values stay
// as typed, and nothing is written: Postgres would fail on such text with
// an error page. Every form goes through the same check.
func TestInvalidUTF8IsRefusedAtTheField(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	operator, _ := e.login(store.RoleOperator)
	debt := validDebtForm(e, "T-UTF8-"+randomSuffix())
	debt.Set("description", "Mart "+badUTF8)
	acct, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}

	created := validDebtForm(e, "T-UTF8-"+randomSuffix())
	resp, _ := e.postForm(operator, "/debts", created)
	editPath, err := location(resp)
	if err != nil {
		t.Fatalf("create a debt to edit: status %d, %v", resp.StatusCode, err)
	}
	waitDebtState(t, e, mustInt(t, strings.TrimPrefix(editPath, "/debts/")), debts.DebtDelivered)

	type kept struct{ field, value string }
	cases := []struct {
		name   string
		c      *http.Client
		method string
		path   string
		form   url.Values
		field  string
		kept   *kept
		writes string // a count that must not change
	}{
		{"new user name", admin, http.MethodPost, "/users", url.Values{"email": {"yeni@kasa.test"}, "name": {badUTF8}, "role": {"viewer"}}, "name", &kept{"email", "yeni@kasa.test"}, `SELECT count(*) FROM users`},
		{"new user email", admin, http.MethodPost, "/users", url.Values{"email": {"a" + badUTF8 + "@kasa.test"}, "name": {"Ayşe"}, "role": {"viewer"}}, "email", &kept{"name", "Ayşe"}, `SELECT count(*) FROM users`},
		{"debt description", operator, http.MethodPost, "/debts", debt, "description", &kept{"documentNo", "FTR-2026-001"}, `SELECT count(*) FROM debts`},
		{"debt document no", operator, http.MethodPost, "/debts", withValue(validDebtForm(e, "T-UTF8-"+randomSuffix()), "documentNo", badUTF8), "documentNo", &kept{"description", "Mart faturası"}, `SELECT count(*) FROM debts`},
		{"debt edit", operator, http.MethodPost, editPath, withValue(created, "agentErpCode", "AG"+badUTF8), "agentErpCode", &kept{"amount", "1.550,00"}, `SELECT count(*) FROM debts WHERE version > 1`},
		{"bank account name", admin, http.MethodPost, "/movements/accounts", url.Values{"number": {"00158000000000002"}, "name": {"Ana " + badUTF8}, "currency": {"TRY"}}, "name", &kept{"number", "00158000000000002"}, `SELECT count(*) FROM bank_accounts`},
		{"garanti company", admin, http.MethodPost, "/consents/setup/register", url.Values{"company_name": {badUTF8}, "client_id_portal": {"portal-1"}}, "company_name", &kept{"client_id_portal", "portal-1"}, `SELECT count(*) FROM settings`},
		{"garanti credentials", admin, http.MethodPost, "/consents/setup/credentials", url.Values{"client_id": {"id-1"}, "client_secret": {"s"}, "client_id_portal": {"p"}, "tpp_id": {"t"}, "tpp_name": {"Kasa " + badUTF8}}, "tpp_name", &kept{"client_id", "id-1"}, `SELECT count(*) FROM settings`},
		{"settings", admin, http.MethodPost, "/settings", url.Values{"finrota.api_key": {badUTF8}, "garanti.tpp_name": {"Kasa"}}, "finrota.api_key", &kept{"garanti.tpp_name", "Kasa"}, `SELECT count(*) FROM settings`},
		{"consent dates", operator, http.MethodPost, "/consents", url.Values{"validation_date": {badUTF8}, "frequency": {"4"}, "recurring": {"true"}}, "validation_date", &kept{"frequency", "4"}, `SELECT count(*) FROM garanti_consents`},
		{"debt search", operator, http.MethodGet, "/debts", url.Values{"q": {badUTF8}}, "q", nil, ""},
		{"hgs motorway", operator, http.MethodGet, "/hgs", url.Values{"motorway": {"Çaml" + badUTF8}}, "motorway", nil, ""},
		{"api log operation", admin, http.MethodGet, "/apilog", url.Values{"operation": {"token" + badUTF8}, "request_id": {"abc"}}, "operation", &kept{"request_id", "abc"}, ""},
		{"movements search", operator, http.MethodGet, "/movements", url.Values{"account": {strconv.FormatInt(acct.ID, 10)}, "q": {badUTF8}}, "q", &kept{"q", "\uFFFD"}, ""},
		{"sign in", e.client(), http.MethodPost, "/login", url.Values{"email": {badUTF8}, "password": {"x"}}, "email", nil, `SELECT count(*) FROM sessions`},
		{"own password", operator, http.MethodPost, "/account/password", url.Values{"current_password": {testPassword}, "new_password": {"uzun bir parola " + badUTF8}, "new_password_confirm": {"uzun bir parola " + badUTF8}}, "new_password", nil, `SELECT count(*) FROM audit_log`},
	}
	for _, tc := range cases {
		for _, lang := range i18n.Langs {
			t.Run(tc.name+"/"+string(lang), func(t *testing.T) {
				before := e.countRows(tc.writes)
				var resp *http.Response
				var doc *goquery.Document
				if tc.method == http.MethodGet {
					resp, doc = e.get(tc.c, tc.path+"?"+tc.form.Encode(), "Accept-Language", string(lang))
				} else {
					resp, doc = e.postForm(tc.c, tc.path, tc.form, "Accept-Language", string(lang))
				}
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", resp.StatusCode)
				}
				if got, want := fieldError(doc, tc.field), lang.T("valid.text.utf8"); got != want {
					t.Errorf("error next to %s = %q, want %q", tc.field, got, want)
				}
				if tc.kept != nil {
					if got, _ := shownValue(doc, tc.kept.field); got != tc.kept.value {
						t.Errorf("%s shows %q, typed %q", tc.kept.field, got, tc.kept.value)
					}
				}
				if after := e.countRows(tc.writes); after != before {
					t.Errorf("%s: %d rows, was %d", tc.writes, after, before)
				}
			})
		}
	}
}

// TestInvalidUTF8OnFirstSetup: the first administrator's form refuses
// text that is not UTF-8 like every other form, and creates no one.
func TestInvalidUTF8OnFirstSetup(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	resp, doc := e.postForm(e.client(), "/setup", url.Values{"email": {"ilk@kasa.test"}, "name": {"Yönetici " + badUTF8},
		"password": {testPassword}, "password_confirm": {testPassword}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	if got, want := fieldError(doc, "name"), i18n.EN.T("valid.text.utf8"); got != want {
		t.Errorf("error next to name = %q, want %q", got, want)
	}
	if got, _ := shownValue(doc, "email"); got != "ilk@kasa.test" {
		t.Errorf("email shows %q", got)
	}
	if n := e.countRows(`SELECT count(*) FROM users`); n != 0 {
		t.Errorf("%d users after a refused setup", n)
	}
}

func withValue(v url.Values, field, value string) url.Values {
	v.Set(field, value)
	return v
}

// countRows runs a count query; an empty query counts nothing.
func (e *testEnv) countRows(query string) int {
	e.t.Helper()
	if query == "" {
		return 0
	}
	var n int
	if err := e.st.DB().Get(&n, query); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestFieldDescribedByItsErrorOrItsHint: a field points screen readers at
// its error when it has one, else at its hint; never at both, and no stray
// attribute is written.
func TestFieldDescribedByItsErrorOrItsHint(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	form := validDebtForm(e, "T-ARIA-"+randomSuffix())
	form.Set("amount", "1,555")
	_, doc := e.postForm(c, "/debts", form, "Accept-Language", "tr")
	for field, want := range map[string]string{"amount": "e-amount", "paidAmount": "h-paidAmount"} {
		in := doc.Find("#f-" + field)
		if got := in.AttrOr("aria-describedby", ""); got != want {
			t.Errorf("%s described by %q, want %q", field, got, want)
		}
		if _, stray := in.Attr("else"); stray {
			t.Errorf("%s carries a stray else attribute", field)
		}
	}
}
