package movements

import (
	"context"
	"database/sql"
	"testing"

	"kasa/migrations"
	"kasa/store/storetest"
)

// TestRiverMigrationKeepsOpenRuns: an install upgraded while a fetch waits
// in the old queue loses nothing: the open run gets a River job for
// itself and the old queue's job is cancelled; a finished run forgets the
// old queue's job id, which no longer names anything.
func TestRiverMigrationKeepsOpenRuns(t *testing.T) {
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
	if _, err := p.DownTo(ctx, 18); err != nil {
		t.Fatal(err)
	}
	var account, oldJob, open, done int64
	row := func(q string, dest *int64, args ...any) {
		t.Helper()
		if err := db.QueryRowContext(ctx, q, args...).Scan(dest); err != nil {
			t.Fatal(err)
		}
	}
	row(`INSERT INTO bank_accounts (number, name, currency) VALUES ('00158000000000001', 'Ana', 'TRY') RETURNING id`, &account)
	row(`INSERT INTO jobs (kind, payload) VALUES ('movements.sync', '{}') RETURNING id`, &oldJob)
	row(`INSERT INTO movement_syncs (account_id, from_at, to_at, reason, state, job_id)
		VALUES ($1, now() - interval '1 day', now(), 'page', 'running', $2) RETURNING id`, &open, account, oldJob)
	row(`INSERT INTO movement_syncs (account_id, from_at, to_at, reason, state, job_id, finished_at)
		VALUES ($1, now() - interval '2 days', now(), 'manual', 'done', $2, now()) RETURNING id`, &done, account, oldJob)

	if _, err := p.UpTo(ctx, 19); err != nil {
		t.Fatalf("migrating: %v", err)
	}

	var state, kind string
	var syncID int64
	var riverJob sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT s.state, j.kind, (j.args->>'sync_id')::bigint, s.river_job_id
		FROM movement_syncs s JOIN river_job j ON j.id = s.river_job_id WHERE s.id = $1`, open).Scan(&state, &kind, &syncID, &riverJob); err != nil {
		t.Fatalf("the open run's River job: %v", err)
	}
	if state != SyncPending || kind != (SyncArgs{}).Kind() || syncID != open {
		t.Errorf("open run %s with job %s for run %d; want pending with %s for %d", state, kind, syncID, (SyncArgs{}).Kind(), open)
	}
	if err := db.QueryRowContext(ctx, `SELECT river_job_id FROM movement_syncs WHERE id = $1`, done).Scan(&riverJob); err != nil || riverJob.Valid {
		t.Errorf("the finished run names job %v, %v; want none", riverJob, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = $1`, oldJob).Scan(&state); err != nil || state != "cancelled" {
		t.Errorf("the old queue's job is %q, %v; want cancelled", state, err)
	}
}
