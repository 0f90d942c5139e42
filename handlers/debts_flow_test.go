package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kasa/debts"
	"kasa/eventually"
	"kasa/store"
)

// syncDebtsNow runs a sync from the fake through the handler, so the
// mirror knows the portal's agents, accounts and currencies.
func syncDebtsNow(t *testing.T, e *testEnv, c *http.Client) {
	t.Helper()
	resp, _ := e.postForm(c, "/debts/sync", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync: status %d", resp.StatusCode)
	}
	// The request waits only briefly for the sync; on a busy machine it
	// may finish after the answer, so poll for it.
	eventually.That(t, "the debt sync to finish", func() error {
		s, err := e.h.app.Debts.LatestDebtSync(context.Background())
		if err != nil || s.State == "failed" {
			t.Fatalf("sync did not finish: %+v, %v", s, err)
		}
		if s.State != "done" {
			return fmt.Errorf("sync %+v", s)
		}
		return nil
	})
}

// validDebtForm is a form Finrota accepts, for the sandbox's seeded portal.
func validDebtForm(e *testEnv, erp string) url.Values {
	return url.Values{
		"agentErpCode": {e.sandbox.Finrota.ActiveAgentCodes()[0]}, "currentAccountErpCode": {e.sandbox.Finrota.ActiveCurrentAccountCodes()[0]},
		"amount": {"1.550,00"}, "paidAmount": {"0"}, "documentNo": {"FTR-2026-001"}, "documentType": {"Fatura"},
		"transactionDate": {"01.03.2026"}, "dueDate": {"2026-04-01"}, "currencyId": {"TRY"},
		"erpCode": {erp}, "description": {"Mart faturası"},
	}
}

// waitDebtState polls the mirror until the debt reaches state.
func waitDebtState(t *testing.T, e *testEnv, id int64, state string) debts.Debt {
	t.Helper()
	var d debts.Debt
	eventually.That(t, fmt.Sprintf("debt %d to be %s", id, state), func() error {
		var err error
		if d, err = e.h.app.Debts.Debt(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if d.State != state {
			return fmt.Errorf("debt %d: state %s (last error %d %s %s), want %s", id, d.State, d.LastErrorStatus, d.LastErrorCode, d.LastErrorMessage, state)
		}
		return nil
	})
	return d
}

func TestDebtCreateIsDeliveredAndShown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)

	resp, _ := e.postForm(c, "/debts", validDebtForm(e, "T-CREATE-1"), "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: status %d", resp.StatusCode)
	}
	loc, _ := location(resp)
	d, err := e.h.app.Debts.DebtByErpCode(context.Background(), "T-CREATE-1")
	if err != nil {
		t.Fatal(err)
	}
	if loc != debtPath(d.ID) || d.State != debts.DebtDelivered {
		t.Fatalf("redirect %q, state %s; want %s delivered", loc, d.State, debtPath(d.ID))
	}
	if !d.Amount.Equal(mustDec("1550")) || d.DueDate.Format("2006-01-02") != "2026-04-01" || d.TransactionDate.Format("2006-01-02") != "2026-03-01" {
		t.Fatalf("stored %s %s %s", d.Amount, d.DueDate, d.TransactionDate)
	}
	remote, ok := e.sandbox.Finrota.Debt("T-CREATE-1")
	if !ok || !remote.Amount.Equal(mustDec("1550")) || remote.DueDate != "2026-04-01" || remote.DocumentType != "Fatura" {
		t.Fatalf("at Finrota: %+v %v", remote, ok)
	}
	if d.FinrotaID == nil || *d.FinrotaID != remote.ID {
		t.Fatalf("finrota id %v, want %s", d.FinrotaID, remote.ID)
	}
	_, doc := e.get(c, loc, "Accept-Language", "en")
	if got := doc.Find(`[data-testid=debt-state]`).AttrOr("data-state", ""); got != "delivered" {
		t.Fatalf("detail shows state %q", got)
	}
	if testID(doc, "flash-success") != "The debt was recorded at Finrota." {
		t.Errorf("flash %q", testID(doc, "flash-success"))
	}
	if n := doc.Find(`[data-testid=delivery-call]`).Length(); n < 1 {
		t.Errorf("detail shows %d API calls for the delivery", n)
	}
	if !strings.Contains(doc.Find(`[data-testid=debt-history]`).Text(), "Delivered to Finrota") {
		t.Errorf("history: %q", doc.Find(`[data-testid=debt-history]`).Text())
	}
}
