package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/app"
	"kasa/connect"
	"kasa/debts"
	"kasa/eventually"
	"kasa/providers/apicall"
	"kasa/queue"
	"kasa/sandbox"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/tz"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// instance is one running product instance: its own pool, provider client
// and areas over the shared database.
type instance struct {
	st  *store.Store
	app *app.App
}

func newInstance(t *testing.T, url string, keys *store.Keyring) *instance {
	t.Helper()
	st, err := store.Open(context.Background(), url, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	rec := apicall.RecorderFunc(func(ctx context.Context, c apicall.Call) {
		if err := st.InsertAPICall(ctx, store.APICall{At: c.At, Provider: c.Provider, Operation: c.Operation, Method: c.Method,
			Status: c.Status, RequestID: c.RequestID, ErrorCode: c.ErrorCode}); err != nil && ctx.Err() == nil {
			t.Errorf("record api call: %v", err)
		}
	})
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &apicall.Transport{Recorder: rec}}
	sessions, err := st.Sessions(store.SessionConfig{Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Idle: time.Hour, Absolute: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Deps{Store: st, Sessions: sessions, Connect: connect.New(st, hc, "http://kasa.test"), Logger: quiet, APILogRetention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return &instance{st: st, app: a}
}

// start works every job kind and schedule, as `make run` does.
func (i *instance) start(t *testing.T, url string) {
	t.Helper()
	w, err := i.app.Start(context.Background(), app.WorkOptions{Scheduled: true,
		Options: queue.Options{Workers: 3, ListenURL: url, PollInterval: 200 * time.Millisecond, RescueAfter: time.Minute, JobTimeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

func count(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwoInstancesDeliverOnceScheduleOnceAndRescue: two product instances
// on one database, each saving debts and working jobs, deliver every debt
// to Finrota exactly once; every scheduled kind runs once for its period;
// and a delivery left running by an instance that died is rescued and made
// once.
func TestTwoInstancesDeliverOnceScheduleOnceAndRescue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storetest.URL(t)
	keys := storetest.Keyring(t) // one configuration, as behind a load balancer
	a, b := newInstance(t, url, keys), newInstance(t, url, keys)
	sb, err := sandbox.Start(ctx, a.st, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	input := func(code string) debts.DebtInput {
		return debts.DebtInput{
			AgentErpCode: sb.Finrota.ActiveAgentCodes()[0], CurrentAccountErpCode: sb.Finrota.ActiveCurrentAccountCodes()[0],
			Amount: decimal.RequireFromString("120.50"), DocumentNo: "TI-" + code, DocumentType: "Senet", CurrencyID: "TRY", ErpCode: code,
			DueDate: time.Date(2026, 6, 30, 0, 0, 0, 0, tz.Istanbul), TransactionDate: time.Date(2026, 6, 1, 0, 0, 0, 0, tz.Istanbul),
		}
	}

	// Before any instance works: a delivery an instance had started when it
	// died — running, attempted long ago, never finished.
	orphan, err := a.app.Debts.Create(ctx, input("TI-ORPHAN"), 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.st.DB().Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '2 hours',
		attempted_by = '{dead-instance}' WHERE kind = 'debts.deliver' AND (args->>'debtId')::bigint = $1`, orphan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("the orphan's delivery job: %d rows, %v", n, err)
	}

	a.start(t, url)
	b.start(t, url)
	const n = 40
	for i := range n {
		in := a
		if i%2 == 1 {
			in = b
		}
		if _, err := in.app.Debts.Create(ctx, input(fmt.Sprintf("TI-%02d", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	eventually.That(t, "every debt delivered, the orphan too", func() error {
		if left := count(t, a.st, `SELECT count(*) FROM debts WHERE erp_code LIKE 'TI-%' AND state <> 'delivered'`); left > 0 {
			return fmt.Errorf("%d debts not delivered", left)
		}
		return nil
	})
	if got := count(t, a.st, `SELECT count(*) FROM api_calls WHERE provider = 'finrota' AND operation = 'create_debt'`); got != n+1 {
		t.Errorf("%d create calls reached Finrota for %d debts", got, n+1)
	}
	for _, r := range sb.Finrota.Debts() {
		if r.ErpCode == "TI-ORPHAN" && r.ID == "" {
			t.Errorf("the orphan's record at Finrota has no id")
		}
	}
	var rescued []string
	if err := a.st.DB().Select(&rescued, `SELECT e->>'error' FROM river_job, jsonb_array_elements(to_jsonb(errors)) e
		WHERE kind = 'debts.deliver' AND (args->>'debtId')::bigint = $1`, orphan.ID); err != nil || len(rescued) != 1 {
		t.Errorf("the orphan's delivery was not rescued once: %q %v", rescued, err)
	}

	// Both instances run the same schedules; each scheduled kind was
	// enqueued once for its period.
	periodic := []string{"sessions.cleanup", "apilog.prune", "secrets.rotate", "debts.sync", "garanti.token_renew", "movements.schedule"}
	eventually.That(t, "the scheduled jobs ran", func() error {
		for _, kind := range periodic {
			if count(t, a.st, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`, kind) == 0 {
				return fmt.Errorf("%s has not run", kind)
			}
		}
		return nil
	})
	for _, kind := range periodic {
		if got := count(t, a.st, `SELECT count(*) FROM river_job WHERE kind = $1`, kind); got != 1 {
			t.Errorf("%s was enqueued %d times in one period", kind, got)
		}
	}
}
