package jobs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"kasa/connect"
	"kasa/i18n"
	"kasa/jobs"
	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/store"
	"kasa/views"
)

// restarted returns the environment after the sandbox restarted: the same
// database, a fresh Finrota fake (seeded as the first was) and a connector
// to it. The fake keeps nothing across a restart; the mirror keeps all.
func (e *debtEnv) restarted(t *testing.T) *debtEnv {
	t.Helper()
	sb, err := connect.StartSandbox()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &apicall.Transport{}}
	return &debtEnv{st: e.st, sb: sb, conn: connect.New(e.st, hc, sb, "")}
}

// TestDebtDeliveryAfterAFakeRestart: the first debt saved after the
// sandbox's Finrota restarted is delivered (the fake's ids do not repeat),
// and a delivery whose Finrota record the mirror already links to another
// debt fails at once with an explanation instead of staying pending.
func TestDebtDeliveryAfterAFakeRestart(t *testing.T) {
	ctx := context.Background()
	before := newDebtEnv(t)
	first, job := before.create(t, before.input("RS-1"))
	_, stop := start(t, before.st.DB(), func() map[string]jobs.HandlerFunc { hs, _ := jobs.DebtJobs(before.st, before.conn); return hs }(), jobs.Options{})
	wait(t, before.st.DB(), job)
	stop()
	first, _ = before.st.Debt(ctx, first.ID)
	if first.State != store.DebtDelivered || first.FinrotaID == nil {
		t.Fatalf("before the restart: %s %v", first.State, first.FinrotaID)
	}

	after := before.restarted(t)
	after.start(t)
	second, job := after.create(t, after.input("RS-2"))
	if j := wait(t, after.st.DB(), job); j.State != jobs.StateDone {
		t.Fatalf("delivery after the restart: job %s, %s", j.State, j.LastError)
	}
	second, _ = after.st.Debt(ctx, second.ID)
	if second.State != store.DebtDelivered || second.FinrotaID == nil || *second.FinrotaID == *first.FinrotaID {
		t.Fatalf("after the restart: %s, id %v (the first debt's is %s)", second.State, second.FinrotaID, *first.FinrotaID)
	}

	// Finrota holds RS-3 (a lost reply), but the mirror links that record
	// to RS-1: the read-back cannot record it, and no retry can.
	in := after.input("RS-3")
	client, _ := after.conn.Finrota(ctx)
	if _, err := client.Create(ctx, finrota.Debt{AgentErpCode: in.AgentErpCode, CurrentAccountErpCode: in.CurrentAccountErpCode,
		Amount: in.Amount, DocumentNo: in.DocumentNo, DocumentType: in.DocumentType, CurrencyID: in.CurrencyID, ErpCode: in.ErpCode,
		DueDate: in.DueDate, TransactionDate: in.TransactionDate}); err != nil {
		t.Fatal(err)
	}
	remote, _ := after.sb.Finrota.Debt("RS-3")
	exec(t, after.st.DB(), `UPDATE debts SET finrota_id = $1 WHERE id = $2`, remote.ID, first.ID)
	third, job := after.create(t, in)
	j := wait(t, after.st.DB(), job)
	third, _ = after.st.Debt(ctx, third.ID)
	if j.State != jobs.StateFailed || j.Attempts != 1 || third.State != store.DebtFailed || third.LastErrorCode != jobs.DebtFailMirrorConflict {
		t.Fatalf("unresolvable conflict: job %s after %d attempts, debt %s %q", j.State, j.Attempts, third.State, third.LastErrorCode)
	}
	for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
		_, msg := views.DebtProviderErrors(l, third)
		if msg != l.T("debts.p.mirrorconflict", remote.ID, "RS-1") {
			t.Errorf("%s: explanation %q", l, msg)
		}
	}
	if !strings.Contains(third.LastErrorMessage, "RS-1") {
		t.Errorf("recorded reason %q does not name the other debt", third.LastErrorMessage)
	}
}
