package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/debts"
	"kasa/i18n"
	"kasa/providers/finrota/finrotatest"
	"kasa/store"
	"kasa/views"
)

// TestDebtFormValidation posts one bad value at a time and checks the
// message next to that field in Turkish and English, the 422, that the
// typed value is still in the form, and that nothing was stored or sent.
func TestDebtFormValidation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	seeded := e.sandbox.Finrota.Debts()[0].ErpCode
	var inactiveAgent, inactiveAccount string
	for _, a := range e.sandbox.Finrota.Agents() {
		if !a.Active {
			inactiveAgent = a.Code
		}
	}
	for _, a := range e.sandbox.Finrota.CurrentAccounts() {
		if !a.Active {
			inactiveAccount = a.ErpCode
		}
	}
	if inactiveAgent == "" || inactiveAccount == "" {
		t.Fatal("the seeded portal has no inactive agent or account to test with")
	}
	cases := []struct {
		name, field, value, key string
		args                    []any
		extra                   map[string]string // other fields changed too
	}{
		{"agent missing", "agentErpCode", "", "debts.v.required", nil, nil},
		{"agent unknown", "agentErpCode", "NT00000000", "debts.v.agent.unknown", nil, nil},
		{"agent inactive", "agentErpCode", inactiveAgent, "debts.v.agent.inactive", nil, nil},
		{"account missing", "currentAccountErpCode", " ", "debts.v.required", nil, nil},
		{"account unknown", "currentAccountErpCode", "NO-SUCH-ACCOUNT", "debts.v.account.unknown", nil, nil},
		{"account inactive", "currentAccountErpCode", inactiveAccount, "debts.v.account.inactive", nil, nil},
		{"amount missing", "amount", "", "debts.v.required", nil, nil},
		{"amount not a number", "amount", "on beş", "debts.v.amount.invalid", nil, nil},
		{"amount zero", "amount", "0,00", "debts.v.amount.positive", nil, nil},
		{"amount negative", "amount", "-5", "debts.v.amount.positive", nil, nil},
		{"amount three decimals", "amount", "1.550,125", "debts.v.amount.decimals", nil, nil},
		{"amount too large", "amount", "10000000000000000", "debts.v.amount.range", nil, nil},
		{"paid not a number", "paidAmount", "x", "debts.v.amount.invalid", nil, nil},
		{"paid negative", "paidAmount", "-0,01", "debts.v.paid.negative", nil, nil},
		{"paid over amount", "paidAmount", "1.550,01", "debts.v.paid.over", nil, nil},
		{"paid three decimals", "paidAmount", "1,001", "debts.v.amount.decimals", nil, map[string]string{"paidAmount": "0.001"}},
		{"document no missing", "documentNo", "", "debts.v.required", nil, nil},
		{"document no too long", "documentNo", strings.Repeat("A", 101), "debts.v.toolong", []any{100}, nil},
		{"document type missing", "documentType", "", "debts.v.required", nil, nil},
		{"document type not in list", "documentType", "Ödeme", "debts.v.doctype", nil, nil},
		{"due date missing", "dueDate", "", "debts.v.required", nil, nil},
		{"due date impossible", "dueDate", "31.02.2026", "debts.v.date.invalid", nil, nil},
		{"transaction date garbage", "transactionDate", "yesterday", "debts.v.date.invalid", nil, nil},
		{"transaction after due", "transactionDate", "02.04.2026", "debts.v.date.order", nil, nil},
		{"currency missing", "currencyId", "", "debts.v.required", nil, nil},
		{"currency unknown", "currencyId", "XYZ", "debts.v.currency", nil, nil},
		{"erp code missing", "erpCode", "", "debts.v.required", nil, nil},
		{"erp code used at Finrota", "erpCode", seeded, "debts.v.erp.taken", nil, nil},
		{"erp code with a line break", "erpCode", "A\nB", "debts.v.chars", nil, nil},
		{"erp code too long", "erpCode", strings.Repeat("E", 101), "debts.v.toolong", []any{100}, nil},
		{"description too long", "description", strings.Repeat("d", 1001), "debts.v.toolong", []any{1000}, nil},
	}
	before, stored := len(e.sandbox.Finrota.Debts()), countDebts(t, e)
	for _, tc := range cases {
		for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
			t.Run(tc.name+"/"+string(lang), func(t *testing.T) {
				form := validDebtForm(e, "T-VALID-"+randomSuffix())
				form.Set(tc.field, tc.value)
				for k, v := range tc.extra {
					form.Set(k, v)
				}
				resp, doc := e.postForm(c, "/debts", form, "Accept-Language", string(lang))
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", resp.StatusCode)
				}
				want := lang.T(tc.key, tc.args...)
				if got := fieldError(doc, tc.field); got != want {
					t.Fatalf("error next to %s = %q, want %q", tc.field, got, want)
				}
				if n := doc.Find(`[data-testid^=error-]`).Length(); n != 1 {
					t.Errorf("%d field errors shown, want 1", n)
				}
				// Nothing the user typed is lost.
				for name, vals := range form {
					if got, ok := shownValue(doc, name); ok && got != vals[0] {
						t.Errorf("field %s shows %q, typed %q", name, got, vals[0])
					}
				}
				if n := countDebts(t, e); n != stored {
					t.Errorf("a refused form was stored: %d debts, was %d", n, stored)
				}
			})
		}
	}
	if after := len(e.sandbox.Finrota.Debts()); after != before {
		t.Fatalf("refused forms reached Finrota: %d debts, was %d", after, before)
	}
}

func countDebts(t *testing.T, e *testEnv) int {
	t.Helper()
	var n int
	if err := e.st.DB().Get(&n, `SELECT count(*) FROM debts`); err != nil {
		t.Fatal(err)
	}
	return n
}

// shownValue is what the form shows in field name: an input's value, a
// textarea's text, a select's chosen option (ok is false when no option
// is chosen: a value that is not a choice cannot be shown).
func shownValue(doc *goquery.Document, name string) (string, bool) {
	sel := doc.Find(`[name="` + name + `"]`)
	if sel.Length() == 0 {
		return "", false
	}
	switch goquery.NodeName(sel) {
	case "textarea":
		return sel.Text(), true
	case "select":
		opt := sel.Find("option[selected]")
		return opt.AttrOr("value", ""), opt.Length() > 0
	}
	return sel.AttrOr("value", ""), true
}

// TestDebtFormsRoundTrip: what the new and edit forms show is accepted
// back as it is, in both languages.
func TestDebtFormsRoundTrip(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		_, doc := e.get(c, "/debts/new", "Accept-Language", string(lang))
		form := validDebtForm(e, "")
		for _, f := range []string{"erpCode", "transactionDate", "dueDate", "currencyId"} {
			v, _ := shownValue(doc, f)
			form.Set(f, v)
		}
		if !strings.HasPrefix(form.Get("erpCode"), "CAT-") {
			t.Fatalf("no generated ERP code offered: %q", form.Get("erpCode"))
		}
		resp, doc := e.postForm(c, "/debts", form, "Accept-Language", string(lang))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: new form's own values refused: %d %s", lang, resp.StatusCode, doc.Find(`[data-testid^=error-]`).Text())
		}
		d, err := e.h.app.Debts.DebtByErpCode(context.Background(), form.Get("erpCode"))
		if err != nil {
			t.Fatal(err)
		}
		_, doc = e.get(c, debtPath(d.ID)+"/edit", "Accept-Language", string(lang))
		edit := url.Values{}
		for _, f := range views.DebtFields {
			v, _ := shownValue(doc, f)
			edit.Set(f, v)
		}
		resp, doc = e.postForm(c, debtPath(d.ID), edit, "Accept-Language", string(lang))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: edit form's own values refused: %d %s", lang, resp.StatusCode, doc.Find(`[data-testid^=error-]`).Text())
		}
		after, _ := e.h.app.Debts.Debt(context.Background(), d.ID)
		if !after.Amount.Equal(d.Amount) || !after.DueDate.Equal(d.DueDate) || after.State != debts.DebtDelivered {
			t.Fatalf("%s: round trip changed the debt: %+v", lang, after)
		}
	}
}

// TestDebtFormLeavesUnlistedCodesToFinrota: outside the sandbox no list of
// agents, accounts or currencies exists; codes merely seen on synced debts
// must not make the form refuse a new dealer or another ISO currency.
// Finrota judges them, and its answer lands on the field.
func TestDebtFormLeavesUnlistedCodesToFinrota(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	// As a real Finrota would leave the mirror: codes seen, no list.
	e.st.DB().MustExec(`UPDATE debt_refs SET source = 'seen'`)
	e.sandbox.Finrota.AddAgent(finrotatest.Agent{Code: "NT-NEW-DEALER", Name: "Yeni Bayi", Active: true})
	e.sandbox.Finrota.AddCurrency("GBP")

	form := validDebtForm(e, "T-NEWDEALER")
	form.Set("agentErpCode", "NT-NEW-DEALER")
	form.Set("currencyId", "gbp")
	if resp, doc := e.postForm(c, "/debts", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a new dealer's first debt in GBP: %d %s", resp.StatusCode, doc.Find(`[data-testid^=error-]`).Text())
	}
	if d, _ := e.h.app.Debts.DebtByErpCode(ctx, "T-NEWDEALER"); d.State != debts.DebtDelivered || d.CurrencyID != "GBP" {
		t.Fatalf("debt %s %s", d.State, d.CurrencyID)
	}

	// An agent Finrota does not know: refused by Finrota, next to the field.
	form = validDebtForm(e, "T-NODEALER")
	form.Set("agentErpCode", "NT-NOBODY")
	resp, doc := e.postForm(c, "/debts", form, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "agentErpCode") != i18n.EN.T("debts.p.agent") {
		t.Fatalf("unknown agent: %d %q", resp.StatusCode, fieldError(doc, "agentErpCode"))
	}
	// The shape of a currency code is still checked here.
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		form = validDebtForm(e, "T-CUR-"+randomSuffix())
		form.Set("currencyId", "TL")
		resp, doc = e.postForm(c, "/debts", form, "Accept-Language", string(lang))
		if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "currencyId") != lang.T("debts.v.currency.format") {
			t.Fatalf("%s: currency TL: %d %q", lang, resp.StatusCode, fieldError(doc, "currencyId"))
		}
		if got, _ := shownValue(doc, "currencyId"); got != "TL" {
			t.Errorf("the form lost the currency: %q", got)
		}
	}
	// Without lists the overdue counts are an upper bound, and say so.
	_, doc = e.get(c, "/debts/overdue", "Accept-Language", "en")
	sum, _ := e.h.app.Debts.OverdueSummary(ctx, i18n.Today(e.now.Now()))
	if sum.Unknown == 0 || testID(doc, "overdue-upper-bound") != i18n.EN.T("debts.overdue.upperbound", sum.Unknown) {
		t.Errorf("upper-bound note %q (unknown %d)", testID(doc, "overdue-upper-bound"), sum.Unknown)
	}
	// The currency is free text offering the known codes.
	_, doc = e.get(c, "/debts/new")
	if doc.Find(`input[name=currencyId][list=currencies-list]`).Length() != 1 || doc.Find(`#currencies-list option[value=USD]`).Length() != 1 {
		t.Error("the currency field should be free text with the known codes offered")
	}
}
