package handlers

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kasa/i18n"
	"kasa/providers/finrota/finrotatest"
	"kasa/store"
	"kasa/views"
)

// TestDebtProviderRefusalsOfEveryKind: each kind of refusal Finrota can
// give a delivery is explained in the user's language, next to its field
// where it has one, when the failed debt's form is opened. Agent and
// account refusals come from the fake itself (the portal deactivated them
// after the sync); the others are recorded as the outbox records them.
func TestDebtProviderRefusalsOfEveryKind(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()

	// Deactivated at the portal after the sync: the form's list still says
	// active, so only Finrota's 404 can tell (one code per language: after
	// the 404 the mirror knows, and the form refuses the code itself).
	agents, accounts := e.sandbox.Finrota.ActiveAgentCodes(), e.sandbox.Finrota.ActiveCurrentAccountCodes()
	for i, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		agent, account := agents[1+i], accounts[1+i]
		e.sandbox.Finrota.SetAgentActive(agent, false)
		e.sandbox.Finrota.SetCurrentAccountActive(account, false)
		for _, tc := range []struct{ field, value, key, again string }{
			{"agentErpCode", agent, "debts.p.agent", "debts.v.agent.inactive"},
			{"currentAccountErpCode", account, "debts.p.account", "debts.v.account.inactive"},
		} {
			form := validDebtForm(e, "T-REF-"+randomSuffix())
			form.Set(tc.field, tc.value)
			resp, doc := e.postForm(c, "/debts", form, "Accept-Language", string(lang))
			if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, tc.field) != lang.T(tc.key) {
				t.Fatalf("%s %s: %d, error %q, want %q", tc.field, lang, resp.StatusCode, fieldError(doc, tc.field), lang.T(tc.key))
			}
			// What Finrota said is now known: the next form is refused here.
			form.Set("erpCode", "T-REF-"+randomSuffix())
			_, doc = e.postForm(c, "/debts", form, "Accept-Language", string(lang))
			if got := fieldError(doc, tc.field); got != lang.T(tc.again) {
				t.Fatalf("%s %s after Finrota's 404: %q", tc.field, lang, got)
			}
		}
	}

	failed := func(t *testing.T, de store.DebtError) store.Debt {
		t.Helper()
		form := validDebtForm(e, "T-KIND-"+randomSuffix())
		// Finrota stays down until the refusal is recorded as the outbox
		// would; the job's later attempts then find the debt settled.
		e.sandbox.Finrota.Faults.Down()
		defer e.sandbox.Finrota.Faults.Reset()
		e.postForm(c, "/debts", form)
		d, err := e.st.DebtByErpCode(ctx, form.Get("erpCode"))
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := e.st.MarkDebtFailed(ctx, d.ID, d.Version, de); !ok || err != nil {
			t.Fatalf("mark failed: %v %v", ok, err)
		}
		return d
	}
	for _, tc := range []struct {
		name  string
		err   store.DebtError
		field string // "" for the notice above the form
		want  func(l i18n.Lang) string
	}{
		{"field known", store.DebtError{Status: 400, Message: "One or more validation errors occurred.",
			Fields: map[string][]string{"paidAmount": {"paidAmount cannot be greater than amount."}}}, "paidAmount",
			func(l i18n.Lang) string {
				return l.T("debts.v.paid.over") + " " + l.T("debts.p.detail", "paidAmount cannot be greater than amount.")
			}},
		{"field unknown wording", store.DebtError{Status: 400, Message: "One or more validation errors occurred.",
			Fields: map[string][]string{"DocumentNo": {"Belge numarası biçimi geçersiz."}}}, "documentNo",
			func(l i18n.Lang) string {
				return l.T("debts.p.field.other") + " " + l.T("debts.p.detail", "Belge numarası biçimi geçersiz.")
			}},
		{"not found", store.DebtError{Status: 404, Message: "Current account transaction not found."}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.notfound") }},
		{"credentials", store.DebtError{Status: 401, Message: "The token has expired."}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.credentials") }},
		{"forbidden", store.DebtError{Status: 403, Message: "Forbidden"}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.forbidden") }},
		{"gave up", store.DebtError{Status: 503, Message: "Service Unavailable"}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.gaveup") }},
		{"not configured", store.DebtError{Code: "not_configured", Message: "Finrota is not configured"}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.notconfigured") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := failed(t, tc.err)
			for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
				_, doc := e.get(c, debtPath(d.ID)+"/edit", "Accept-Language", string(lang))
				var got string
				if tc.field != "" {
					got = fieldError(doc, tc.field)
				} else {
					got = testID(doc, "form-notice")
					// The edit page shows the reason alone; awaitDelivery
					// prefixes debts.failed. Accept the reason either way.
					if want := tc.want(lang); got != want && lang.T("debts.failed")+" "+got != want {
						t.Fatalf("%s: notice %q, want %q", lang, got, want)
					}
					continue
				}
				if want := tc.want(lang); got != want {
					t.Fatalf("%s: %s shows %q, want %q", lang, tc.field, got, want)
				}
			}
		})
	}
}

// TestDebtFormLeavesUnlistedCodesToFinrota: outside the sandbox no list of
// agents, accounts or currencies exists; codes merely seen on synced debts
// must not make the form refuse a new dealer or another ISO currency.
// Finrota judges them, and its answer lands on the field.
func TestDebtFormLeavesUnlistedCodesToFinrota(t *testing.T) {
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
	if d, _ := e.st.DebtByErpCode(ctx, "T-NEWDEALER"); d.State != store.DebtDelivered || d.CurrencyID != "GBP" {
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
	sum, _ := e.st.OverdueSummary(ctx, i18n.Today(e.now.Now()))
	if sum.Unknown == 0 || testID(doc, "overdue-upper-bound") != i18n.EN.T("debts.overdue.upperbound", sum.Unknown) {
		t.Errorf("upper-bound note %q (unknown %d)", testID(doc, "overdue-upper-bound"), sum.Unknown)
	}
	// The currency is free text offering the known codes.
	_, doc = e.get(c, "/debts/new")
	if doc.Find(`input[name=currencyId][list=currencies-list]`).Length() != 1 || doc.Find(`#currencies-list option[value=USD]`).Length() != 1 {
		t.Error("the currency field should be free text with the known codes offered")
	}
}

// TestDebtOverdueAfterAForcedSend: after a forced send, a normal send the
// same day shows the forced one on the confirmation and needs force again.
func TestDebtOverdueAfterAForcedSend(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	resp, _ := e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}, "force": {"1"}})
	first := len(e.sandbox.Finrota.Notifications())
	if resp.StatusCode != http.StatusSeeOther || first == 0 {
		t.Fatalf("forced send: %d, %d notified", resp.StatusCode, first)
	}
	_, doc := e.get(c, "/debts/overdue/send", "Accept-Language", "en")
	if testID(doc, "notify-already") == "" || doc.Find(`[data-testid=notify-force]`).Length() != 1 {
		t.Fatal("the confirmation does not show the forced send of today")
	}
	resp, doc = e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusConflict || testID(doc, "notify-error") != i18n.EN.T("debts.notify.duplicate") {
		t.Fatalf("normal send after a forced one: %d %q", resp.StatusCode, testID(doc, "notify-error"))
	}
	if len(e.sandbox.Finrota.Notifications()) != first {
		t.Fatal("a second send went out the same day without force")
	}
}

// TestDebtSyncFailureIsTranslated: a failed sync is explained in the
// user's language; no error text (which may name hosts) reaches the page.
func TestDebtSyncFailureIsTranslated(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	e.sandbox.Finrota.Faults.FailNext(-1, http.StatusForbidden)
	defer e.sandbox.Finrota.Faults.Reset()
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		e.st.DB().MustExec(`UPDATE debt_syncs SET state = 'failed' WHERE state = 'running'`)
		resp, _ := e.postForm(c, "/debts/sync", url.Values{}, "Accept-Language", string(lang))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sync: %d", resp.StatusCode)
		}
		_, doc := e.get(c, "/debts", "Accept-Language", string(lang))
		want := lang.T("debts.sync.failed", lang.T("debts.sync.err.forbidden"))
		if got := testID(doc, "flash-error"); got != want {
			t.Fatalf("%s: flash %q, want %q", lang, got, want)
		}
	}
	// A row from before reason codes, holding an error's raw text.
	if got := views.SyncFailure(i18n.EN, "finrota: list debts: dial tcp 10.1.2.3:8443: connection refused"); got != i18n.EN.T("debts.sync.err.internal") {
		t.Fatalf("raw text shown: %q", got)
	}
}

// TestDebtHistoryAndExportGaps: an edit records old → new for every field
// that changed, and every text cell of the CSV is guarded against formulas.
func TestDebtHistoryAndExportGaps(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	e.postForm(c, "/debts", validDebtForm(e, "T-HIST"))
	d, err := e.st.DebtByErpCode(ctx, "T-HIST")
	if err != nil || d.State != store.DebtDelivered {
		t.Fatalf("create: %v %v", d.State, err)
	}
	form := validDebtForm(e, "T-HIST")
	form.Set("agentErpCode", e.sandbox.Finrota.ActiveAgentCodes()[2])
	form.Set("documentNo", "FTR-NEW")
	form.Set("documentType", "Senet")
	form.Set("transactionDate", "02.03.2026")
	form.Set("description", "yeni")
	e.postForm(c, debtPath(d.ID), form)
	_, doc := e.get(c, debtPath(d.ID), "Accept-Language", "en")
	edit := doc.Find(`[data-testid=history-row][data-action="debt.edit"] [data-testid=history-details]`).Text()
	for _, want := range []string{
		"Agent code: " + d.AgentErpCode + " → " + form.Get("agentErpCode"),
		"Document no: FTR-2026-001 → FTR-NEW", "Document type: Fatura → Senet",
		"Transaction date: 2026-03-01 → 2026-03-02", "Description: Mart faturası → yeni",
	} {
		if !strings.Contains(edit, want) {
			t.Errorf("history %q lacks %q", edit, want)
		}
	}
	if strings.Contains(edit, "Amount") {
		t.Errorf("unchanged fields listed: %q", edit)
	}

	e.st.DB().MustExec(`UPDATE debts SET currency_id = '=1+2', finrota_id = '@SUM(A1)' WHERE id = $1`, d.ID)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/debts/export.csv?q=T-HIST&decimal=dot", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv %v %q", err, body)
	}
	if rows[1][5] != "'=1+2" || rows[1][13] != "'@SUM(A1)" {
		t.Errorf("unguarded cells: currency %q, finrota id %q", rows[1][5], rows[1][13])
	}
}
