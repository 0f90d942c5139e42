package handlers

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"kasa/debts"
	"kasa/eventually"
	"kasa/i18n"
	"kasa/providers/finrota"
	"kasa/store"
)

// TestDebtProviderDownThenBack: Finrota is down when the form is sent, so
// the debt stays pending (and its badge polls); once Finrota is back the
// outbox delivers it, exactly once.
func TestDebtProviderDownThenBack(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)

	e.sandbox.Finrota.Faults.Down()
	resp, _ := e.postForm(c, "/debts", validDebtForm(e, "T-FAULT-1"), "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create while down: status %d", resp.StatusCode)
	}
	d, err := e.h.app.Debts.DebtByErpCode(context.Background(), "T-FAULT-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != debts.DebtPending || d.LastErrorStatus != http.StatusServiceUnavailable {
		t.Fatalf("while down: state %s, last error %d", d.State, d.LastErrorStatus)
	}
	_, doc := e.get(c, debtPath(d.ID), "Accept-Language", "en")
	if got := testID(doc, "flash-info"); got != i18n.EN.T("debts.pending") {
		t.Errorf("flash %q", got)
	}
	status := doc.Find(`[data-testid=debt-status]`)
	if status.AttrOr("hx-get", "") != debtPath(d.ID)+"/state?full=1" || status.AttrOr("hx-trigger", "") != "every 2s" {
		t.Errorf("pending status block does not poll: %v", status.Nodes[0].Attr)
	}
	if got := testID(doc, "debt-retrying"); got != i18n.EN.T("debts.retrying")+": "+i18n.EN.T("debts.p.unavailable") {
		t.Errorf("retrying line %q", got)
	}
	_, frag := e.get(c, debtPath(d.ID)+"/state", "HX-Request", "true")
	if frag.Find(`[data-testid=debt-state]`).AttrOr("hx-get", "") == "" || frag.Find("html body nav").Length() != 0 {
		t.Error("the pending badge fragment should poll and be a fragment")
	}

	e.sandbox.Finrota.Faults.Reset()
	waitDebtState(t, e, d.ID, debts.DebtDelivered)
	n := 0
	for _, r := range e.sandbox.Finrota.Debts() {
		if r.ErpCode == "T-FAULT-1" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d records at Finrota, want exactly 1", n)
	}
	_, frag = e.get(c, debtPath(d.ID)+"/state", "HX-Request", "true")
	badge := frag.Find(`[data-testid=debt-state]`)
	if badge.AttrOr("data-state", "") != "delivered" || badge.AttrOr("hx-get", "") != "" {
		t.Errorf("delivered badge: state %q, still polling %q", badge.AttrOr("data-state", ""), badge.AttrOr("hx-get", ""))
	}
}

// TestDebtProviderRefusalsLandOnFields: what only Finrota can know (an ERP
// code used there but unknown here, a currency it does not define) comes
// back as a message next to the field, and the form keeps the values.
func TestDebtProviderRefusalsLandOnFields(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	client, err := e.conn.Finrota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := validDebtForm(e, "")
	for _, code := range []string{"T-ELSEWHERE-tr", "T-ELSEWHERE-en"} {
		_, err = client.Create(ctx, finrota.Debt{
			AgentErpCode: other.Get("agentErpCode"), CurrentAccountErpCode: other.Get("currentAccountErpCode"),
			Amount: mustDec("10"), DocumentNo: "SOMEONE-ELSE", DocumentType: "Fatura", CurrencyID: "TRY", ErpCode: code,
			DueDate: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), TransactionDate: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := e.h.app.Debts.PutDebtRefs(ctx, []debts.DebtRef{{Kind: debts.RefCurrency, Code: "GBP", Active: true}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, field, value, key string
	}{
		{"erp code taken at Finrota", "erpCode", "T-ELSEWHERE-", "debts.p.duplicate"},
		{"currency unknown at Finrota", "currencyId", "GBP", "debts.p.currency"},
	}
	for _, tc := range cases {
		for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
			t.Run(tc.name+"/"+string(lang), func(t *testing.T) {
				form := validDebtForm(e, "T-REFUSED-"+randomSuffix())
				value := tc.value
				if tc.field == "erpCode" {
					value += string(lang)
				}
				form.Set(tc.field, value)
				resp, doc := e.postForm(c, "/debts", form, "Accept-Language", string(lang))
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", resp.StatusCode)
				}
				if got, want := fieldError(doc, tc.field), lang.T(tc.key); got != want {
					t.Fatalf("error next to %s = %q, want %q", tc.field, got, want)
				}
				if got, ok := shownValue(doc, tc.field); !ok || got != value {
					t.Errorf("the form lost %s: %q", tc.field, got)
				}
				d, err := e.h.app.Debts.DebtByErpCode(ctx, form.Get("erpCode"))
				if err != nil || d.State != debts.DebtFailed {
					t.Fatalf("the refused debt must be kept as failed: %+v %v", d.State, err)
				}
				// The form now edits the kept debt: edit-and-retry.
				if got := doc.Find(`[data-testid=debt-form]`).AttrOr("action", ""); got != debtPath(d.ID) {
					t.Errorf("form action %q, want %q", got, debtPath(d.ID))
				}
			})
		}
	}
	if rec, _ := e.sandbox.Finrota.Debt("T-ELSEWHERE-en"); rec.DocumentNo != "SOMEONE-ELSE" {
		t.Fatalf("the other record at Finrota was changed: %+v", rec)
	}

	// Edit and retry: the failed debt gets a free code and is delivered.
	d, err := e.h.app.Debts.DebtByErpCode(ctx, "T-ELSEWHERE-en")
	if err != nil || d.State != debts.DebtFailed {
		t.Fatalf("failed debt: %v %v", d.State, err)
	}
	_, doc := e.get(c, debtPath(d.ID), "Accept-Language", "en")
	if doc.Find(`[data-testid=edit-retry]`).Length() != 1 || testID(doc, "debt-failure") == "" {
		t.Fatal("a failed debt's page must show the reason and an edit-and-retry link")
	}
	_, doc = e.get(c, debtPath(d.ID)+"/edit", "Accept-Language", "en")
	if fieldError(doc, "erpCode") != i18n.EN.T("debts.p.duplicate") {
		t.Errorf("edit page of the failed debt: erpCode error %q", fieldError(doc, "erpCode"))
	}
	form := validDebtForm(e, "T-FIXED")
	resp, _ := e.postForm(c, debtPath(d.ID), form)
	d, _ = e.h.app.Debts.Debt(ctx, d.ID)
	if resp.StatusCode != http.StatusSeeOther || d.State != debts.DebtDelivered || d.Op != debts.DebtOpCreate {
		t.Fatalf("edit and retry: %d, %s %s", resp.StatusCode, d.State, d.Op)
	}
	if rec, ok := e.sandbox.Finrota.Debt("T-FIXED"); !ok || rec.DocumentNo != form.Get("documentNo") {
		t.Fatalf("at Finrota after retry: %+v %v", rec, ok)
	}
}

// TestDebtRenameAndRoles: an operator renames a delivered debt's ERP code
// (an update at Finrota), the old code can never be used again, and a
// viewer can read but not change anything.
func TestDebtRenameAndRoles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	e.postForm(c, "/debts", validDebtForm(e, "T-OLD"))
	d, err := e.h.app.Debts.DebtByErpCode(ctx, "T-OLD")
	if err != nil || d.State != debts.DebtDelivered {
		t.Fatalf("create: %+v %v", d.State, err)
	}
	_, doc := e.get(c, debtPath(d.ID)+"/edit")
	if got, _ := shownValue(doc, "amount"); got != "1.550,00" {
		t.Errorf("edit form amount %q", got)
	}
	form := validDebtForm(e, "T-NEW")
	form.Set("paidAmount", "500")
	resp, _ := e.postForm(c, debtPath(d.ID), form, "Accept-Language", "en")
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || l != debtPath(d.ID) {
		t.Fatalf("rename: status %d to %q", resp.StatusCode, l)
	}
	d, _ = e.h.app.Debts.Debt(ctx, d.ID)
	if d.State != debts.DebtDelivered || d.ErpCode != "T-NEW" || *d.RemoteErpCode != "T-NEW" {
		t.Fatalf("after rename: %s %s %v", d.State, d.ErpCode, d.RemoteErpCode)
	}
	if _, ok := e.sandbox.Finrota.Debt("T-OLD"); ok {
		t.Error("Finrota still lists the old code")
	}
	if rec, ok := e.sandbox.Finrota.Debt("T-NEW"); !ok || !rec.PaidAmount.Equal(mustDec("500")) || rec.ID != *d.FinrotaID {
		t.Errorf("Finrota after rename: %+v", rec)
	}
	resp, doc = e.postForm(c, "/debts", validDebtForm(e, "T-OLD"), "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "erpCode") != i18n.EN.T("debts.v.erp.taken") {
		t.Fatalf("reusing the old code: %d %q", resp.StatusCode, fieldError(doc, "erpCode"))
	}

	v, _ := e.login(store.RoleViewer)
	for _, path := range []string{"/debts", debtPath(d.ID), "/debts/overdue"} {
		if resp, _ := e.get(v, path); resp.StatusCode != http.StatusOK {
			t.Errorf("viewer GET %s: %d", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/debts/new", debtPath(d.ID) + "/edit", "/debts/overdue/send"} {
		if resp, _ := e.get(v, path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/debts", debtPath(d.ID), debtPath(d.ID) + "/retry", "/debts/sync", "/debts/overdue/send", "/debts/overdue/daily"} {
		if resp, _ := e.postForm(v, path, validDebtForm(e, "T-VIEWER")); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if _, doc := e.get(v, "/debts"); doc.Find(`[data-testid=new-debt]`).Length() != 0 {
		t.Error("a viewer is offered the new-debt button")
	}
}

// TestDebtProviderRefusalsOfEveryKind: each kind of refusal Finrota can
// give a delivery is explained in the user's language, next to its field
// where it has one, when the failed debt's form is opened. Agent and
// account refusals come from the fake itself (the portal deactivated them
// after the sync); the others are recorded as the outbox records them.
func TestDebtProviderRefusalsOfEveryKind(t *testing.T) {
	t.Parallel()
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

	failed := func(t *testing.T, de debts.DebtError) debts.Debt {
		t.Helper()
		form := validDebtForm(e, "T-KIND-"+randomSuffix())
		// Finrota stays down until the refusal is recorded as the outbox
		// would; the job's later attempts then find the debt settled.
		e.sandbox.Finrota.Faults.Down()
		defer e.sandbox.Finrota.Faults.Reset()
		e.postForm(c, "/debts", form)
		d, err := e.h.app.Debts.DebtByErpCode(ctx, form.Get("erpCode"))
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := e.h.app.Debts.MarkDebtFailed(ctx, d.ID, d.Version, de); !ok || err != nil {
			t.Fatalf("mark failed: %v %v", ok, err)
		}
		return d
	}
	for _, tc := range []struct {
		name  string
		err   debts.DebtError
		field string // "" for the notice above the form
		want  func(l i18n.Lang) string
	}{
		{"field known", debts.DebtError{Status: 400, Message: "One or more validation errors occurred.",
			Fields: map[string][]string{"paidAmount": {"paidAmount cannot be greater than amount."}}}, "paidAmount",
			func(l i18n.Lang) string {
				return l.T("debts.v.paid.over") + " " + l.T("debts.p.detail", "paidAmount cannot be greater than amount.")
			}},
		{"field unknown wording", debts.DebtError{Status: 400, Message: "One or more validation errors occurred.",
			Fields: map[string][]string{"DocumentNo": {"Belge numarası biçimi geçersiz."}}}, "documentNo",
			func(l i18n.Lang) string {
				return l.T("debts.p.field.other") + " " + l.T("debts.p.detail", "Belge numarası biçimi geçersiz.")
			}},
		{"not found", debts.DebtError{Status: 404, Message: "Current account transaction not found."}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.notfound") }},
		{"credentials", debts.DebtError{Status: 401, Message: "The token has expired."}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.credentials") }},
		{"forbidden", debts.DebtError{Status: 403, Message: "Forbidden"}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.forbidden") }},
		{"gave up", debts.DebtError{Status: 503, Message: "Service Unavailable"}, "",
			func(l i18n.Lang) string { return l.T("debts.failed") + " " + l.T("debts.p.gaveup") }},
		{"not configured", debts.DebtError{Code: "not_configured", Message: "Finrota is not configured"}, "",
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

// TestDebtDeliveryOutlastingTheWaitIsShownPendingThenDelivered: when
// Finrota answers only after the form's short wait, the answer is the
// debt's page marked pending, and its badge then turns delivered by itself.
// The form's wait is a courtesy; nothing depends on the job finishing
// within it.
func TestDebtDeliveryOutlastingTheWaitIsShownPendingThenDelivered(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withShortJobWait)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)

	e.sandbox.Finrota.Faults.SetLatency(500 * time.Millisecond)
	resp, _ := e.postForm(c, "/debts", validDebtForm(e, "T-SLOW-1"), "Accept-Language", "en")
	loc, err := location(resp)
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("create: status %d, %v", resp.StatusCode, err)
	}
	d, err := e.h.app.Debts.DebtByErpCode(context.Background(), "T-SLOW-1")
	if err != nil || loc != debtPath(d.ID) {
		t.Fatalf("redirect %q for debt %d, %v", loc, d.ID, err)
	}
	_, doc := e.get(c, loc, "Accept-Language", "en")
	if got := testID(doc, "flash-info"); got != i18n.EN.T("debts.pending") {
		t.Errorf("flash %q, want the pending notice", got)
	}
	eventually.That(t, "the debt's badge to say delivered", func() error {
		_, frag := e.get(c, debtPath(d.ID)+"/state", "HX-Request", "true")
		if got := frag.Find(`[data-testid=debt-state]`).AttrOr("data-state", ""); got != debts.DebtDelivered {
			return fmt.Errorf("badge state %q", got)
		}
		return nil
	})
}
