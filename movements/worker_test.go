package movements

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river/rivertype"

	"kasa/connect"
	"kasa/eventually"
	"kasa/i18n"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/queue"
	"kasa/store/storetest"
)

// movementEnv is the area over a fresh database, a seeded VakıfBank fake
// and River working the area's jobs.
type movementEnv struct {
	st   *Service
	jobs *queue.Client
	fake *vakifbanktest.Server
	now  time.Time
}

func newMovementEnv(t *testing.T) *movementEnv {
	t.Helper()
	db := storetest.New(t)
	e := &movementEnv{now: time.Now()}
	e.fake = vakifbanktest.New(vakifbanktest.Options{Seed: true, Now: func() time.Time { return e.now }})
	srv := httptest.NewServer(e.fake)
	t.Cleanup(srv.Close)
	// The fake's clock is the test's, so the sandbox's own fakes do not
	// serve here: the settings point at this one, as an admin's would.
	if err := db.PutSettings(context.Background(), 0, map[string]string{"vakifbank.base_url": srv.URL,
		"vakifbank.client_id": vakifbanktest.SandboxClientID, "vakifbank.client_secret": vakifbanktest.SandboxClientSecret,
		"vakifbank.consent_id": vakifbanktest.SandboxConsentID, "vakifbank.resource": vakifbanktest.SandboxResource}); err != nil {
		t.Fatal(err)
	}
	conn := connect.New(db, &http.Client{Timeout: 30 * time.Second}, "http://kasa.test")
	quiet := slog.New(slog.DiscardHandler)
	var err error
	if e.jobs, err = queue.NewInserter(db.DB().DB, quiet); err != nil {
		t.Fatal(err)
	}
	e.st = New(Deps{Store: db, Jobs: e.jobs, Connect: conn})
	workers := queue.NewWorkers()
	periodic := e.st.AddWorkers(workers)
	if len(periodic) != 1 {
		t.Fatalf("schedules %+v", periodic)
	}
	w, err := queue.Start(context.Background(), db.DB().DB, workers, queue.Options{Workers: 2, PollInterval: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("stop workers: %v", err)
		}
	})
	return e
}

func (e *movementEnv) account(t *testing.T, number string) BankAccount {
	t.Helper()
	a, err := e.st.CreateBankAccount(context.Background(), NewBankAccount{Number: number, Name: "Hesap", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sync requests a range and waits for its job.
func (e *movementEnv) sync(t *testing.T, a BankAccount, from, to time.Time) (MovementSync, *rivertype.JobRow) {
	t.Helper()
	run, err := e.st.RequestSync(context.Background(), a.ID, from, to, "manual", 0)
	if err != nil {
		t.Fatal(err)
	}
	j := e.wait(t, *run.RiverJobID)
	run, err = e.st.MovementSync(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run, j
}

// wait waits for River job id to finish, failing the test if it never does.
func (e *movementEnv) wait(t *testing.T, id int64) *rivertype.JobRow {
	t.Helper()
	var j *rivertype.JobRow
	eventually.That(t, fmt.Sprintf("job %d to finish", id), func() error {
		var err error
		if j, err = e.jobs.JobGet(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if j.FinalizedAt == nil {
			return fmt.Errorf("job %d is %s, attempt %d", id, j.State, j.Attempt)
		}
		return nil
	})
	return j
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
	if j.State != rivertype.JobStateCompleted || run.State != SyncDone || run.Fetched != len(want) || run.Inserted != len(want) {
		t.Fatalf("first sync: job %s %v, run %+v; want %d movements", j.State, j.Errors, run, len(want))
	}
	tot, err := e.st.MovementTotals(ctx, MovementFilter{AccountID: a.ID, From: from, To: to})
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
	if run.State != SyncDone || run.Fetched == 0 || run.Inserted != 0 {
		t.Fatalf("overlapping sync: %+v", run)
	}
}

func TestMovementSyncRefusedByTheBankFailsAtOnce(t *testing.T) {
	t.Parallel()
	e := newMovementEnv(t)
	a := e.account(t, vakifbanktest.OtherAccount) // not the consent holder's
	run, j := e.sync(t, a, e.now.AddDate(0, 0, -7), e.now)
	if j.State != rivertype.JobStateCancelled || j.Attempt != 1 {
		t.Fatalf("job %s after %d attempts; want cancelled after 1", j.State, j.Attempt)
	}
	if run.State != SyncFailed || run.ErrorCode != "ACBH000104" {
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
	if j.State != rivertype.JobStateCompleted || j.Attempt < 2 || run.State != SyncDone || run.ErrorCode != "" {
		t.Fatalf("job %s after %d attempts, run %+v", j.State, j.Attempt, run)
	}
	if want := len(e.fakeMovements(vakifbanktest.SandboxAccountUSD, run.From, run.To)); run.Inserted != want {
		t.Fatalf("inserted %d, want %d", run.Inserted, want)
	}

	// A bank that stays down fails the run once the attempts run out.
	e.fake.Faults.Down()
	run, j = e.sync(t, a, e.now.AddDate(0, 0, -2), e.now)
	if j.State != rivertype.JobStateDiscarded || j.Attempt != j.MaxAttempts || run.State != SyncFailed {
		t.Fatalf("bank down: job %s after %d/%d attempts, run %+v", j.State, j.Attempt, j.MaxAttempts, run)
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
	if run, _ := e.sync(t, synced, from, until); run.State != SyncDone {
		t.Fatalf("setup sync: %+v", run)
	}
	fresh := e.account(t, vakifbanktest.SandboxAccountEUR)
	// A sync of this one is under way (its job not yet picked up).
	busy := e.account(t, vakifbanktest.SandboxAccountUSD)
	open, err := e.st.StartMovementSync(ctx, NewMovementSync{AccountID: busy.ID, From: e.now.AddDate(0, 0, -5), To: e.now, Reason: "page"},
		func(*sqlx.Tx, int64) (int64, error) { return 0, nil })
	if err != nil {
		t.Fatal(err)
	}

	res, err := e.jobs.Insert(ctx, ScheduleArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if j := e.wait(t, res.Job.ID); j.State != rivertype.JobStateCompleted {
		t.Fatalf("schedule job: %s %v", j.State, j.Errors)
	}
	check := func(a BankAccount, wantFrom time.Time) {
		t.Helper()
		runs, err := e.st.MovementSyncs(ctx, a.ID, 1)
		if err != nil || len(runs) != 1 || runs[0].Reason != "schedule" {
			t.Fatalf("account %d: runs %+v, %v", a.ID, runs, err)
		}
		r := runs[0]
		if !r.From.Equal(wantFrom) || r.To.Before(e.now.Truncate(time.Second)) || r.To.After(time.Now()) {
			t.Errorf("account %d: scheduled %s..%s, want from %s to now", a.ID, r.From, r.To, wantFrom)
		}
		if r = waitRun(t, e.st, r.ID); r.State != SyncDone {
			t.Errorf("account %d: scheduled run %+v", a.ID, r)
		}
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(istanbul).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, istanbul)
	}
	check(synced, day(until).Add(-Overlap))
	check(fresh, day(e.now).AddDate(0, 0, -InitialSyncDays))
	if runs, err := e.st.MovementSyncs(ctx, busy.ID, 5); err != nil || len(runs) != 1 || runs[0].ID != open.ID {
		t.Fatalf("the busy account got another sync: %+v, %v", runs, err)
	}

	got, _ := e.st.BankAccount(ctx, synced.ID)
	if !got.SyncedFrom.Equal(from) || got.SyncedUntil.Before(e.now) {
		t.Fatalf("coverage after the incremental sync: %s..%s", got.SyncedFrom, got.SyncedUntil)
	}
	tot, _ := e.st.MovementTotals(ctx, MovementFilter{AccountID: synced.ID, From: from, To: *got.SyncedUntil})
	if want := len(e.fakeMovements(vakifbanktest.SandboxAccountTRY, from, *got.SyncedUntil)); tot.Count != want {
		t.Fatalf("stored %d movements, the bank has %d", tot.Count, want)
	}
}

var istanbul = i18n.Istanbul

// waitRun polls a sync run until it finishes.
func waitRun(t *testing.T, st *Service, id int64) MovementSync {
	t.Helper()
	var r MovementSync
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
