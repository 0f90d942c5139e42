package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kasa/debts"
	"kasa/i18n"
	"kasa/movements"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
)

// TestDebtAmountFollowsTheUserLanguage: a debt amount is read in the
// language of the person typing it. 1,555 typed in Turkish has three
// decimals and is refused at the field (it was once saved and sent to
// Finrota as 1.555,00 ₺); typed in English it is one thousand five hundred
// and fifty-five; 1550.00 typed in Turkish can only mean 1550.
func TestDebtAmountFollowsTheUserLanguage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)

	refused := []struct {
		lang  i18n.Lang
		value string
	}{{i18n.TR, "1,555"}, {i18n.TR, "100,001"}, {i18n.EN, "1.555"}, {i18n.EN, "100.001"}}
	for _, tc := range refused {
		t.Run("refused "+tc.value+"/"+string(tc.lang), func(t *testing.T) {
			erp := "T-AMT-" + randomSuffix()
			form := validDebtForm(e, erp)
			form.Set("amount", tc.value)
			resp, doc := e.postForm(c, "/debts", form, "Accept-Language", string(tc.lang))
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			if got, want := fieldError(doc, "amount"), tc.lang.T("debts.v.amount.decimals"); got != want {
				t.Errorf("amount error %q, want %q", got, want)
			}
			if got, _ := shownValue(doc, "amount"); got != tc.value {
				t.Errorf("the form shows %q, typed %q", got, tc.value)
			}
			if _, found := e.sandbox.Finrota.Debt(erp); found {
				t.Error("the refused amount reached Finrota")
			}
		})
	}

	accepted := []struct {
		lang        i18n.Lang
		value, want string
	}{{i18n.EN, "1,555", "1555"}, {i18n.TR, "1.555", "1555"}, {i18n.TR, "1550.00", "1550"}, {i18n.EN, "1.555,50", "1555.5"}, {i18n.TR, "1,55", "1.55"}}
	for _, tc := range accepted {
		t.Run("accepted "+tc.value+"/"+string(tc.lang), func(t *testing.T) {
			erp := "T-AMT-" + randomSuffix()
			form := validDebtForm(e, erp)
			form.Set("amount", tc.value)
			resp, _ := e.postForm(c, "/debts", form, "Accept-Language", string(tc.lang))
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d, want 303", resp.StatusCode)
			}
			loc, err := location(resp)
			if err != nil {
				t.Fatal(err)
			}
			d := waitDebtState(t, e, mustInt(t, strings.TrimPrefix(loc, "/debts/")), debts.DebtDelivered)
			if !d.Amount.Equal(mustDec(tc.want)) {
				t.Errorf("stored %v, want %s", d.Amount, tc.want)
			}
			remote, found := e.sandbox.Finrota.Debt(erp)
			if !found || !remote.Amount.Equal(mustDec(tc.want)) {
				t.Errorf("Finrota holds %v (found %v), want %s", remote.Amount, found, tc.want)
			}
		})
	}
}

// TestAmountEcho: the debt form shows what an amount was read as next to
// the field, live (htmx asks /amount/echo as the user types) and when the
// form comes back after a refused post, in the user's language.
func TestAmountEcho(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)

	cases := []struct {
		lang                   i18n.Lang
		field, value, currency string
		want                   string
		failed                 bool
	}{
		{i18n.TR, "amount", "1.555", "TRY", "= 1.555,00 ₺", false},
		{i18n.TR, "amount", "1550.00", "TRY", "= 1.550,00 ₺", false},
		{i18n.EN, "amount", "1,555", "TRY", "= ₺1,555.00", false},
		{i18n.EN, "paidAmount", "1.555,5", "USD", "= $1,555.50", false},
		{i18n.TR, "paidAmount", "12", "", "= 12,00", false},
		{i18n.TR, "amount", "1,555", "TRY", i18n.TR.T("amount.decimals"), true},
		{i18n.EN, "amount", "1.555", "TRY", i18n.EN.T("amount.decimals"), true},
		{i18n.EN, "amount", "on beş", "TRY", i18n.EN.T("amount.invalid"), true},
		{i18n.TR, "amount", "", "TRY", "", false},
	}
	for _, tc := range cases {
		q := "field=" + tc.field + "&" + tc.field + "=" + url.QueryEscape(tc.value) + "&currencyId=" + tc.currency
		resp, doc := e.get(c, "/amount/echo?"+q, "HX-Request", "true", "Accept-Language", string(tc.lang))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %q: status %d", tc.lang, tc.value, resp.StatusCode)
		}
		echo := doc.Find(`[data-testid="echo-` + tc.field + `"]`)
		if echo.Length() != 1 || echo.AttrOr("id", "") != "echo-"+tc.field {
			t.Fatalf("%s %q: no echo element for %s", tc.lang, tc.value, tc.field)
		}
		if got := strings.TrimSpace(echo.Text()); got != tc.want {
			t.Errorf("%s %q: echo %q, want %q", tc.lang, tc.value, got, tc.want)
		}
		if got := echo.HasClass("echo-error"); got != tc.failed {
			t.Errorf("%s %q: shown as a refusal %v, want %v", tc.lang, tc.value, got, tc.failed)
		}
		if doc.Find("nav, form").Length() > 0 {
			t.Errorf("%s %q: the echo is a whole page, not a fragment", tc.lang, tc.value)
		}
	}
	if resp, _ := e.get(c, "/amount/echo?field=evil&evil=1"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: status %d, want 400", resp.StatusCode)
	}

	// The form wires both amount fields to the echo, with the currency.
	_, doc := e.get(c, "/debts/new", "Accept-Language", "tr")
	for _, f := range []string{"amount", "paidAmount"} {
		in := doc.Find("#f-" + f)
		if got := in.AttrOr("hx-get", ""); !strings.HasPrefix(got, "/amount/echo?field="+f) {
			t.Errorf("%s: hx-get %q", f, got)
		}
		if got := in.AttrOr("hx-target", ""); got != "#echo-"+f || doc.Find(got).Length() != 1 {
			t.Errorf("%s: hx-target %q does not name the echo", f, got)
		}
		if got := in.AttrOr("hx-include", ""); doc.Find(got).AttrOr("name", "") != "currencyId" {
			t.Errorf("%s: hx-include %q does not bring the currency", f, got)
		}
	}

	// Without JavaScript: a form refused for another field shows the
	// amount as read.
	form := validDebtForm(e, "T-ECHO-"+randomSuffix())
	form.Set("amount", "1550.00")
	form.Set("paidAmount", "1,5")
	form.Set("documentNo", "")
	resp, doc := e.postForm(c, "/debts", form, "Accept-Language", "tr")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	if got := testID(doc, "echo-amount"); got != "= 1.550,00 ₺" {
		t.Errorf("amount echo after the post %q", got)
	}
	if got := testID(doc, "echo-paidAmount"); got != "= 1,50 ₺" {
		t.Errorf("paid amount echo after the post %q", got)
	}
	// A refusal shown at the field is not said twice.
	form.Set("amount", "1,555")
	_, doc = e.postForm(c, "/debts", form, "Accept-Language", "tr")
	if got := fieldError(doc, "amount"); got != i18n.TR.T("debts.v.amount.decimals") {
		t.Errorf("amount error %q", got)
	}
	if got := testID(doc, "echo-amount"); got != "" {
		t.Errorf("the refusal is repeated in the echo: %q", got)
	}
}

// TestMovementFilterAmountFollowsTheUserLanguage: the movements amount
// filters read amounts in the user's language through the same parser.
func TestMovementFilterAmountFollowsTheUserLanguage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	q := func(min string) string {
		return "/movements?" + url.Values{"account": {strconv.FormatInt(a.ID, 10)}, "period": {"custom"}, "from": {"2025-01-10"}, "to": {"2025-01-20"}, "min": {min}}.Encode()
	}
	resp, doc := e.get(c, q("1,555"), "Accept-Language", "tr")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "min") != i18n.TR.T("amount.decimals") {
		t.Errorf("tr 1,555: status %d, error %q", resp.StatusCode, fieldError(doc, "min"))
	}
	resp, doc = e.get(c, q("1,555"), "Accept-Language", "en")
	if resp.StatusCode != http.StatusOK || fieldError(doc, "min") != "" {
		t.Errorf("en 1,555: status %d, error %q", resp.StatusCode, fieldError(doc, "min"))
	}
}
