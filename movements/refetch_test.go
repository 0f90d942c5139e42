package movements

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"kasa/providers/vakifbank/vakifbanktest"
)

// refetchAccount is an account the fake holds with a whole chain of 160
// movements, one every six hours up to an hour ago.
const refetchAccount = "00158000000000777"

func (e *movementEnv) chainAccount(t *testing.T) []vakifbanktest.Movement {
	t.Helper()
	start := e.now.Add(-time.Hour - 159*6*time.Hour).Truncate(time.Second)
	ms := make([]vakifbanktest.Movement, 160)
	balance := decimal.NewFromInt(5000)
	for i := range ms {
		amount := decimal.NewFromInt(int64(100 + i))
		if i%3 == 1 {
			amount = decimal.New(-int64(4000+i), -2)
		}
		balance = balance.Add(amount)
		ms[i] = vakifbanktest.Movement{ID: fmt.Sprintf("2026%012d", i+1), Date: start.Add(time.Duration(i) * 6 * time.Hour),
			Amount: amount, Balance: balance, Currency: "TL", Code: "EFTGLN", Name: "Gelen EFT", Description: fmt.Sprintf("Hareket %d", i+1)}
	}
	if err := e.fake.AddAccount(vakifbanktest.Account{Number: refetchAccount, Currency: "TL"}, ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

// storedRow is what a stored movement's identity and last write look like.
type storedRow struct {
	ID       int64     `db:"id"`
	SyncedAt time.Time `db:"synced_at"`
	Version  string    `db:"xmin"` // changes with any write to the row
}

func storedRows(t *testing.T, st *Service, accountID int64) map[string]storedRow {
	t.Helper()
	var rows []struct {
		TransactionID string `db:"transaction_id"`
		storedRow
	}
	if err := st.DB().Select(&rows, `SELECT transaction_id, id, synced_at, xmin::text AS xmin FROM account_movements WHERE account_id = $1`, accountID); err != nil {
		t.Fatal(err)
	}
	out := map[string]storedRow{}
	for _, r := range rows {
		out[r.TransactionID] = r.storedRow
	}
	return out
}

// TestMovementRefetchRepairsABalanceBreak stores a period while the bank
// has not listed one movement yet (the chain breaks after it), shows that
// "sync now" — which starts at the last synced day — leaves the break,
// then re-fetches the stored period: the missing movement is added, the
// chain is whole, the identical movements are untouched, and a movement
// the bank corrected meanwhile is recorded as a difference with its old
// and new values.
func TestMovementRefetchRepairsABalanceBreak(t *testing.T) {
	t.Parallel()
	e := newMovementEnv(t)
	ctx := context.Background()
	ms := e.chainAccount(t)
	a := e.account(t, refetchAccount)
	from, to := ms[0].Date.Add(-time.Hour), e.now.Truncate(time.Second)

	late, err := e.fake.RemoveMovement(refetchAccount, ms[40].ID) // ten days before the end of the sync
	if err != nil {
		t.Fatal(err)
	}
	if run, _ := e.sync(t, a, from, to); run.State != SyncDone || run.Inserted != len(ms)-1 {
		t.Fatalf("first sync: %+v", run)
	}
	breaks, err := e.st.BalanceBreaks(ctx, a.ID, from, to, 5)
	if err != nil || len(breaks) != 1 || breaks[0].TransactionID != ms[41].ID {
		t.Fatalf("breaks after the first sync: %+v, %v; want one at %s", breaks, err, ms[41].ID)
	}

	// The bank lists the movement late, and corrects another's description.
	if err := e.fake.AddMovement(refetchAccount, late); err != nil {
		t.Fatal(err)
	}
	corrected := ms[100]
	corrected.Description = "Hareket 101 (düzeltildi)"
	if err := e.fake.CorrectMovement(refetchAccount, corrected); err != nil {
		t.Fatal(err)
	}

	// "Sync now" fetches from the last synced day: the break stays.
	acct, err := e.st.BankAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run, _ := e.sync(t, acct, acct.IncrementalFrom(e.now, Overlap, InitialSyncDays), to); run.State != SyncDone {
		t.Fatalf("incremental sync: %+v", run)
	}
	if breaks, _ := e.st.BalanceBreaks(ctx, a.ID, from, to, 5); len(breaks) != 1 {
		t.Fatalf("the incremental sync changed the break: %+v", breaks)
	}

	before := storedRows(t, e.st, a.ID)
	run, err := e.st.refetch(ctx, a.ID, from, to, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if run.Reason != ReasonRefetch {
		t.Fatalf("refetch run reason %q", run.Reason)
	}
	if j := e.wait(t, *run.RiverJobID); j.State != rivertype.JobStateCompleted {
		t.Fatalf("refetch job %s %v", j.State, j.Errors)
	}
	run, err = e.st.MovementSync(ctx, run.ID)
	if err != nil || run.State != SyncDone || run.Fetched != len(ms) || run.Inserted != 1 || run.Changed != 1 {
		t.Fatalf("refetch run %+v, %v; want %d fetched, 1 inserted, 1 changed", run, err, len(ms))
	}
	if breaks, err := e.st.BalanceBreaks(ctx, a.ID, from, to, 5); err != nil || len(breaks) != 0 {
		t.Fatalf("breaks after the refetch: %+v, %v", breaks, err)
	}

	after := storedRows(t, e.st, a.ID)
	if len(after) != len(ms) {
		t.Fatalf("%d movements stored, want %d", len(after), len(ms))
	}
	for id, b := range before {
		if id == corrected.ID {
			continue
		}
		if got := after[id]; got.ID != b.ID || !got.SyncedAt.Equal(b.SyncedAt) || got.Version != b.Version {
			t.Fatalf("identical movement %s was rewritten: %+v, was %+v", id, got, b)
		}
	}

	diffs, err := e.st.MovementDifferences(ctx, a.ID, from, to, 10)
	if err != nil || len(diffs) != 1 {
		t.Fatalf("differences %+v, %v; want one", diffs, err)
	}
	d := diffs[0]
	if d.TransactionID != corrected.ID || d.SyncID == nil || *d.SyncID != run.ID ||
		d.Old.Description != ms[100].Description || d.New.Description != corrected.Description ||
		!d.Old.Amount.Equal(ms[100].Amount) || !d.New.Amount.Equal(ms[100].Amount) {
		t.Fatalf("difference %+v", d)
	}
	stored, err := e.st.Movements(ctx, MovementFilter{AccountID: a.ID, From: corrected.Date, To: corrected.Date})
	if err != nil || len(stored) != 1 || stored[0].Description != corrected.Description {
		t.Fatalf("the corrected movement as stored: %+v, %v", stored, err)
	}
}
