package debts_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"kasa/debts"
	"kasa/providers/finrota"
	"kasa/store"
	"kasa/tz"
)

// sync starts a person's sync and queues it, as the handler does.
func (e *debtEnv) sync(t *testing.T) (int64, int64) {
	t.Helper()
	syncID, job, err := e.svc.StartSync(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return syncID, job
}

// edit changes a debt and queues the delivery, as the form does.
func (e *debtEnv) edit(t *testing.T, id int64, in debts.DebtInput) int64 {
	t.Helper()
	if _, err := e.svc.Edit(context.Background(), id, in, 0); err != nil {
		t.Fatal(err)
	}
	return e.jobOf(t, id)
}

func (e *debtEnv) active() int {
	n := 0
	for _, d := range e.sb.Finrota.Debts() {
		if d.IsActive {
			n++
		}
	}
	return n
}

// warm fetches the token, so faults injected next meet the call itself.
func (e *debtEnv) warm(t *testing.T) {
	t.Helper()
	client, err := e.conn.Finrota(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetByErpCode(context.Background(), "J-NONE"); !finrota.IsNotFound(err) {
		t.Fatal(err)
	}
}

// TestDebtNeverTakesSomeoneElsesRecord is the reviewer's sequence: another
// party's record holds the code of our create (409); a sync runs; the user
// renames the debt (delivered), then edits it again. The other party's
// record must stay untouched, ours must be updated, and syncs keep working.
func TestDebtNeverTakesSomeoneElsesRecord(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	in := e.input("T-ELSE-2")
	client, _ := e.conn.Finrota(ctx)
	if _, err := client.Create(ctx, finrota.Debt{AgentErpCode: in.AgentErpCode, CurrentAccountErpCode: in.CurrentAccountErpCode,
		Amount: decimal.NewFromInt(10), DocumentNo: "SOMEONE-ELSE", DocumentType: "Fatura", CurrencyID: "TRY", ErpCode: "T-ELSE-2",
		DueDate: in.DueDate, TransactionDate: in.TransactionDate}); err != nil {
		t.Fatal(err)
	}
	d, job := e.create(t, in)
	e.start(t)
	if j := wait(t, e, job); j.State != stateFailed {
		t.Fatalf("create under someone else's code: %+v", j)
	}
	_, sj := e.sync(t)
	if j := wait(t, e, sj); j.State != stateDone {
		t.Fatalf("sync: %+v", j)
	}
	if got, _ := e.svc.Debt(ctx, d.ID); got.FinrotaID != nil {
		t.Fatalf("the sync gave our failed debt the other record's id %s", *got.FinrotaID)
	}
	in.ErpCode = "T-MINE-2"
	if j := wait(t, e, e.edit(t, d.ID, in)); j.State != stateDone {
		t.Fatalf("edit and retry: %+v", j)
	}
	mine2, _ := e.sb.Finrota.Debt("T-MINE-2")
	if got, _ := e.svc.Debt(ctx, d.ID); got.State != debts.DebtDelivered || got.FinrotaID == nil || *got.FinrotaID != mine2.ID {
		t.Fatalf("after the rename: %s, id %v (ours is %s)", got.State, got.FinrotaID, mine2.ID)
	}
	in.ErpCode, in.Amount = "T-MINE-3", decimal.RequireFromString("123.45")
	if j := wait(t, e, e.edit(t, d.ID, in)); j.State != stateDone {
		t.Fatalf("second edit: %+v", j)
	}
	other, ok := e.sb.Finrota.Debt("T-ELSE-2")
	if !ok || other.DocumentNo != "SOMEONE-ELSE" || !other.Amount.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("the other party's record was changed: %+v %v", other, ok)
	}
	if got, ok := e.sb.Finrota.Debt("T-MINE-3"); !ok || got.ID != mine2.ID || !got.Amount.Equal(in.Amount) {
		t.Fatalf("our record: %+v %v", got, ok)
	}
	// Syncs go on: the old code is still claimed by our debt, and the other
	// record now gets a row of its own.
	for range 2 {
		s, sj := e.sync(t)
		if j := wait(t, e, sj); j.State != stateDone {
			t.Fatalf("sync after the rename: %+v", j)
		}
		if got, _ := e.svc.DebtSyncByID(ctx, s); got.State != "done" {
			t.Fatalf("sync row %+v", got)
		}
	}
	row, err := e.svc.DebtByErpCode(ctx, "T-ELSE-2")
	if err != nil || row.ID == d.ID || *row.FinrotaID != other.ID {
		t.Fatalf("the other record in the mirror: %+v %v", row, err)
	}
}

// TestDebtSyncResumesAtItsNextPage: a retried sync does not read the pages
// it already has.
func TestDebtSyncResumesAtItsNextPage(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	syncID, job := e.sync(t)
	if err := e.svc.DebtSyncProgress(ctx, syncID, 3, 200, 0); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	if j := wait(t, e, job); j.State != stateDone {
		t.Fatalf("job %+v", j)
	}
	s, _ := e.svc.DebtSyncByID(ctx, syncID)
	var n int
	noErr(t, e.st.DB().Get(&n, `SELECT count(*) FROM debts`))
	if s.State != "done" || s.Items != e.active() || n != e.active()-200 {
		t.Fatalf("sync %+v; mirror has %d, want only the %d of page 3", s, n, e.active()-200)
	}
	calls, _, _ := e.st.APICalls(ctx, store.APICallFilter{Operation: "list_debts"})
	if len(calls) != 1 {
		t.Fatalf("%d list calls, want 1 (page 3)", len(calls))
	}
}

// TestDebtSyncThrottledIsRetried: a 429 the client's own waits do not
// outlast is retried by the job after Retry-After; the sync completes.
func TestDebtSyncThrottledIsRetried(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	e.warm(t)
	e.sb.Finrota.Faults.FailNext(4, http.StatusTooManyRequests) // the first read and the client's 3 retries
	syncID, job := e.sync(t)
	e.start(t)
	j := wait(t, e, job)
	s, _ := e.svc.DebtSyncByID(ctx, syncID)
	if j.State != stateDone || j.Attempts != 2 || s.State != "done" || s.Items != e.active() {
		t.Fatalf("job %+v, sync %+v", j, s)
	}
}

// TestScheduledDebtSyncRetryResumesItsSync: the schedule's job has no sync
// id; its retry must resume the sync its first attempt started, not find it
// "running" and give up.
func TestScheduledDebtSyncRetryResumesItsSync(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	e.warm(t)
	e.sb.Finrota.Faults.FailNext(1, http.StatusServiceUnavailable)
	res, err := e.ins.Insert(ctx, debts.SyncArgs{}, nil)
	noErr(t, err)
	job := res.Job.ID
	e.start(t)
	if j := wait(t, e, job); j.State != stateDone || j.Attempts != 2 {
		t.Fatalf("job %+v", j)
	}
	s, err := e.svc.LatestDebtSync(ctx)
	var syncs int
	noErr(t, e.st.DB().Get(&syncs, `SELECT count(*) FROM debt_syncs`))
	if err != nil || s.State != "done" || s.Items != e.active() || syncs != 1 {
		t.Fatalf("sync %+v (%d syncs), want one done with %d items", s, syncs, e.active())
	}
	// A person's sync can start now.
	if _, j := e.sync(t); wait(t, e, j).State != stateDone {
		t.Fatal("manual sync after the scheduled one")
	}
}

// TestDebtSyncFailureIsMarkedWithAReason: when attempts run out the sync is
// marked failed with a reason code, never the error's text.
func TestDebtSyncFailureIsMarkedWithAReason(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	e.warm(t)
	e.sb.Finrota.Faults.DropConnections(true)
	var syncID, job int64
	noErr(t, e.st.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if syncID, err = debts.StartDebtSync(ctx, tx, 0); err != nil {
			return err
		}
		res, err := e.ins.InsertTx(ctx, tx.Tx, debts.SyncArgs{SyncID: syncID}, &river.InsertOpts{MaxAttempts: 2})
		if err != nil {
			return err
		}
		job = res.Job.ID
		_, err = tx.ExecContext(ctx, `UPDATE debt_syncs SET job_id = $2 WHERE id = $1`, syncID, job)
		return err
	}))
	e.start(t)
	if j := wait(t, e, job); j.State != stateFailed || j.Attempts != 2 {
		t.Fatalf("job %+v", j)
	}
	s, _ := e.svc.DebtSyncByID(ctx, syncID)
	if s.State != "failed" || s.Error != debts.SyncFailUnreachable {
		t.Fatalf("sync %+v", s)
	}
	for _, c := range []struct {
		err  error
		code string
	}{
		{errors.New("dial tcp 10.0.0.7:5432: connection refused"), debts.SyncFailInternal},
		{&finrota.Error{Status: 401}, debts.SyncFailCredentials},
		{&finrota.Error{Status: 403}, debts.SyncFailForbidden},
		{&finrota.Error{Status: 429}, debts.SyncFailThrottled},
		{&finrota.Error{Status: 400}, debts.SyncFailRefused},
		{&finrota.Error{Status: 503}, debts.SyncFailUnavailable},
		{&finrota.Error{Status: 200, Code: finrota.CodeMalformed}, debts.SyncFailMalformed},
	} {
		if got := debts.SyncFailureCode(c.err); got != c.code {
			t.Errorf("%v: %s, want %s", c.err, got, c.code)
		}
	}
}

// TestDebtSyncMarksUnlistedDebtsInactive: a delivered debt Finrota no
// longer lists (soft-deleted) turns inactive, noted in its history.
func TestDebtSyncMarksUnlistedDebtsInactive(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	e.start(t)
	_, job := e.sync(t)
	wait(t, e, job)
	gone := e.sb.Finrota.Debts()[0].ErpCode
	e.sb.Finrota.SetDebtActive(gone, false)
	_, job = e.sync(t)
	if j := wait(t, e, job); j.State != stateDone {
		t.Fatalf("job %+v", j)
	}
	d, _ := e.svc.DebtByErpCode(ctx, gone)
	other, _ := e.svc.DebtByErpCode(ctx, e.sb.Finrota.Debts()[1].ErpCode)
	if d.IsActive || !other.IsActive {
		t.Fatalf("unlisted %s active %v; listed one active %v", gone, d.IsActive, other.IsActive)
	}
	trail, _ := e.st.AuditTrail(ctx, debts.DebtSubject(d.ID), 5)
	if len(trail) != 1 || trail[0].Action != "debt.synced" {
		t.Fatalf("history %+v", trail)
	}
}

// TestDebtNotificationIsSentAtMostOnce: an attempt that finds the send
// already under way (its instance died mid-call) does not call again, and a
// call that got no answer is not retried: both are "unknown" for a person.
// A refusal that means "not processed" (503) is retried and sent once. A
// normal send after a forced one the same day is refused.
func TestDebtNotificationIsSentAtMostOnce(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	day := tz.Day(time.Now())
	e.now = func() time.Time { return day }
	send := func(forced bool) (int64, int64, error) {
		return e.svc.Notify(ctx, debts.Notification{Forced: forced, Debts: 1, Agents: 1})
	}
	e.warm(t)
	crashed, job1, err := send(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := send(false); !errors.Is(err, debts.ErrDuplicate) {
		t.Fatalf("a normal send after a forced one: %v", err)
	}
	// The first attempt marked it sending and its instance died.
	e.st.DB().MustExec(`UPDATE debt_notifications SET state = 'sending' WHERE id = $1`, crashed)
	e.start(t)
	if j := wait(t, e, job1); j.State != stateFailed {
		t.Fatalf("job %+v", j)
	}
	if n, _ := e.svc.DebtNotificationByID(ctx, crashed); n.State != debts.NotifyUnknown || len(e.sb.Finrota.Notifications()) != 0 {
		t.Fatalf("after a crashed attempt: %s, %d sent", n.State, len(e.sb.Finrota.Notifications()))
	}

	e.sb.Finrota.Faults.DropConnections(true)
	lost, job2, _ := send(true)
	j := wait(t, e, job2)
	e.sb.Finrota.Faults.Reset()
	n, _ := e.svc.DebtNotificationByID(ctx, lost)
	if j.State != stateFailed || j.Attempts != 1 || n.State != debts.NotifyUnknown {
		t.Fatalf("no answer: job %+v, send %s", j, n.State)
	}

	e.sb.Finrota.Faults.FailNext(1, http.StatusServiceUnavailable)
	ok, job3, _ := send(true)
	if j := wait(t, e, job3); j.State != stateDone || j.Attempts != 2 {
		t.Fatalf("503 then sent: %+v", j)
	}
	first := len(e.sb.Finrota.Notifications())
	if n, _ := e.svc.DebtNotificationByID(ctx, ok); n.State != debts.NotifySent || first == 0 {
		t.Fatalf("send %s, %d notified", n.State, first)
	}
	seen := map[string]bool{}
	for _, m := range e.sb.Finrota.Notifications() {
		if seen[m.DebtErpCode] {
			t.Fatalf("%s notified twice: the send went out more than once", m.DebtErpCode)
		}
		seen[m.DebtErpCode] = true
	}
}
