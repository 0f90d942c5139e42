package movements

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// TestSaveMovementsRecordsDifferences saves a stored period again as the
// bank now reports it: a movement missing from the store is added, the
// identical ones keep their rows, and each one the bank reports
// differently takes the bank's version while the replaced version is
// recorded with the run; a raw row spelt differently is no difference.
func TestSaveMovementsRecordsDifferences(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	ms := chain(time.Date(2025, 3, 1, 9, 0, 0, 0, ist), time.Hour, 20)
	stored := append(append([]NewMovement{}, ms[:7]...), ms[8:]...) // the 8th never arrived
	if n, err := st.InsertMovements(ctx, a.ID, stored); err != nil || n != 19 {
		t.Fatalf("stored %d, %v", n, err)
	}
	type row struct {
		TransactionID string    `db:"transaction_id"`
		ID            int64     `db:"id"`
		SyncedAt      time.Time `db:"synced_at"`
		Version       string    `db:"xmin"` // changes with any write to the row
	}
	rows := func() map[string]row {
		var rs []row
		if err := st.DB().Select(&rs, `SELECT transaction_id, id, synced_at, xmin::text AS xmin FROM account_movements WHERE account_id = $1`, a.ID); err != nil {
			t.Fatal(err)
		}
		out := map[string]row{}
		for _, r := range rs {
			out[r.TransactionID] = r
		}
		return out
	}
	before := rows()

	run, err := st.StartMovementSync(ctx, NewMovementSync{AccountID: a.ID, From: ms[0].BookedAt, To: ms[19].BookedAt, Reason: "refetch"},
		func(*sqlx.Tx, int64) (int64, error) { return 0, nil })
	if err != nil {
		t.Fatal(err)
	}
	bank := append([]NewMovement{}, ms...)
	bank[3].Amount, bank[3].Balance = bank[3].Amount.Sub(dec("10")), bank[3].Balance.Sub(dec("10"))
	bank[12].Description, bank[12].BookedAt = "Düzeltilmiş açıklama", bank[12].BookedAt.Add(time.Minute)
	bank[15].Raw = []byte(`{"TransactionId": "` + bank[15].TransactionID + `", "Amount": 8}`)
	saved, err := st.SaveMovements(ctx, a.ID, run.ID, bank)
	if err != nil || saved.Inserted != 1 || saved.Changed != 2 {
		t.Fatalf("saved %+v, %v; want 1 inserted, 2 changed", saved, err)
	}
	if got, err := st.MovementSync(ctx, run.ID); err != nil || got.Changed != 2 {
		t.Fatalf("run %+v, %v", got, err)
	}

	after := rows()
	for id, b := range before {
		if id == ms[3].TransactionID || id == ms[12].TransactionID {
			if after[id].ID != b.ID {
				t.Errorf("a corrected movement got a new row: %+v, was %+v", after[id], b)
			}
			continue
		}
		if got := after[id]; got.ID != b.ID || !got.SyncedAt.Equal(b.SyncedAt) || got.Version != b.Version {
			t.Errorf("identical movement %s rewritten: %+v, was %+v", id, after[id], b)
		}
	}

	ds, err := st.MovementDifferences(ctx, a.ID, ms[0].BookedAt, ms[19].BookedAt, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("differences %+v, %v", ds, err)
	}
	byID := map[string]MovementDifference{ds[0].TransactionID: ds[0], ds[1].TransactionID: ds[1]}
	d3, d12 := byID[ms[3].TransactionID], byID[ms[12].TransactionID]
	if d3.SyncID == nil || *d3.SyncID != run.ID || !d3.Old.Amount.Equal(ms[3].Amount) || !d3.New.Amount.Equal(bank[3].Amount) ||
		!d3.Old.Balance.Equal(ms[3].Balance) || !d3.New.Balance.Equal(bank[3].Balance) || d3.Old.Description != d3.New.Description {
		t.Errorf("amount difference %+v", d3)
	}
	if d12.Old.Description != ms[12].Description || d12.New.Description != bank[12].Description ||
		!d12.Old.BookedAt.Equal(ms[12].BookedAt) || !d12.New.BookedAt.Equal(bank[12].BookedAt) || !d12.Old.Amount.Equal(d12.New.Amount) {
		t.Errorf("description and date difference %+v", d12)
	}
	var oldRaw string
	if err := st.DB().Get(&oldRaw, `SELECT old_raw->>'TransactionId' FROM movement_differences WHERE id = $1`, d3.ID); err != nil || oldRaw != ms[3].TransactionID {
		t.Errorf("the replaced raw row: %q, %v", oldRaw, err)
	}
	got, err := st.Movements(ctx, MovementFilter{AccountID: a.ID, From: ms[0].BookedAt, To: ms[19].BookedAt.Add(time.Minute)})
	if err != nil || len(got) != 20 || !got[3].Amount.Equal(bank[3].Amount) || got[12].Description != bank[12].Description {
		t.Fatalf("stored after the save: %d rows, %v", len(got), err)
	}

	// Saving the same again changes nothing.
	if saved, err := st.SaveMovements(ctx, a.ID, 0, bank); err != nil || saved != (MovementsSaved{}) {
		t.Fatalf("second save %+v, %v", saved, err)
	}
	if ds, _ := st.MovementDifferences(ctx, a.ID, ms[0].BookedAt, ms[19].BookedAt, 10); len(ds) != 2 {
		t.Fatalf("%d differences after an identical save", len(ds))
	}
}

// TestSaveMovementsRecordsVanished: a stored movement the bank no longer
// lists in a run's range is kept (never deleted unseen) and recorded once
// as a difference without a new version; an empty answer counts too, and
// movements outside the run's range are not judged.
func TestSaveMovementsRecordsVanished(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	ms := chain(time.Date(2025, 4, 1, 9, 0, 0, 0, ist), time.Hour, 10)
	if n, err := st.InsertMovements(ctx, a.ID, ms); err != nil || n != 10 {
		t.Fatalf("stored %d, %v", n, err)
	}
	run := func(from, to time.Time) int64 {
		r, err := st.StartMovementSync(ctx, NewMovementSync{AccountID: a.ID, From: from, To: to, Reason: "refetch"},
			func(*sqlx.Tx, int64) (int64, error) { return 0, nil })
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	// The bank no longer lists the 5th movement of [2nd, 9th].
	bank := append(append([]NewMovement{}, ms[1:4]...), ms[5:9]...)
	id := run(ms[1].BookedAt, ms[8].BookedAt)
	if saved, err := st.SaveMovements(ctx, a.ID, id, bank); err != nil || saved != (MovementsSaved{Changed: 1}) {
		t.Fatalf("saved %+v, %v; want one difference", saved, err)
	}
	ds, err := st.MovementDifferences(ctx, a.ID, ms[0].BookedAt, ms[9].BookedAt, 10)
	if err != nil || len(ds) != 1 || ds[0].TransactionID != ms[4].TransactionID || !ds[0].Vanished ||
		!ds[0].Old.Amount.Equal(ms[4].Amount) || ds[0].Old.Description != ms[4].Description {
		t.Fatalf("differences %+v, %v", ds, err)
	}
	if tot, _ := st.MovementTotals(ctx, MovementFilter{AccountID: a.ID, From: ms[0].BookedAt, To: ms[9].BookedAt}); tot.Count != 10 {
		t.Fatalf("%d movements stored; the vanished one must stay", tot.Count)
	}
	// Asking again records it no second time.
	if saved, err := st.SaveMovements(ctx, a.ID, run(ms[1].BookedAt, ms[8].BookedAt), bank); err != nil || saved != (MovementsSaved{}) {
		t.Fatalf("second save %+v, %v", saved, err)
	}
	// An empty answer for the last movement's hour: it vanished too.
	if saved, err := st.SaveMovements(ctx, a.ID, run(ms[9].BookedAt, ms[9].BookedAt.Add(time.Minute)), nil); err != nil || saved != (MovementsSaved{Changed: 1}) {
		t.Fatalf("empty answer %+v, %v", saved, err)
	}
	if ds, _ := st.MovementDifferences(ctx, a.ID, ms[0].BookedAt, ms[9].BookedAt, 10); len(ds) != 2 {
		t.Fatalf("%d differences, want 2", len(ds))
	}
}
