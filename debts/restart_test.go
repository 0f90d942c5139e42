package debts_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"kasa/connect"
	"kasa/debts"
	"kasa/i18n"
	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/sandbox"
	"kasa/views"
)

// restarted returns the environment after the sandbox restarted: the same
// database, a fresh Finrota fake (seeded as the first was) and a connector
// to it. The fake keeps nothing across a restart; the mirror keeps all.
func (e *debtEnv) restarted(t *testing.T) *debtEnv {
	t.Helper()
	sb, err := sandbox.Start(context.Background(), e.st, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &apicall.Transport{}}
	after := &debtEnv{url: e.url, st: e.st, sb: sb, conn: connect.New(e.st, hc, ""), now: e.now}
	after.build(t)
	return after
}

// TestDebtDeliveryAfterAFakeRestart: the first debt saved after the
// sandbox's Finrota restarted is delivered (the fake's ids do not repeat),
// and a delivery whose Finrota record the mirror already links to another
// debt fails at once with an explanation instead of staying pending.
func TestDebtDeliveryAfterAFakeRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	before := newDebtEnv(t)
	first, job := before.create(t, before.input("RS-1"))
	stop := before.start(t)
	wait(t, before, job)
	stop()
	first, _ = before.svc.Debt(ctx, first.ID)
	if first.State != debts.DebtDelivered || first.FinrotaID == nil {
		t.Fatalf("before the restart: %s %v", first.State, first.FinrotaID)
	}

	after := before.restarted(t)
	after.start(t)
	second, job := after.create(t, after.input("RS-2"))
	if j := wait(t, after, job); j.State != stateDone {
		t.Fatalf("delivery after the restart: job %s, %s", j.State, j.LastError)
	}
	second, _ = after.svc.Debt(ctx, second.ID)
	if second.State != debts.DebtDelivered || second.FinrotaID == nil || *second.FinrotaID == *first.FinrotaID {
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
	j := wait(t, after, job)
	third, _ = after.svc.Debt(ctx, third.ID)
	if j.State != stateFailed || j.Attempts != 1 || third.State != debts.DebtFailed || third.LastErrorCode != debts.FailMirrorConflict {
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

// TestDebtDeliveryTheMirrorCannotRecordFails: Finrota accepts a debt but
// the mirror refuses to record it, by a rule of its own (failed at once,
// named) or by an error on every attempt (failed after the last one): the
// debt never stays pending with no job left to settle it.
func TestDebtDeliveryTheMirrorCannotRecordFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newDebtEnv(t)
	exec(t, e.st.DB(), `ALTER TABLE debts ADD CONSTRAINT test_refuse_rule CHECK (state <> 'delivered' OR erp_code <> 'MR-RULE')`)
	exec(t, e.st.DB(), `CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'refused for the test'; END $$`)
	exec(t, e.st.DB(), `CREATE TRIGGER test_refuse BEFORE UPDATE ON debts FOR EACH ROW
		WHEN (NEW.erp_code = 'MR-ERROR' AND NEW.state = 'delivered') EXECUTE FUNCTION test_refuse()`)
	e.start(t)

	rule, job := e.create(t, e.input("MR-RULE"))
	j := wait(t, e, job)
	rule, _ = e.svc.Debt(ctx, rule.ID)
	if j.State != stateFailed || j.Attempts != 1 || rule.State != debts.DebtFailed || rule.LastErrorCode != debts.FailMirrorRule {
		t.Fatalf("mirror rule: job %s after %d attempts, debt %s %q", j.State, j.Attempts, rule.State, rule.LastErrorCode)
	}
	if _, msg := views.DebtProviderErrors(i18n.EN, rule); msg != i18n.EN.T("debts.p.mirrorrule", "test_refuse_rule") {
		t.Errorf("mirror rule explained as %q", msg)
	}

	broken, job := e.create(t, e.input("MR-ERROR"))
	j = wait(t, e, job)
	broken, _ = e.svc.Debt(ctx, broken.ID)
	if j.State != stateFailed || j.Attempts != j.MaxAttempts || broken.State != debts.DebtFailed || broken.LastErrorCode != debts.FailInternal {
		t.Fatalf("error on every attempt: job %s after %d of %d attempts, debt %s %q", j.State, j.Attempts, j.MaxAttempts, broken.State, broken.LastErrorCode)
	}
	if _, msg := views.DebtProviderErrors(i18n.TR, broken); msg != i18n.TR.T("debts.p.internal") {
		t.Errorf("internal failure explained as %q", msg)
	}
}
