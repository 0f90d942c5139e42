package jobs_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/connect"
	"kasa/i18n"
	"kasa/jobs"
	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/sandbox"
	"kasa/store"
	"kasa/store/storetest"
)

// debtEnv is a store, the sandbox fakes and a connector whose calls land
// in the API call log, as in the product.
type debtEnv struct {
	st   *store.Store
	sb   *sandbox.Sandbox
	conn *connect.Connector
}

func newDebtEnv(t *testing.T) *debtEnv {
	t.Helper()
	st := storetest.New(t)
	sb, err := sandbox.Start(context.Background(), st, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	rec := apicall.RecorderFunc(func(ctx context.Context, c apicall.Call) {
		// A call cut short by the runner stopping cannot be recorded; the
		// product only logs that, and so does not fail a test.
		if err := st.InsertAPICall(ctx, store.APICall{At: c.At, Provider: c.Provider, Operation: c.Operation, Method: c.Method,
			Status: c.Status, RequestID: c.RequestID, ErrorCode: c.ErrorCode}); err != nil && ctx.Err() == nil {
			t.Errorf("record api call: %v", err)
		}
	})
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &apicall.Transport{Recorder: rec}}
	return &debtEnv{st: st, sb: sb, conn: connect.New(st, hc, "")}
}

func (e *debtEnv) start(t *testing.T) {
	hs, _ := jobs.DebtJobs(e.st, e.conn)
	start(t, e.st.DB(), hs, jobs.Options{Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
}

func (e *debtEnv) input(code string) store.DebtInput {
	return store.DebtInput{
		AgentErpCode: e.sb.Finrota.ActiveAgentCodes()[0], CurrentAccountErpCode: e.sb.Finrota.ActiveCurrentAccountCodes()[0],
		Amount: decimal.RequireFromString("99.90"), DocumentNo: "J-1", DocumentType: "Senet", CurrencyID: "EUR", ErpCode: code,
		DueDate: time.Date(2026, 6, 30, 0, 0, 0, 0, i18n.Istanbul), TransactionDate: time.Date(2026, 6, 1, 0, 0, 0, 0, i18n.Istanbul),
	}
}

// create stores a debt and queues its delivery, as the form does.
func (e *debtEnv) create(t *testing.T, in store.DebtInput) (store.Debt, int64) {
	t.Helper()
	var d store.Debt
	var job int64
	err := e.st.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		if d, err = store.CreateDebt(context.Background(), tx, in, 0); err != nil {
			return err
		}
		job, err = jobs.EnqueueDebtDelivery(context.Background(), tx, d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, job
}

func (e *debtEnv) records(code string) int {
	n := 0
	for _, r := range e.sb.Finrota.Debts() {
		if r.ErpCode == code {
			n++
		}
	}
	return n
}

// TestDebtDeliveryAfterALostReply: the create landed but its answer was
// lost, so the outbox's retry meets a 409; reading the record back shows
// our data, so the debt is delivered, and Finrota holds it once.
func TestDebtDeliveryAfterALostReply(t *testing.T) {
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
	if j := wait(t, e.st.DB(), job); j.State != jobs.StateDone {
		t.Fatalf("job %+v", j)
	}
	got, _ := e.st.Debt(ctx, d.ID)
	remote, _ := e.sb.Finrota.Debt("J-LOST")
	if got.State != store.DebtDelivered || got.FinrotaID == nil || *got.FinrotaID != remote.ID || e.records("J-LOST") != 1 {
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
	if j := wait(t, e.st.DB(), job2); j.State != jobs.StateFailed {
		t.Fatalf("conflict job %+v", j)
	}
	got, _ = e.st.Debt(ctx, d2.ID)
	if got.State != store.DebtFailed || got.LastErrorStatus != http.StatusConflict || len(got.ErrorFields()["erpCode"]) != 1 {
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
	j := wait(t, e.st.DB(), job)
	if j.State != jobs.StateDone || j.Attempts != 3 {
		t.Fatalf("job %+v", j)
	}
	got, _ := e.st.Debt(ctx, d.ID)
	if got.State != store.DebtDelivered || got.LastErrorStatus != 0 || e.records("J-RETRY") != 1 {
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
		if j := wait(t, e.st.DB(), c.job); j.State != jobs.StateFailed || j.Attempts != 1 {
			t.Fatalf("job %+v", j)
		}
		got, _ := e.st.Debt(ctx, c.id)
		if got.State != store.DebtFailed || got.LastErrorStatus != c.status || (c.field != "" && len(got.ErrorFields()[c.field]) == 0) {
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
	e := newDebtEnv(t)
	ctx := context.Background()
	day := i18n.Today(time.Now())
	send := func(forced bool) (int64, int64, error) {
		var id, job int64
		err := e.st.InTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			id, job, err = jobs.EnqueueDebtNotification(ctx, tx, store.NewDebtNotification{Day: day, Forced: forced, Debts: 1, Agents: 1})
			return err
		})
		return id, job, err
	}
	id, job, err := send(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := send(false); !errors.Is(err, jobs.ErrDuplicate) {
		t.Fatalf("second send the same day: %v", err)
	}
	if ns, _ := e.st.DebtNotifications(ctx, 10); len(ns) != 1 {
		t.Fatalf("the refused send left a record: %d", len(ns))
	}
	_, job2, err := send(true)
	if err != nil {
		t.Fatal(err)
	}
	e.start(t)
	wait(t, e.st.DB(), job)
	wait(t, e.st.DB(), job2)
	n, _ := e.st.DebtNotificationByID(ctx, id)
	if n.State != store.NotifySent || len(e.sb.Finrota.Notifications()) == 0 {
		t.Fatalf("notification %+v, fake sent %d", n, len(e.sb.Finrota.Notifications()))
	}
	if k := jobs.DebtNotifyKey(time.Date(2026, 11, 20, 21, 30, 0, 0, time.UTC).In(i18n.Istanbul), false, 0); k != "debts.notify@2026-11-21" {
		t.Errorf("key %q: the day must be Istanbul's", k)
	}
}
