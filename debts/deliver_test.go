package debts_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/debts"
	"kasa/providers/finrota"
	"kasa/store"
	"kasa/tz"
)

// TestDebtDeliveryAfterALostReply: the create landed but its answer was
// lost, so the outbox's retry meets a 409; reading the record back shows
// our data, so the debt is delivered, and Finrota holds it once.
func TestDebtDeliveryAfterALostReply(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	in := e.input("J-LOST")
	client, _ := e.conn.Finrota(ctx)
	if _, err := client.Create(ctx, finrota.Debt{AgentErpCode: in.AgentErpCode, CurrentAccountErpCode: in.CurrentAccountErpCode,
		Amount: in.Amount, DocumentNo: in.DocumentNo, DocumentType: in.DocumentType, CurrencyID: in.CurrencyID, ErpCode: in.ErpCode,
		DueDate: in.DueDate, TransactionDate: in.TransactionDate}); err != nil {
		t.Fatal(err)
	}
	d, job := e.create(t, in)
	e.start(t)
	if j := wait(t, e, job); j.State != stateDone {
		t.Fatalf("job %+v", j)
	}
	got, _ := e.svc.Debt(ctx, d.ID)
	remote, _ := e.sb.Finrota.Debt("J-LOST")
	if got.State != debts.DebtDelivered || got.FinrotaID == nil || *got.FinrotaID != remote.ID || e.records("J-LOST") != 1 {
		t.Fatalf("after 409 read-back: %s %v, %d records", got.State, got.FinrotaID, e.records("J-LOST"))
	}

	// Someone else's record under the code is a real conflict.
	in2 := e.input("J-LOST")
	in2.ErpCode, in2.DocumentNo = "J-OTHER", "MINE"
	if _, err := client.Create(ctx, finrota.Debt{AgentErpCode: in.AgentErpCode, CurrentAccountErpCode: in.CurrentAccountErpCode,
		Amount: in.Amount, DocumentNo: "THEIRS", DocumentType: in.DocumentType, CurrencyID: in.CurrencyID, ErpCode: "J-OTHER",
		DueDate: in.DueDate, TransactionDate: in.TransactionDate}); err != nil {
		t.Fatal(err)
	}
	d2, job2 := e.create(t, in2)
	if j := wait(t, e, job2); j.State != stateFailed {
		t.Fatalf("conflict job %+v", j)
	}
	got, _ = e.svc.Debt(ctx, d2.ID)
	if got.State != debts.DebtFailed || got.LastErrorStatus != http.StatusConflict || len(got.ErrorFields()["erpCode"]) != 1 {
		t.Fatalf("conflict: %+v", got)
	}
	if r, _ := e.sb.Finrota.Debt("J-OTHER"); r.DocumentNo != "THEIRS" {
		t.Fatal("the other record was overwritten")
	}
}

// TestDebtDeliveryRetriesWithTheSameRequestID: a 503 keeps the debt
// pending with the reason noted; the retry carries the same X-Request-ID
// and lands.
func TestDebtDeliveryRetriesWithTheSameRequestID(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	// Fetch the token first, so the failures below meet the create itself.
	client, _ := e.conn.Finrota(ctx)
	if _, err := client.GetByErpCode(ctx, "J-NONE"); !finrota.IsNotFound(err) {
		t.Fatal(err)
	}
	e.sb.Finrota.Faults.FailNext(2, http.StatusServiceUnavailable)
	d, job := e.create(t, e.input("J-RETRY"))
	e.start(t)
	j := wait(t, e, job)
	if j.State != stateDone || j.Attempts != 3 {
		t.Fatalf("job %+v", j)
	}
	got, _ := e.svc.Debt(ctx, d.ID)
	if got.State != debts.DebtDelivered || got.LastErrorStatus != 0 || e.records("J-RETRY") != 1 {
		t.Fatalf("debt %+v", got)
	}
	calls, _, err := e.st.APICalls(ctx, store.APICallFilter{RequestID: d.RequestID, Operation: "create_debt"})
	if err != nil || len(calls) != 3 {
		t.Fatalf("%d create calls under the intent's request id, want 3 (%v)", len(calls), err)
	}
	if calls[2].Status != http.StatusServiceUnavailable || calls[0].Status != http.StatusOK {
		t.Errorf("call statuses %d..%d", calls[2].Status, calls[0].Status)
	}
}

// TestDebtDeliveryRefusedIsFailedWithTheReason: input Finrota refuses is
// not retried; its field errors are kept for the form.
func TestDebtDeliveryRefusedIsFailedWithTheReason(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	in := e.input("J-BAD")
	in.PaidAmount = decimal.RequireFromString("100") // more than the amount: a 400 with a field
	d, job := e.create(t, in)
	in2 := e.input("J-NOCUR")
	in2.CurrencyID = "GBP"
	d2, job2 := e.create(t, in2)
	e.start(t)
	for _, c := range []struct {
		id, job int64
		status  int
		field   string
	}{{d.ID, job, http.StatusBadRequest, "paidAmount"}, {d2.ID, job2, http.StatusNotFound, ""}} {
		if j := wait(t, e, c.job); j.State != stateFailed || j.Attempts != 1 {
			t.Fatalf("job %+v", j)
		}
		got, _ := e.svc.Debt(ctx, c.id)
		if got.State != debts.DebtFailed || got.LastErrorStatus != c.status || (c.field != "" && len(got.ErrorFields()[c.field]) == 0) {
			t.Fatalf("debt %s: %d %s %v", got.ErpCode, got.LastErrorStatus, got.LastErrorMessage, got.ErrorFields())
		}
	}
	if e.records("J-BAD")+e.records("J-NOCUR") != 0 {
		t.Fatal("refused debts at Finrota")
	}
}

// TestDebtNotificationOncePerIstanbulDay: the day's key refuses a second
// send, even one enqueued elsewhere; force sends again; the send reaches
// the fake.
func TestDebtNotificationOncePerIstanbulDay(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	day := tz.Day(time.Now())
	e.now = func() time.Time { return day }
	send := func(forced bool) (int64, int64, error) {
		return e.svc.Notify(ctx, debts.Notification{Forced: forced, Debts: 1, Agents: 1})
	}
	id, job, err := send(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := send(false); !errors.Is(err, debts.ErrDuplicate) {
		t.Fatalf("second send the same day: %v", err)
	}
	if ns, _ := e.svc.DebtNotifications(ctx, 10); len(ns) != 1 {
		t.Fatalf("the refused send left a record: %d", len(ns))
	}
	_, job2, err := send(true)
	if err != nil {
		t.Fatal(err)
	}
	e.start(t)
	wait(t, e, job)
	wait(t, e, job2)
	n, _ := e.svc.DebtNotificationByID(ctx, id)
	if n.State != debts.NotifySent || len(e.sb.Finrota.Notifications()) == 0 {
		t.Fatalf("notification %+v, fake sent %d", n, len(e.sb.Finrota.Notifications()))
	}
	if k := debts.NotifyKey(time.Date(2026, 11, 20, 21, 30, 0, 0, time.UTC), false, 0); k != "debts.notify@2026-11-21" {
		t.Errorf("key %q: the day must be Istanbul's", k)
	}
}

// TestDebtNotificationAfterAForcedSend: a forced send counts as the day's
// send, so a normal one after it is refused and the confirmation finds it.
func TestDebtNotificationAfterAForcedSend(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	day := time.Date(2026, 5, 1, 10, 0, 0, 0, tz.Istanbul)
	e.now = func() time.Time { return day }
	create := func(forced bool) (int64, error) {
		id, _, err := e.svc.Notify(ctx, debts.Notification{Forced: forced, Debts: 1, Agents: 1})
		return id, err
	}
	forced, err := create(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create(false); !errors.Is(err, debts.ErrDuplicate) {
		t.Fatalf("normal send after a forced one: %v", err)
	}
	ns, err := e.svc.DebtNotifications(ctx, 1)
	if err != nil || len(ns) != 1 || ns[0].ID != forced || ns[0].Day.Format(time.DateOnly) != "2026-05-01" {
		t.Fatalf("the day's send: %+v %v", ns, err)
	}
	if _, err := create(true); err != nil {
		t.Fatalf("another forced send: %v", err)
	}
	if _, err := create(false); !errors.Is(err, debts.ErrDuplicate) {
		t.Fatal("still refused")
	}
	// The next day is free.
	e.now = func() time.Time { return day.AddDate(0, 0, 1) }
	if id, err := create(false); err != nil || id == 0 {
		t.Fatalf("next day: %v", err)
	}
}
