package debts_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"kasa/connect"
	"kasa/debts"
	"kasa/providers/apicall"
	"kasa/queue"
	"kasa/sandbox"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/tz"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// debtEnv is a store, the sandbox fakes, a connector whose calls land in
// the API call log, as in the product, and the area over them.
type debtEnv struct {
	url  string
	st   *store.Store
	sb   *sandbox.Sandbox
	conn *connect.Connector
	ins  *queue.Client
	svc  *debts.Service
	now  func() time.Time
}

func newDebtEnv(t *testing.T) *debtEnv {
	t.Helper()
	url := storetest.URL(t)
	st := storetest.Open(t, url)
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
		// A call cut short by the worker stopping cannot be recorded; the
		// product only logs that, and so does not fail a test.
		if err := st.InsertAPICall(ctx, store.APICall{At: c.At, Provider: c.Provider, Operation: c.Operation, Method: c.Method,
			Status: c.Status, RequestID: c.RequestID, ErrorCode: c.ErrorCode}); err != nil && ctx.Err() == nil {
			t.Errorf("record api call: %v", err)
		}
	})
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &apicall.Transport{Recorder: rec}}
	e := &debtEnv{url: url, st: st, sb: sb, conn: connect.New(st, hc, ""), now: time.Now}
	e.build(t)
	return e
}

// build makes the area over the environment's store and connector.
func (e *debtEnv) build(t *testing.T) {
	t.Helper()
	ins, err := queue.NewInserter(e.st.DB().DB, quiet)
	if err != nil {
		t.Fatal(err)
	}
	e.ins = ins
	e.svc = debts.New(debts.Deps{Store: e.st, Jobs: ins, Connect: e.conn, Now: func() time.Time { return e.now() }, Logger: quiet})
}

// quick retries failed jobs after 10ms, so tests of retries take no time.
type quick struct{}

func (quick) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(10 * time.Millisecond) }

// start works the area's jobs, as an instance of the product does, until
// the test ends (or stop is called).
func (e *debtEnv) start(t *testing.T, periodic ...*river.PeriodicJob) (stop func()) {
	t.Helper()
	workers := queue.NewWorkers()
	e.svc.AddWorkers(workers)
	w, err := queue.Start(context.Background(), e.st.DB().DB, workers, queue.Options{
		Workers: 2, ListenURL: e.url, PollInterval: 50 * time.Millisecond, Logger: quiet, RetryPolicy: quick{}, Periodic: periodic,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func (e *debtEnv) input(code string) debts.DebtInput {
	return debts.DebtInput{
		AgentErpCode: e.sb.Finrota.ActiveAgentCodes()[0], CurrentAccountErpCode: e.sb.Finrota.ActiveCurrentAccountCodes()[0],
		Amount: decimal.RequireFromString("99.90"), DocumentNo: "J-1", DocumentType: "Senet", CurrencyID: "EUR", ErpCode: code,
		DueDate: time.Date(2026, 6, 30, 0, 0, 0, 0, tz.Istanbul), TransactionDate: time.Date(2026, 6, 1, 0, 0, 0, 0, tz.Istanbul),
	}
}

// jobOf returns the job delivering debt id's current intent.
func (e *debtEnv) jobOf(t *testing.T, id int64) int64 {
	t.Helper()
	d, err := e.svc.Debt(context.Background(), id)
	if err != nil || d.JobID == nil {
		t.Fatalf("debt %d has no job: %v", id, err)
	}
	return *d.JobID
}

// create stores a debt and queues its delivery, as the form does.
func (e *debtEnv) create(t *testing.T, in debts.DebtInput) (debts.Debt, int64) {
	t.Helper()
	d, err := e.svc.Create(context.Background(), in, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d, e.jobOf(t, d.ID)
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

// job is a finished job as the tests read it: done (completed) or failed
// (cancelled as not worth retrying, or discarded out of attempts), and the
// attempts it made, Retry-After waits included.
type job struct {
	ID          int64
	State       string
	Attempts    int
	MaxAttempts int
	LastError   string
}

const (
	stateDone   = "done"
	stateFailed = "failed"
)

func jobView(r *rivertype.JobRow) job {
	j := job{ID: r.ID, State: string(r.State), Attempts: queue.Attempts(r), MaxAttempts: r.MaxAttempts}
	switch r.State {
	case rivertype.JobStateCompleted:
		j.State = stateDone
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		j.State = stateFailed
	}
	if n := len(r.Errors); n > 0 {
		j.LastError = r.Errors[n-1].Error
	}
	return j
}

// wait waits, with a generous deadline, for job id to finish.
func wait(t *testing.T, e *debtEnv, id int64) job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := queue.Wait(ctx, e.ins, id)
	if err != nil {
		t.Fatalf("wait for job %d: %v", id, err)
	}
	return jobView(r)
}

func exec(t *testing.T, db *sqlx.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
