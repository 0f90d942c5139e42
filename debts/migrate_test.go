package debts_test

import (
	"context"
	"testing"

	"kasa/debts"
	"kasa/migrations"
	"kasa/store"
)

// TestPendingIntentsMoveToRiver: an intent still pending when the debts
// moved to River (queued on the old runner, which no longer delivers) is
// queued again on River by the migration, with its request id, and
// delivered; the old job is gone and the debt names the River job.
func TestPendingIntentsMoveToRiver(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	db := e.st.DB()
	p, err := migrations.Provider(db.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 16); err != nil {
		t.Fatal(err)
	}
	in := e.input("MV-1")
	var oldJob, id int64
	noErr(t, db.QueryRow(`INSERT INTO jobs (kind, payload) VALUES ('debts.deliver', '{}') RETURNING id`).Scan(&oldJob))
	noErr(t, db.QueryRow(`INSERT INTO debts (erp_code, agent_erp_code, current_account_erp_code, amount, document_no, document_type,
		due_date, transaction_date, currency_id, request_id, job_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'rq-moved', $10)
		RETURNING id`, in.ErpCode, in.AgentErpCode, in.CurrentAccountErpCode, in.Amount, in.DocumentNo, in.DocumentType,
		in.DueDate, in.TransactionDate, in.CurrencyID, oldJob).Scan(&id))
	if _, err := p.UpTo(ctx, 17); err != nil {
		t.Fatal(err)
	}
	var left int
	noErr(t, db.Get(&left, `SELECT count(*) FROM jobs WHERE id = $1`, oldJob))
	if left != 0 {
		t.Error("the old runner's delivery job is still queued")
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	job := e.jobOf(t, id)
	e.start(t)
	if j := wait(t, e, job); j.State != stateDone {
		t.Fatalf("moved delivery: %+v", j)
	}
	d, err := e.svc.Debt(ctx, id)
	if err != nil || d.State != debts.DebtDelivered || e.records("MV-1") != 1 {
		t.Fatalf("after the move: %+v, %v, %d records", d, err, e.records("MV-1"))
	}
	calls, _, err := e.st.APICalls(ctx, store.APICallFilter{RequestID: "rq-moved", Operation: "create_debt"})
	if err != nil || len(calls) != 1 {
		t.Fatalf("%d create calls under the intent's request id, want 1 (%v)", len(calls), err)
	}
}
