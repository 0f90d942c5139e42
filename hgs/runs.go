package hgs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kasa/store"
)

// The outcomes of an HGS sync, from the most to the least useful: what the
// page and the "Refresh now" flash say.
const (
	OutcomeFetched   = "fetched"   // the bank answered every planned call
	OutcomePartial   = "partial"   // some vehicles synced, some failed
	OutcomeBusy      = "busy"      // the bank throttled (429): the rest waits for its Retry-After
	OutcomeQuota     = "quota"     // the day's frequencyPerDay is spent: the rest waits for tomorrow
	OutcomeFailed    = "failed"    // nothing synced: every call failed
	OutcomeUncovered = "uncovered" // nothing synced: no active consent covers the vehicles
	OutcomeNothing   = "nothing"   // nothing to sync: no vehicle yet
)

// SyncRun is what one HGS sync did, kept so a person sees the outcome
// of the scheduled syncs as well as of their own "Refresh now".
type SyncRun struct {
	ID         int64      `db:"id" json:"id"`
	JobID      *int64     `db:"job_id" json:"job_id"`
	Manual     bool       `db:"manual" json:"manual"`
	Outcome    string     `db:"outcome" json:"outcome"`
	Vehicles   int        `db:"vehicles" json:"vehicles"`
	Calls      int        `db:"calls" json:"calls"`
	NewRows    int        `db:"new_rows" json:"new_rows"`
	Failed     int        `db:"failed" json:"failed"`
	Deferred   int        `db:"deferred" json:"deferred"`
	Uncovered  int        `db:"uncovered" json:"uncovered"`
	ErrorCode  string     `db:"error_code" json:"error_code"`
	QuotaLimit int        `db:"quota_limit" json:"quota_limit"`
	RetryAt    *time.Time `db:"retry_at" json:"retry_at"`
	FinishedAt time.Time  `db:"finished_at" json:"finished_at"`
}

// runColumns select a SyncRun.
const runColumns = `id, job_id, manual, outcome, vehicles, calls, new_rows, failed, deferred, uncovered, error_code,
	quota_limit, retry_at, finished_at`

// recordRun keeps the outcome of a sync (finished now).
func (s *Service) recordRun(ctx context.Context, r SyncRun) error {
	var job sql.NullInt64
	if r.JobID != nil && *r.JobID != 0 {
		job = sql.NullInt64{Int64: *r.JobID, Valid: true}
	}
	var retry sql.NullTime
	if r.RetryAt != nil && !r.RetryAt.IsZero() {
		retry = sql.NullTime{Time: *r.RetryAt, Valid: true}
	}
	_, err := s.store.DB().ExecContext(ctx, `INSERT INTO hgs_sync_runs (job_id, manual, outcome, vehicles, calls, new_rows, failed, deferred,
		uncovered, error_code, quota_limit, retry_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		job, r.Manual, r.Outcome, r.Vehicles, r.Calls, r.NewRows, r.Failed, r.Deferred, r.Uncovered,
		store.Truncate(r.ErrorCode, 40), r.QuotaLimit, retry, s.now())
	if err != nil {
		return fmt.Errorf("hgs: record sync run: %w", err)
	}
	return nil
}

// RunOfJob returns the latest outcome recorded by a sync job;
// store.ErrNotFound when it recorded none.
func (s *Service) RunOfJob(ctx context.Context, jobID int64) (SyncRun, error) {
	var r SyncRun
	err := s.store.DB().GetContext(ctx, &r, `SELECT `+runColumns+` FROM hgs_sync_runs WHERE job_id = $1 ORDER BY id DESC LIMIT 1`, jobID)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("hgs: sync run of job %d: %w", jobID, err)
	}
	return r, nil
}

// pruneRuns deletes the records of syncs that finished before `before`;
// the page only shows the latest.
func (s *Service) pruneRuns(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.store.DB().ExecContext(ctx, `DELETE FROM hgs_sync_runs WHERE finished_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("hgs: prune sync runs: %w", err)
	}
	return res.RowsAffected()
}
