package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/PuerkitoBio/goquery"
	"strings"
	"testing"

	"kasa/eventually"
	"kasa/i18n"
	"kasa/movements"
	"kasa/providers/vakifbank"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
)

// registerAccount adds an account through the form as an admin and
// returns it.
func (e *testEnv) registerAccount(c *http.Client, number, name, currency string) movements.BankAccount {
	e.t.Helper()
	resp, doc := e.postForm(c, "/movements/accounts", url.Values{"number": {number}, "name": {name}, "currency": {currency}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("register %s: status %d, errors %q", number, resp.StatusCode, testID(doc, "form-errors"))
	}
	as, err := e.h.app.Movements.BankAccounts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range as {
		if a.Number == strings.NewReplacer(" ", "", "-", "").Replace(number) {
			return a
		}
	}
	e.t.Fatalf("account %s not stored", number)
	return movements.BankAccount{}
}

// waitIdle waits until no sync of the account is queued or running.
func (e *testEnv) waitIdle(id int64) movements.BankAccount {
	e.t.Helper()
	var a movements.BankAccount
	eventually.That(e.t, fmt.Sprintf("account %d to finish syncing", id), func() error {
		var err error
		if a, err = e.h.app.Movements.BankAccount(context.Background(), id); err != nil {
			e.t.Fatal(err)
		}
		if a.Pending {
			return fmt.Errorf("account %d still syncing", id)
		}
		return nil
	})
	return a
}

func TestBankAccountFormValidation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleAdmin)
	e.registerAccount(c, vakifbanktest.SandboxAccountUSD, "Dolar hesabı", "USD")

	cases := []struct {
		name, number, accName, currency, field string
		tr, en                                 string
	}{
		{"number missing", "", "Ana hesap", "TRY", "number", "Hesap numarasını girin.", "Enter the account number."},
		{"letters", "00158ABC000000001", "Ana hesap", "TRY", "number",
			"Hesap numarası yalnızca rakamlardan oluşur (boşluk ve tire olabilir).", "An account number has digits only (spaces and dashes are allowed)."},
		{"16 digits", "0015800000000001", "Ana hesap", "TRY", "number",
			"Hesap numarası 17 haneli olmalı; 16 hane girdiniz.", "The account number must have 17 digits; you entered 16."},
		{"already registered, typed with spaces", "00158 000000000002", "Ana hesap", "TRY", "number",
			"Bu hesap numarası zaten kayıtlı.", "This account number is already registered."},
		{"name missing", "00158000000000001", "  ", "TRY", "name",
			`Hesaba bir ad verin, örneğin “Ana TL hesabı”.`, `Give the account a name, e.g. “Main TRY account”.`},
		{"name too long", "00158000000000001", strings.Repeat("ş", 101), "TRY", "name",
			"Hesap adı en fazla 100 karakter olabilir.", "The account name can be at most 100 characters."},
		{"unknown currency", "00158000000000001", "Ana hesap", "GBP", "currency", "TRY, USD veya EUR seçin.", "Choose TRY, USD or EUR."},
	}
	for _, tc := range cases {
		for _, lang := range []struct{ header, want string }{{"tr", tc.tr}, {"en", tc.en}} {
			form := url.Values{"number": {tc.number}, "name": {tc.accName}, "currency": {tc.currency}}
			resp, doc := e.postForm(c, "/movements/accounts", form, "Accept-Language", lang.header)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): status %d", tc.name, lang.header, resp.StatusCode)
				continue
			}
			if got := fieldError(doc, tc.field); got != lang.want {
				t.Errorf("%s (%s): %s error %q, want %q", tc.name, lang.header, tc.field, got, lang.want)
			}
			// Nothing typed is lost.
			if got := doc.Find("#f-number").AttrOr("value", ""); got != strings.TrimSpace(tc.number) {
				t.Errorf("%s: number re-shown as %q", tc.name, got)
			}
			if got := doc.Find("#f-currency option[selected]").AttrOr("value", ""); got != tc.currency && tc.currency != "GBP" {
				t.Errorf("%s: currency re-shown as %q", tc.name, got)
			}
		}
	}
	if as, _ := e.h.app.Movements.BankAccounts(context.Background()); len(as) != 1 {
		t.Fatalf("%d accounts stored after rejected forms", len(as))
	}
}

func TestBankAccountRoles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	a := e.registerAccount(admin, "00158-000000000001", "Ana TL hesabı", "TRY")
	if a.Number != vakifbanktest.SandboxAccountTRY || a.Currency != "TRY" {
		t.Fatalf("stored %+v", a)
	}
	viewer, _ := e.login(store.RoleViewer)
	operator, _ := e.login(store.RoleOperator)
	form := url.Values{"number": {vakifbanktest.SandboxAccountEUR}, "name": {"Euro"}, "currency": {"EUR"}}
	syncPath := fmt.Sprintf("/movements/accounts/%d/sync", a.ID)
	cases := []struct {
		who    string
		c      *http.Client
		method string
		path   string
		want   int
	}{
		{"viewer", viewer, "GET", "/movements/accounts", http.StatusOK},
		{"viewer", viewer, "GET", "/movements", http.StatusOK},
		{"viewer", viewer, "GET", "/movements/accounts/new", http.StatusForbidden},
		{"viewer", viewer, "POST", "/movements/accounts", http.StatusForbidden},
		{"viewer", viewer, "POST", syncPath, http.StatusForbidden},
		{"operator", operator, "GET", "/movements/accounts/new", http.StatusForbidden},
		{"operator", operator, "POST", "/movements/accounts", http.StatusForbidden},
		{"operator", operator, "POST", syncPath, http.StatusSeeOther},
		{"admin", admin, "GET", "/movements/accounts/new", http.StatusOK},
	}
	for _, tc := range cases {
		var resp *http.Response
		if tc.method == "GET" {
			resp, _ = e.get(tc.c, tc.path)
		} else {
			resp, _ = e.postForm(tc.c, tc.path, form)
		}
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s %s: %d, want %d", tc.who, tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	if as, _ := e.h.app.Movements.BankAccounts(context.Background()); len(as) != 1 {
		t.Fatalf("%d accounts after refused registrations", len(as))
	}
	// Viewers read the list but are offered neither registration nor sync.
	_, doc := e.get(viewer, "/movements/accounts")
	if doc.Find(`[data-testid=account-row]`).Length() != 1 || doc.Find(`[data-testid=new-account]`).Length() != 0 || doc.Find(`[data-testid=account-sync]`).Length() != 0 {
		t.Fatal("viewer's account list offers actions or misses the account")
	}
}

// TestBankAccountSyncShowsBalanceAndBankRefusal registers the sandbox TRY
// account and one the consent does not cover: the first gets its balance,
// the second the bank's ACBH000104 explained in both languages.
func TestBankAccountSyncShowsBalanceAndBankRefusal(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleAdmin)
	a := e.registerAccount(c, vakifbanktest.SandboxAccountTRY, "Ana TL hesabı", "TRY")
	other := e.registerAccount(c, vakifbanktest.OtherAccount, "Başkasının hesabı", "TRY")
	e.waitIdle(a.ID)
	e.waitIdle(other.ID)

	resp, _ := e.postForm(c, fmt.Sprintf("/movements/accounts/%d/sync", a.ID), nil, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync now: %d", resp.StatusCode)
	}
	_, doc := e.get(c, "/movements/accounts", "Accept-Language", "en")
	if got := testID(doc, "flash-success"); !strings.Contains(got, "Ana TL hesabı is synced") {
		t.Errorf("after sync now the page says %q", got)
	}
	ms := e.sandbox.VakifBank.Movements(vakifbanktest.SandboxAccountTRY)
	want := i18n.EN.Money(ms[len(ms)-1].Balance, "TRY")
	row := doc.Find(`[data-testid=account-row][data-number="` + a.Number + `"]`)
	if got := strings.TrimSpace(row.Find(`[data-testid=account-balance]`).Text()); got != want {
		t.Errorf("balance shown %q, want %q", got, want)
	}

	resp, _ = e.postForm(c, fmt.Sprintf("/movements/accounts/%d/sync", other.ID), nil, "Accept-Language", "tr")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync now: %d", resp.StatusCode)
	}
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		_, doc = e.get(c, "/movements/accounts", "Accept-Language", string(lang))
		row := doc.Find(`[data-testid=account-row][data-number="` + other.Number + `"]`)
		if got := strings.TrimSpace(row.Find(`[data-testid=account-problem]`).Text()); got != lang.T("acbh.ACBH000104") {
			t.Errorf("%s: problem shown %q", lang, got)
		}
		if got := strings.TrimSpace(row.Find(`[data-testid=account-status]`).Text()); !strings.Contains(got, "ACBH000104") {
			t.Errorf("%s: status %q lacks the code", lang, got)
		}
	}
}

// TestEveryBankCodeExplained checks the catalogue explains every documented
// ACBH code in both languages, differently from the bank's own text.
func TestEveryBankCodeExplained(t *testing.T) {
	t.Parallel()
	for _, mc := range vakifbank.KnownCodes() {
		txt, ok := i18n.Lookup("acbh." + mc.Code)
		if !ok || txt.TR == "" || txt.EN == "" || txt.TR == txt.EN {
			t.Errorf("%s: %+v", mc.Code, txt)
		}
	}
}

// TestNewBankAccountNamesTheSandboxAccounts: the form suggests the
// accounts the known-accounts setting lists, which the sandbox fills with
// the fake bank's test accounts.
func TestNewBankAccountNamesTheSandboxAccounts(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	resp, doc := e.get(admin, "/movements/accounts/new", "Accept-Language", "en")
	got := testID(doc, "known-accounts")
	if resp.StatusCode != http.StatusOK || !strings.Contains(got, vakifbanktest.SandboxAccountTRY+" (TL)") || strings.Contains(got, vakifbanktest.OtherAccount) {
		t.Fatalf("sandbox hint %q (status %d)", got, resp.StatusCode)
	}
}

// TestAdminSetsTheAccountsToSuggest: the accounts the new-account form
// suggests are an ordinary setting an admin edits on the Settings page.
func TestAdminSetsTheAccountsToSuggest(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	_, doc := e.get(admin, "/settings")
	if doc.Find(`input[name="vakifbank.known_accounts"]`).Length() != 1 {
		t.Fatal("the Settings page has no field for the accounts to suggest")
	}
	form := url.Values{}
	doc.Find(`form input[name]`).Each(func(_ int, s *goquery.Selection) {
		if name, _ := s.Attr("name"); name != "" && s.AttrOr("type", "") != "password" {
			form.Set(name, s.AttrOr("value", ""))
		}
	})
	form.Set("vakifbank.known_accounts", "TR330006100519786457841326")
	if resp, _ := e.postForm(admin, "/settings", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d", resp.StatusCode)
	}
	_, doc = e.get(admin, "/movements/accounts/new", "Accept-Language", "en")
	if got := testID(doc, "known-accounts"); !strings.Contains(got, "TR330006100519786457841326") {
		t.Errorf("suggestions %q", got)
	}
}
