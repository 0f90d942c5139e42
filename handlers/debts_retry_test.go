package handlers

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"kasa/debts"
	"kasa/store"
)

// TestDebtRetryOfAFailedDebtDelivers: Finrota refuses a debt once; the
// debt's page offers the retry, which sends the same data as a new intent
// (a new request id, audited) and lands it, exactly once.
func TestDebtRetryOfAFailedDebtDelivers(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	e.sandbox.Finrota.Faults.FailNext(1, http.StatusBadRequest)
	e.postForm(c, "/debts", validDebtForm(e, "T-RETRY-1"))
	d, err := e.h.app.Debts.DebtByErpCode(ctx, "T-RETRY-1")
	if err != nil {
		t.Fatal(err)
	}
	failed := waitDebtState(t, e, d.ID, debts.DebtFailed)
	_, doc := e.get(c, debtPath(d.ID), "Accept-Language", "en")
	if doc.Find(`[data-testid=retry]`).Length() != 1 {
		t.Fatal("a failed debt's page offers no retry")
	}

	resp, _ := e.postForm(c, debtPath(d.ID)+"/retry", url.Values{}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: status %d", resp.StatusCode)
	}
	got := waitDebtState(t, e, d.ID, debts.DebtDelivered)
	if got.RequestID == failed.RequestID || got.Version <= failed.Version || got.FinrotaID == nil {
		t.Errorf("retried intent: request id %s (was %s), version %d (was %d), finrota id %v",
			got.RequestID, failed.RequestID, got.Version, failed.Version, got.FinrotaID)
	}
	n := 0
	for _, r := range e.sandbox.Finrota.Debts() {
		if r.ErpCode == "T-RETRY-1" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d records at Finrota, want exactly 1", n)
	}
	trail, err := e.st.AuditTrail(ctx, debts.DebtSubject(d.ID), 10)
	if err != nil {
		t.Fatal(err)
	}
	retried := false
	for _, a := range trail {
		retried = retried || a.Action == "debt.retry"
	}
	if !retried {
		t.Errorf("no debt.retry in the history: %+v", trail)
	}
	_, doc = e.get(c, debtPath(d.ID), "Accept-Language", "en")
	if doc.Find(`[data-testid=retry]`).Length() != 0 {
		t.Error("a delivered debt still offers the retry")
	}
}
