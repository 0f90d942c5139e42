package consents_test

import (
	"context"
	"database/sql"
	"testing"

	"kasa/migrations"
	"kasa/store/storetest"
)

// TestRiverMigrationQueuesPendingWithdrawals: an install upgraded while a
// confirmed withdrawal waited in the old queue loses nothing: the pending
// withdrawal gets a River job of its own, and the old queue's table goes.
func TestRiverMigrationQueuesPendingWithdrawals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("postgres", storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	p, err := migrations.Provider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 19); err != nil {
		t.Fatal(err)
	}
	var consent, pending, done int64
	row := func(q string, dest *int64, args ...any) {
		t.Helper()
		if err := db.QueryRowContext(ctx, q, args...).Scan(dest); err != nil {
			t.Fatal(err)
		}
	}
	row(`INSERT INTO garanti_consents (consent_id, status, recurring, validation_date, frequency_per_day, tran_begin, tran_end)
		VALUES ('C-1', 'active', true, current_date + 90, 4, current_date - 30, current_date) RETURNING id`, &consent)
	row(`INSERT INTO garanti_revocations (consent_id, mode) VALUES ($1, 'all') RETURNING id`, &pending, consent)
	row(`INSERT INTO garanti_revocations (consent_id, mode, state, finished_at) VALUES ($1, 'all', 'done', now()) RETURNING id`, &done, consent)

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	var job sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT job_id FROM garanti_revocations WHERE id = $1`, pending).Scan(&job); err != nil || !job.Valid {
		t.Fatalf("the pending withdrawal has no job: %v %v", job, err)
	}
	var kind, state string
	var revocation int64
	if err := db.QueryRowContext(ctx, `SELECT kind, state, (args->>'revocation_id')::bigint FROM river_job WHERE id = $1`, job.Int64).
		Scan(&kind, &state, &revocation); err != nil || kind != "garanti.revoke" || state != "available" || revocation != pending {
		t.Fatalf("its River job: %s %s %d %v", kind, state, revocation, err)
	}
	var n int64
	row(`SELECT count(*) FROM river_job WHERE kind = 'garanti.revoke'`, &n)
	if n != 1 {
		t.Errorf("%d withdrawal jobs, want only the pending one's", n)
	}
	row(`SELECT count(*) FROM pg_tables WHERE tablename = 'jobs'`, &n)
	if n != 0 {
		t.Errorf("the old queue's table is still there")
	}
}
