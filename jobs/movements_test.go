package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/connect"
	"kasa/eventually"
	"kasa/i18n"
	"kasa/jobs"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
	"kasa/store/storetest"
)

// movementEnv is a store, a seeded VakıfBank fake and a runner with the
// movement jobs.
type movementEnv struct {
	st   *store.Store
	fake *vakifbanktest.Server
	now  time.Time
}

func newMovementEnv(t *testing.T) *movementEnv {
	t.Helper()
	e := &movementEnv{st: storetest.New(t), now: time.Now()}
	e.fake = vakifbanktest.New(vakifbanktest.Options{Seed: true, Now: func() time.Time { return e.now }})
	srv := httptest.NewServer(e.fake)
	t.Cleanup(srv.Close)
	// The fake's clock is the test's, so the sandbox's own fakes do not
	// serve here: the settings point at this one, as an admin's would.
	if err := e.st.PutSettings(context.Background(), 0, map[string]string{"vakifbank.base_url": srv.URL,
		"vakifbank.client_id": vakifbanktest.SandboxClientID, "vakifbank.client_secret": vakifbanktest.SandboxClientSecret,
		"vakifbank.consent_id": vakifbanktest.SandboxConsentID, "vakifbank.resource": vakifbanktest.SandboxResource}); err != nil {
		t.Fatal(err)
	}
	conn := connect.New(e.st, &http.Client{Timeout: 30 * time.Second}, "http://kasa.test")
	handlers, schedules := jobs.MovementJobs(e.st, conn)
	if len(schedules) != 1 || schedules[0].Kind != jobs.KindMovementSchedule || schedules[0].Every != jobs.MovementSyncEvery {
		t.Fatalf("schedules %+v", schedules)
	}
	start(t, e.st.DB(), handlers, jobs.Options{Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	return e
}

func (e *movementEnv) account(t *testing.T, number string) store.BankAccount {
	t.Helper()
	a, err := e.st.CreateBankAccount(context.Background(), store.NewBankAccount{Number: number, Name: "Hesap", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sync requests a range and waits for its job.
func (e *movementEnv) sync(t *testing.T, a store.BankAccount, from, to time.Time) (store.MovementSync, jobs.Job) {
	t.Helper()
	run, err := jobs.RequestMovementSync(context.Background(), e.st, a.ID, from, to, "manual", 0)
	if err != nil {
		t.Fatal(err)
	}
	j := wait(t, e.st.DB(), *run.JobID)
	run, err = e.st.MovementSync(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run, j
}

// fakeCount counts the fake's movements of account in [from, to].
func (e *movementEnv) fakeMovements(number string, from, to time.Time) []vakifbanktest.Movement {
	var out []vakifbanktest.Movement
	for _, m := range e.fake.Movements(number) {
		if !m.Date.Before(from) && !m.Date.After(to) {
			out = append(out, m)
		}
	}
	return out
}

func TestMovementSyncStoresTwoYearsOnce(t *testing.T) {
	t.Parallel()
	e := newMovementEnv(t)
	ctx := context.Background()
	a := e.account(t, vakifbanktest.SandboxAccountTRY)
	from, to := e.now.AddDate(-2, 0, 0).Truncate(time.Second), e.now.Truncate(time.Second)
	want := e.fakeMovements(vakifbanktest.SandboxAccountTRY, from, to)
	if len(want) < 20000 {
		t.Fatalf("the fake has only %d movements in two years", len(want))
	}

	run, j := e.sync(t, a, from, to)
	if j.State != jobs.StateDone || run.State != store.SyncDone || run.Fetched != len(want) || run.Inserted != len(want) {
		t.Fatalf("first sync: job %s %q, run %+v; want %d movements", j.State, j.LastError, run, len(want))
	}
	tot, err := e.st.MovementTotals(ctx, store.MovementFilter{AccountID: a.ID, From: from, To: to})
	if err != nil || tot.Count != len(want) {
		t.Fatalf("stored %d, %v; want %d", tot.Count, err, len(want))
	}
	got, _ := e.st.BankAccount(ctx, a.ID)
	last := want[len(want)-1]
	if !got.Balance.Decimal.Equal(last.Balance) || !got.SyncedFrom.Equal(from) || !got.SyncedUntil.Equal(to) || got.LastSyncStatus != "ok" {
		t.Fatalf("account after sync: %+v; want balance %s", got, last.Balance)
	}
	if bs, err := e.st.BalanceBreaks(ctx, a.ID, from, to, 5); err != nil || len(bs) != 0 {
		t.Fatalf("the fake's chain breaks in the store: %+v, %v", bs, err)
	}

	// An overlapping range: everything fetched again is already stored.
	run, _ = e.sync(t, a, to.AddDate(0, -1, 0), to)
	if run.State != store.SyncDone || run.Fetched == 0 || run.Inserted != 0 {
		t.Fatalf("overlapping sync: %+v", run)
	}
}

func TestMovementSyncRefusedByTheBankFailsAtOnce(t *testing.T) {
	t.Parallel()
	e := newMovementEnv(t)
	a := e.account(t, vakifbanktest.OtherAccount) // not the consent holder's
	run, j := e.sync(t, a, e.now.AddDate(0, 0, -7), e.now)
	if j.State != jobs.StateFailed || j.Attempts != 1 {
		t.Fatalf("job %s after %d attempts; want failed after 1", j.State, j.Attempts)
	}
	if run.State != store.SyncFailed || run.ErrorCode != "ACBH000104" {
		t.Fatalf("run %+v", run)
	}
	got, _ := e.st.BankAccount(context.Background(), a.ID)
	if got.LastSyncStatus != "failed" || got.LastSyncCode != "ACBH000104" || got.SyncedFrom != nil || got.Pending {
		t.Fatalf("account %+v", got)
	}
}

func TestMovementSyncRetriesAnUnavailableBank(t *testing.T) {
	t.Parallel()
	e := newMovementEnv(t)
	a := e.account(t, vakifbanktest.SandboxAccountUSD)
	e.fake.Faults.FailNext(2, http.StatusServiceUnavailable)
	run, j := e.sync(t, a, e.now.AddDate(0, 0, -10), e.now)
	if j.State != jobs.StateDone || j.Attempts < 2 || run.State != store.SyncDone || run.ErrorCode != "" {
		t.Fatalf("job %s after %d attempts, run %+v", j.State, j.Attempts, run)
	}
	if want := len(e.fakeMovements(vakifbanktest.SandboxAccountUSD, run.From, run.To)); run.Inserted != want {
		t.Fatalf("inserted %d, want %d", run.Inserted, want)
	}

	// A bank that stays down fails the run once the attempts run out.
	e.fake.Faults.Down()
	run, j = e.sync(t, a, e.now.AddDate(0, 0, -2), e.now)
	if j.State != jobs.StateFailed || j.Attempts != j.MaxAttempts || run.State != store.SyncFailed {
		t.Fatalf("bank down: job %s after %d/%d attempts, run %+v", j.State, j.Attempts, j.MaxAttempts, run)
	}
}

// TestMovementScheduleIsIncremental runs the scheduled job: an account
// synced before is fetched from its last synced day minus the overlap, one
// never synced gets the initial history, one with a sync under way none.
func TestMovementScheduleIsIncremental(t *testing.T) {
	t.Parallel()
	e := newMovementEnv(t)
	ctx := context.Background()
	synced := e.account(t, vakifbanktest.SandboxAccountTRY)
	from := e.now.AddDate(-3, 0, 1).Truncate(time.Second)
	until := e.now.AddDate(0, 0, -10).Truncate(time.Second)
	if run, _ := e.sync(t, synced, from, until); run.State != store.SyncDone {
		t.Fatalf("setup sync: %+v", run)
	}
	fresh := e.account(t, vakifbanktest.SandboxAccountEUR)
	// A sync of this one is under way (its job not yet picked up).
	busy := e.account(t, vakifbanktest.SandboxAccountUSD)
	open, err := e.st.StartMovementSync(ctx, store.NewMovementSync{AccountID: busy.ID, From: e.now.AddDate(0, 0, -5), To: e.now, Reason: "page"},
		func(*sqlx.Tx, int64) (int64, error) { return 0, nil })
	if err != nil {
		t.Fatal(err)
	}

	j := wait(t, e.st.DB(), enqueue(t, e.st.DB(), jobs.KindMovementSchedule, nil))
	if j.State != jobs.StateDone {
		t.Fatalf("schedule job: %s %q", j.State, j.LastError)
	}
	check := func(a store.BankAccount, wantFrom time.Time) {
		t.Helper()
		runs, err := e.st.MovementSyncs(ctx, a.ID, 1)
		if err != nil || len(runs) != 1 || runs[0].Reason != "schedule" {
			t.Fatalf("account %d: runs %+v, %v", a.ID, runs, err)
		}
		r := runs[0]
		if !r.From.Equal(wantFrom) || r.To.Before(e.now.Truncate(time.Second)) || r.To.After(time.Now()) {
			t.Errorf("account %d: scheduled %s..%s, want from %s to now", a.ID, r.From, r.To, wantFrom)
		}
		if r = waitRun(t, e.st, r.ID); r.State != store.SyncDone {
			t.Errorf("account %d: scheduled run %+v", a.ID, r)
		}
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(istanbul).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, istanbul)
	}
	check(synced, day(until).Add(-jobs.MovementOverlap))
	check(fresh, day(e.now).AddDate(0, 0, -jobs.InitialSyncDays))
	if runs, err := e.st.MovementSyncs(ctx, busy.ID, 5); err != nil || len(runs) != 1 || runs[0].ID != open.ID {
		t.Fatalf("the busy account got another sync: %+v, %v", runs, err)
	}

	got, _ := e.st.BankAccount(ctx, synced.ID)
	if !got.SyncedFrom.Equal(from) || got.SyncedUntil.Before(e.now) {
		t.Fatalf("coverage after the incremental sync: %s..%s", got.SyncedFrom, got.SyncedUntil)
	}
	tot, _ := e.st.MovementTotals(ctx, store.MovementFilter{AccountID: synced.ID, From: from, To: *got.SyncedUntil})
	if want := len(e.fakeMovements(vakifbanktest.SandboxAccountTRY, from, *got.SyncedUntil)); tot.Count != want {
		t.Fatalf("stored %d movements, the bank has %d", tot.Count, want)
	}
}

var istanbul = i18n.Istanbul

// waitRun polls a sync run until it finishes.
func waitRun(t *testing.T, st *store.Store, id int64) store.MovementSync {
	t.Helper()
	var r store.MovementSync
	eventually.That(t, fmt.Sprintf("sync run %d to finish", id), func() error {
		var err error
		if r, err = st.MovementSync(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if !r.Finished() {
			return fmt.Errorf("run %+v", r)
		}
		return nil
	})
	return r
}
