package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kasa/jobs"
)

func TestRetryAndCancelRules(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	ctx := context.Background()
	in := func(state string) int64 {
		id := enqueue(t, db, "deliver", nil)
		exec(t, db, `UPDATE jobs SET state = $2, attempts = 3, last_error = 'why',
			finished_at = CASE WHEN $2 IN ('done', 'failed', 'cancelled') THEN now() END
			WHERE id = $1`, id, state)
		return id
	}
	for _, tc := range []struct {
		state      string
		retry      error
		cancel     error
		afterRetry string
	}{
		{jobs.StateQueued, jobs.ErrNotRetryable, nil, ""},
		{jobs.StateRunning, jobs.ErrNotRetryable, jobs.ErrNotCancellable, ""},
		{jobs.StateDone, jobs.ErrNotRetryable, jobs.ErrNotCancellable, ""},
		{jobs.StateFailed, nil, jobs.ErrNotCancellable, jobs.StateQueued},
		{jobs.StateCancelled, nil, jobs.ErrNotCancellable, jobs.StateQueued},
	} {
		t.Run(tc.state, func(t *testing.T) {
			id := in(tc.state)
			err := jobs.Retry(ctx, db, id)
			if !errors.Is(err, tc.retry) || (tc.retry == nil) != (err == nil) {
				t.Errorf("Retry: err = %v, want %v", err, tc.retry)
			}
			if err == nil {
				j, _ := jobs.Get(ctx, db, id)
				if j.State != jobs.StateQueued || j.Attempts != 0 || j.LastError != "why" || j.FinishedAt != nil || j.RunAt.After(time.Now().Add(time.Minute)) {
					t.Errorf("after Retry: %+v", j)
				}
			}
			id = in(tc.state)
			err = jobs.Cancel(ctx, db, id)
			if !errors.Is(err, tc.cancel) || (tc.cancel == nil) != (err == nil) {
				t.Errorf("Cancel: err = %v, want %v", err, tc.cancel)
			}
			j, _ := jobs.Get(ctx, db, id)
			if want := tc.state; err == nil {
				if j.State != jobs.StateCancelled || j.FinishedAt == nil {
					t.Errorf("after Cancel: %+v", j)
				}
			} else if j.State != want {
				t.Errorf("refused Cancel changed state to %s", j.State)
			}
		})
	}
	if err := jobs.Retry(ctx, db, 999999); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("Retry missing: %v", err)
	}
	if err := jobs.Cancel(ctx, db, 999999); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("Cancel missing: %v", err)
	}
}

func TestListGetCount(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		kind := "a"
		if i%2 == 1 {
			kind = "b"
		}
		ids = append(ids, enqueue(t, db, kind, nil))
	}
	exec(t, db, `UPDATE jobs SET state = 'failed', finished_at = now() WHERE id = $1`, ids[4])

	all, total, err := jobs.List(ctx, db, jobs.Filter{})
	if err != nil || total != 5 || len(all) != 5 || all[0].ID != ids[4] || all[4].ID != ids[0] {
		t.Fatalf("List all: total %d len %d err %v", total, len(all), err)
	}
	page, total, err := jobs.List(ctx, db, jobs.Filter{Kind: "a", Limit: 1, Offset: 1})
	if err != nil || total != 3 || len(page) != 1 || page[0].ID != ids[2] {
		t.Errorf("List kind a page 2: %v total %d err %v", page, total, err)
	}
	failed, total, err := jobs.List(ctx, db, jobs.Filter{State: jobs.StateFailed})
	if err != nil || total != 1 || len(failed) != 1 || failed[0].ID != ids[4] {
		t.Errorf("List failed: %v total %d err %v", failed, total, err)
	}
	none, total, err := jobs.List(ctx, db, jobs.Filter{Kind: "zzz"})
	if err != nil || total != 0 || none == nil || len(none) != 0 {
		t.Errorf("List none: %v total %d err %v", none, total, err)
	}

	counts, err := jobs.CountByState(ctx, db)
	want := map[string]int{"queued": 4, "running": 0, "done": 0, "failed": 1, "cancelled": 0}
	if err != nil || len(counts) != len(want) {
		t.Fatalf("CountByState = %v, %v", counts, err)
	}
	for s, n := range want {
		if counts[s] != n {
			t.Errorf("count[%s] = %d, want %d", s, counts[s], n)
		}
	}
	if _, err := jobs.Get(ctx, db, 424242); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
}

func TestPruneKeepsFailed(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	ctx := context.Background()
	finished := func(state string, ago time.Duration) int64 {
		id := enqueue(t, db, "x", nil)
		exec(t, db, `UPDATE jobs SET state = $2, finished_at = now() - $3 * interval '1 second' WHERE id = $1`,
			id, state, ago.Seconds())
		return id
	}
	oldDone := finished(jobs.StateDone, 48*time.Hour)
	oldCancelled := finished(jobs.StateCancelled, 48*time.Hour)
	oldFailed := finished(jobs.StateFailed, 48*time.Hour)
	newDone := finished(jobs.StateDone, time.Minute)
	queued := enqueue(t, db, "x", nil)

	n, err := jobs.Prune(ctx, db, time.Now().Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	for _, id := range []int64{oldDone, oldCancelled} {
		if _, err := jobs.Get(ctx, db, id); !errors.Is(err, jobs.ErrNotFound) {
			t.Errorf("job %d survived Prune: %v", id, err)
		}
	}
	for _, id := range []int64{oldFailed, newDone, queued} {
		if _, err := jobs.Get(ctx, db, id); err != nil {
			t.Errorf("job %d pruned: %v", id, err)
		}
	}
}

// TestPruneKeepsTheRecordsOfItsJobs: the records a pruned job delivered or
// ran stay, and forget the job. (HGS sync records name River jobs, which
// the old queue's prune does not touch.)
func TestPruneKeepsTheRecordsOfItsJobs(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	ctx := context.Background()
	id := enqueue(t, db, "x", nil)
	exec(t, db, `UPDATE jobs SET state = 'done', finished_at = now() - interval '2 days' WHERE id = $1`, id)
	exec(t, db, `INSERT INTO debts (erp_code, agent_erp_code, current_account_erp_code, amount, document_no, document_type,
		due_date, transaction_date, currency_id, state, job_id) VALUES ('E1', 'A1', 'C1', 10, 'D1', 'Fatura', '2025-01-01',
		'2025-01-01', 'TRY', 'delivered', $1)`, id)
	exec(t, db, `INSERT INTO debt_syncs (state, job_id) VALUES ('done', $1)`, id)
	exec(t, db, `INSERT INTO debt_notifications (day, debts, agents, request_id, state, job_id)
		VALUES ('2025-01-01', 1, 1, 'r1', 'sent', $1)`, id)

	if n, err := jobs.Prune(ctx, db, time.Now().Add(-24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1", n, err)
	}
	for _, table := range []string{"debts", "debt_syncs", "debt_notifications"} {
		var rows, named int
		if err := db.QueryRow(`SELECT count(*), count(job_id) FROM `+table).Scan(&rows, &named); err != nil {
			t.Fatal(err)
		}
		if rows != 1 || named != 0 {
			t.Errorf("%s after the prune: %d rows, %d naming a job; want 1, 0", table, rows, named)
		}
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	start(t, db, map[string]jobs.HandlerFunc{"slow": func(ctx context.Context, j jobs.Job) error {
		<-release
		return nil
	}}, jobs.Options{})
	t.Cleanup(unblock) // runs before the runner stops, should the test fail early
	id := enqueue(t, db, "slow", nil)

	// Before the job ends, Wait gives up with ctx and the row as last read.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	j, err := jobs.Wait(ctx, db, id)
	if !errors.Is(err, context.DeadlineExceeded) || j.ID != id || j.State == jobs.StateDone {
		t.Errorf("Wait before done = %+v, %v", j, err)
	}

	unblock()
	j = wait(t, db, id)
	if j.State != jobs.StateDone || j.FinishedAt == nil || j.Attempts != 1 {
		t.Errorf("Wait = %+v", j)
	}
	if _, err := jobs.Wait(context.Background(), db, 777); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("Wait missing: %v", err)
	}
}
