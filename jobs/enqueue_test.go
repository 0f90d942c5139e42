package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"kasa/jobs"
)

func TestEnqueueStoresJob(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	at := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	id := enqueue(t, db, "deliver", map[string]int{"debt": 7}, jobs.RunAt(at), jobs.MaxAttempts(3))
	j, err := jobs.Get(context.Background(), db, id)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]int
	if err := json.Unmarshal(j.Payload, &p); err != nil || p["debt"] != 7 {
		t.Errorf("payload = %s (%v)", j.Payload, err)
	}
	if j.Kind != "deliver" || j.State != jobs.StateQueued || j.MaxAttempts != 3 || !j.RunAt.Equal(at) || j.UniqueKey != "" {
		t.Errorf("job = %+v", j)
	}
	id2 := enqueue(t, db, "cleanup", nil)
	j2, _ := jobs.Get(context.Background(), db, id2)
	if string(j2.Payload) != "{}" || j2.MaxAttempts != 10 || j2.RunAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("defaults: %+v payload %s", j2, j2.Payload)
	}
}

func TestEnqueueFollowsTransaction(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	ctx := context.Background()

	tx := db.MustBegin()
	rolledBack := enqueue(t, tx, "deliver", nil)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Get(ctx, db, rolledBack); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("job of a rolled-back tx: err = %v, want ErrNotFound", err)
	}

	tx = db.MustBegin()
	committed := enqueue(t, tx, "deliver", nil)
	if _, err := jobs.Get(ctx, db, committed); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("job visible before commit: err = %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Get(ctx, db, committed); err != nil {
		t.Errorf("job of a committed tx: %v", err)
	}
}

func TestUniqueKey(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	ctx := context.Background()

	tx := db.MustBegin()
	// Only cleans up when the test stops early; after Commit it is a no-op.
	defer func() { _ = tx.Rollback() }()
	first := enqueue(t, tx, "deliver", nil, jobs.UniqueKey("debt-1"))
	if _, err := jobs.Enqueue(ctx, tx, "deliver", nil, jobs.UniqueKey("debt-1")); !errors.Is(err, jobs.ErrDuplicate) {
		t.Fatalf("second enqueue: err = %v, want ErrDuplicate", err)
	}
	// The transaction must still be usable after the duplicate.
	other := enqueue(t, tx, "deliver", nil, jobs.UniqueKey("debt-2"))
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit after duplicate: %v", err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM jobs WHERE unique_key = 'debt-1'`); err != nil || n != 1 {
		t.Errorf("rows with key debt-1 = %d (%v), want 1", n, err)
	}
	if j, _ := jobs.Get(ctx, db, first); j.UniqueKey != "debt-1" {
		t.Errorf("unique key = %q", j.UniqueKey)
	}
	if _, err := jobs.Get(ctx, db, other); err != nil {
		t.Error(err)
	}

	// Duplicates are refused whatever the state of the first job.
	exec(t, db, `UPDATE jobs SET state = 'done', finished_at = now() WHERE id = $1`, first)
	if _, err := jobs.Enqueue(ctx, db, "deliver", nil, jobs.UniqueKey("debt-1")); !errors.Is(err, jobs.ErrDuplicate) {
		t.Errorf("enqueue over a done job: err = %v, want ErrDuplicate", err)
	}
}

func TestEnqueueBadPayload(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	if _, err := jobs.Enqueue(context.Background(), db, "x", func() {}); err == nil {
		t.Error("unmarshalable payload: want an error")
	}
}
