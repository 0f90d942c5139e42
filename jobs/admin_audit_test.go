package jobs_test

import (
	"context"
	"errors"
	"testing"

	"kasa/jobs"
)

// TestAdminRetryAndCancelAreAudited: an admin's retry or cancel leaves its
// audit entry in the same transaction; a refused one leaves none, and one
// whose entry cannot be written does not happen.
func TestAdminRetryAndCancelAreAudited(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	ctx := context.Background()
	var admin int64
	if err := db.GetContext(ctx, &admin, `INSERT INTO users (email, name, password_hash, role) VALUES ('admin@kasa.test', 'Admin', 'x', 'admin') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	audits := func(action string, id int64) int {
		t.Helper()
		var n int
		if err := db.GetContext(ctx, &n, `SELECT count(*) FROM audit_log WHERE action = $1 AND subject = $2 AND user_id = $3`, action, jobs.JobSubject(id), admin); err != nil {
			t.Fatal(err)
		}
		return n
	}
	state := func(id int64) string {
		t.Helper()
		j, err := jobs.Get(ctx, db, id)
		if err != nil {
			t.Fatal(err)
		}
		return j.State
	}

	queued := enqueue(t, db, "x", nil)
	if err := jobs.CancelBy(ctx, db, admin, queued); err != nil || state(queued) != jobs.StateCancelled || audits("job.cancel", queued) != 1 {
		t.Fatalf("cancel: %v, %s, %d entries", err, state(queued), audits("job.cancel", queued))
	}
	if err := jobs.RetryBy(ctx, db, admin, queued); err != nil || state(queued) != jobs.StateQueued || audits("job.retry", queued) != 1 {
		t.Fatalf("retry: %v, %s, %d entries", err, state(queued), audits("job.retry", queued))
	}
	// Refused: a queued job cannot be retried, nor a missing one cancelled.
	if err := jobs.RetryBy(ctx, db, admin, queued); !errors.Is(err, jobs.ErrNotRetryable) || audits("job.retry", queued) != 1 {
		t.Errorf("refused retry: %v, %d entries", err, audits("job.retry", queued))
	}
	if err := jobs.CancelBy(ctx, db, admin, 999999); !errors.Is(err, jobs.ErrNotFound) || audits("job.cancel", 999999) != 0 {
		t.Errorf("cancel of a missing job: %v", err)
	}
	// An actor that is no user breaks the audit log's foreign key: the
	// cancel does not happen.
	if err := jobs.CancelBy(ctx, db, 999999, queued); err == nil || state(queued) != jobs.StateQueued {
		t.Errorf("cancel without its audit entry: %v, %s", err, state(queued))
	}
}
