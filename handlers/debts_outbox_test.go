package handlers

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"kasa/eventually"
	"kasa/i18n"
	"kasa/providers/finrota"
	"kasa/store"
)

// TestDebtProviderDownThenBack: Finrota is down when the form is sent, so
// the debt stays pending (and its badge polls); once Finrota is back the
// outbox delivers it, exactly once.
func TestDebtProviderDownThenBack(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)

	e.sandbox.Finrota.Faults.Down()
	resp, _ := e.postForm(c, "/debts", validDebtForm(e, "T-FAULT-1"), "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create while down: status %d", resp.StatusCode)
	}
	d, err := e.st.DebtByErpCode(context.Background(), "T-FAULT-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != store.DebtPending || d.LastErrorStatus != http.StatusServiceUnavailable {
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
	waitDebtState(t, e, d.ID, store.DebtDelivered)
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
	if err := e.st.PutDebtRefs(ctx, []store.DebtRef{{Kind: store.RefCurrency, Code: "GBP", Active: true}}); err != nil {
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
				d, err := e.st.DebtByErpCode(ctx, form.Get("erpCode"))
				if err != nil || d.State != store.DebtFailed {
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
	d, err := e.st.DebtByErpCode(ctx, "T-ELSEWHERE-en")
	if err != nil || d.State != store.DebtFailed {
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
	d, _ = e.st.Debt(ctx, d.ID)
	if resp.StatusCode != http.StatusSeeOther || d.State != store.DebtDelivered || d.Op != store.DebtOpCreate {
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
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	e.postForm(c, "/debts", validDebtForm(e, "T-OLD"))
	d, err := e.st.DebtByErpCode(ctx, "T-OLD")
	if err != nil || d.State != store.DebtDelivered {
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
	d, _ = e.st.Debt(ctx, d.ID)
	if d.State != store.DebtDelivered || d.ErpCode != "T-NEW" || *d.RemoteErpCode != "T-NEW" {
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
	d, err := e.st.DebtByErpCode(context.Background(), "T-SLOW-1")
	if err != nil || loc != debtPath(d.ID) {
		t.Fatalf("redirect %q for debt %d, %v", loc, d.ID, err)
	}
	_, doc := e.get(c, loc, "Accept-Language", "en")
	if got := testID(doc, "flash-info"); got != i18n.EN.T("debts.pending") {
		t.Errorf("flash %q, want the pending notice", got)
	}
	eventually.That(t, "the debt's badge to say delivered", func() error {
		_, frag := e.get(c, debtPath(d.ID)+"/state", "HX-Request", "true")
		if got := frag.Find(`[data-testid=debt-state]`).AttrOr("data-state", ""); got != store.DebtDelivered {
			return fmt.Errorf("badge state %q", got)
		}
		return nil
	})
}
