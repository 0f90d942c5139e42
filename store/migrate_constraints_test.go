package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/lib/pq"

	"kasa/consents"
	"kasa/migrations"
	"kasa/store/storetest"
)

// TestConstraintsMigrationOnOldData: an install whose data predates the
// job foreign keys and the consent status check (jobs pruned under the
// records that named them, a status no version writes any more) migrates:
// the pruned jobs are forgotten, the live one kept, the odd status becomes
// unknown with the bank's value kept. From then on the constraints hold.
func TestConstraintsMigrationOnOldData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("postgres", storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, db) })
	p, err := migrations.Provider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 14); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	var live int64
	if err := db.QueryRowContext(ctx, `INSERT INTO jobs (kind) VALUES ('x') RETURNING id`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	pruned := live + 1000
	exec(`INSERT INTO debts (erp_code, agent_erp_code, current_account_erp_code, amount, document_no, document_type,
		due_date, transaction_date, currency_id, job_id) SELECT 'E' || n, 'A1', 'C1', 10, 'D' || n, 'Fatura', '2025-01-01',
		'2025-01-01', 'TRY', j FROM (VALUES (1, $1::bigint), (2, $2::bigint)) AS v (n, j)`, live, pruned)
	exec(`INSERT INTO hgs_sync_runs (job_id, outcome) VALUES ($1, 'fetched')`, pruned)
	exec(`INSERT INTO garanti_consents (consent_id, status, raw_status, recurring, validation_date, frequency_per_day,
		tran_begin, tran_end) VALUES ('c1', 'pending', 'Q', true, '2025-01-01', 1, '2025-01-01', '2025-01-01')`)

	// Up to the version under test: later ones move the debts' jobs to River.
	if _, err := p.UpTo(ctx, 15); err != nil {
		t.Fatalf("migrating old data: %v", err)
	}

	var debtJobs []sql.NullInt64
	rows, err := db.QueryContext(ctx, `SELECT job_id FROM debts ORDER BY erp_code`)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, rows)
	for rows.Next() {
		var j sql.NullInt64
		if err := rows.Scan(&j); err != nil {
			t.Fatal(err)
		}
		debtJobs = append(debtJobs, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(debtJobs) != 2 || debtJobs[0].Int64 != live || debtJobs[1].Valid {
		t.Errorf("debts' jobs after migrating = %v; want [%d, NULL]", debtJobs, live)
	}
	var runJob sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT job_id FROM hgs_sync_runs`).Scan(&runJob); err != nil || runJob.Valid {
		t.Errorf("HGS run's job after migrating = %v, %v; want NULL", runJob, err)
	}
	var status, raw string
	if err := db.QueryRowContext(ctx, `SELECT status, raw_status FROM garanti_consents`).Scan(&status, &raw); err != nil ||
		status != "unknown" || raw != "Q" {
		t.Errorf("consent after migrating = %q (raw %q), %v; want unknown (raw Q)", status, raw, err)
	}

	refused := func(what, code, q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || string(pqErr.Code) != code {
			t.Errorf("%s: %v; want SQLSTATE %s", what, err, code)
		}
	}
	refused("a debt naming no job", "23503", `UPDATE debts SET job_id = $1`, pruned)
	refused("a status the product does not write", "23514", `UPDATE garanti_consents SET status = 'pending'`)
	for _, s := range []string{consents.Awaiting, consents.Authorised, consents.Active, consents.Expired,
		consents.Revoked, consents.Rejected, consents.Abandoned, "unknown"} {
		exec(`UPDATE garanti_consents SET status = $1`, s)
	}
}
