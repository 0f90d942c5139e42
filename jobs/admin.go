package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/store"
)

// Filter narrows List. Empty strings match any state or kind; Limit defaults
// to 50 and is capped at 1000.
type Filter struct {
	State, Kind   string
	Limit, Offset int
}

// List returns one page of jobs matching f, newest first, and how many match
// in all.
func List(ctx context.Context, q sqlx.QueryerContext, f Filter) (jobs []Job, total int, err error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	const where = `WHERE ($1 = '' OR state = $1) AND ($2 = '' OR kind = $2)`
	// The page and its total in one query; only a page past the end needs
	// the count on its own.
	var rows []struct {
		Job
		Total int `db:"total"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows,
		`SELECT `+columns+`, count(*) OVER () AS total FROM jobs `+where+` ORDER BY id DESC LIMIT $3 OFFSET $4`,
		f.State, f.Kind, limit, max(f.Offset, 0)); err != nil {
		return nil, 0, fmt.Errorf("jobs: list: %w", err)
	}
	jobs = make([]Job, 0, len(rows))
	for _, r := range rows {
		jobs = append(jobs, r.Job)
		total = r.Total
	}
	if len(rows) == 0 && f.Offset > 0 {
		if err := sqlx.GetContext(ctx, q, &total, `SELECT count(*) FROM jobs `+where, f.State, f.Kind); err != nil {
			return nil, 0, fmt.Errorf("jobs: list: count: %w", err)
		}
	}
	return jobs, total, nil
}

// Get returns the job with that id, or ErrNotFound.
func Get(ctx context.Context, q sqlx.QueryerContext, id int64) (Job, error) {
	var j Job
	err := sqlx.GetContext(ctx, q, &j, `SELECT `+columns+` FROM jobs WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("jobs: get %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %d: %w", id, err)
	}
	return j, nil
}

// Retry puts a failed or cancelled job back in the queue to run now, with its
// attempts reset to 0. last_error is kept so the admin still sees why it
// failed until the next attempt. Other states give ErrNotRetryable.
func Retry(ctx context.Context, q sqlx.ExtContext, id int64) error {
	var kind string
	err := sqlx.GetContext(ctx, q, &kind, `
		WITH upd AS (
			UPDATE jobs SET state = 'queued', attempts = 0, run_at = now(),
				locked_until = NULL, finished_at = NULL, updated_at = now()
			WHERE id = $1 AND state IN ('failed', 'cancelled')
			RETURNING kind
		)
		SELECT kind FROM upd WHERE pg_notify($2, kind)::text IS NOT NULL`, id, Channel)
	if errors.Is(err, sql.ErrNoRows) {
		return stateError(ctx, q, "retry", id, ErrNotRetryable)
	}
	if err != nil {
		return fmt.Errorf("jobs: retry %d: %w", id, err)
	}
	return nil
}

// Cancel stops a queued job from running. A job already running, or
// finished, gives ErrNotCancellable: a handler in flight cannot be recalled.
func Cancel(ctx context.Context, q sqlx.ExtContext, id int64) error {
	res, err := q.ExecContext(ctx, `
		UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now()
		WHERE id = $1 AND state = 'queued'`, id)
	if err != nil {
		return fmt.Errorf("jobs: cancel %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("jobs: cancel %d: %w", id, err)
	} else if n == 0 {
		return stateError(ctx, q, "cancel", id, ErrNotCancellable)
	}
	return nil
}

// RetryBy is Retry asked for by admin by: the job goes back in the queue and
// "job.retry" is recorded in the same transaction, so the audit entry exists
// exactly when the retry does.
func RetryBy(ctx context.Context, db *sqlx.DB, by, id int64) error {
	return adminAction(ctx, db, by, "job.retry", id, Retry)
}

// CancelBy is Cancel asked for by admin by, recorded as "job.cancel" in the
// same transaction.
func CancelBy(ctx context.Context, db *sqlx.DB, by, id int64) error {
	return adminAction(ctx, db, by, "job.cancel", id, Cancel)
}

// JobSubject names a job in the audit log.
func JobSubject(id int64) string { return "job:" + strconv.FormatInt(id, 10) }

// adminAction runs change on job id and its audit entry in one transaction.
func adminAction(ctx context.Context, db *sqlx.DB, by int64, action string, id int64, change func(context.Context, sqlx.ExtContext, int64) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: %s %d: %w", action, id, err)
	}
	// After Commit the rollback is a no-op; before it, the error returned
	// below is the one to report.
	defer func() { _ = tx.Rollback() }()
	if err := change(ctx, tx, id); err != nil {
		return err
	}
	if err := store.Audit(ctx, tx, by, action, JobSubject(id), nil); err != nil {
		return fmt.Errorf("jobs: %s %d: %w", action, id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: %s %d: commit: %w", action, id, err)
	}
	return nil
}

// stateError tells a missing job (ErrNotFound) from one in the wrong state.
func stateError(ctx context.Context, q sqlx.QueryerContext, op string, id int64, wrong error) error {
	var state string
	err := sqlx.GetContext(ctx, q, &state, `SELECT state FROM jobs WHERE id = $1`, id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("jobs: %s %d: %w", op, id, ErrNotFound)
	case err != nil:
		return fmt.Errorf("jobs: %s %d: %w", op, id, err)
	}
	return fmt.Errorf("jobs: %s %d (%s): %w", op, id, state, wrong)
}

// CountByState returns how many jobs are in each state; every state is
// present, with 0 when there are none.
func CountByState(ctx context.Context, q sqlx.QueryerContext) (map[string]int, error) {
	rows, err := q.QueryxContext(ctx, `SELECT state, count(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: count by state: %w", err)
	}
	defer func() { _ = rows.Close() }() // rows.Err below reports a failed read
	counts := map[string]int{StateQueued: 0, StateRunning: 0, StateDone: 0, StateFailed: 0, StateCancelled: 0}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("jobs: count by state: %w", err)
		}
		counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: count by state: %w", err)
	}
	return counts, nil
}

// waitPoll is how often Wait reads the job: short enough for a form waiting a
// few seconds, and one indexed read per tick is cheap.
const waitPoll = 50 * time.Millisecond

// Wait blocks until job id is done, failed or cancelled, or ctx ends, and
// returns its latest row. When ctx ends first it returns the row as last read
// with ctx's error, so a caller can show "still pending".
func Wait(ctx context.Context, q sqlx.QueryerContext, id int64) (Job, error) {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	var last Job
	for {
		j, err := Get(ctx, q, id)
		if err != nil {
			if ctx.Err() != nil {
				return last, fmt.Errorf("jobs: wait %d: %w", id, ctx.Err())
			}
			return last, err
		}
		last = j
		switch j.State {
		case StateDone, StateFailed, StateCancelled:
			return j, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("jobs: wait %d: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// Prune deletes done and cancelled jobs finished before `before`. Failed jobs
// stay: they need a person to look at them.
func Prune(ctx context.Context, q sqlx.ExecerContext, before time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `
		DELETE FROM jobs WHERE state IN ('done', 'cancelled') AND finished_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	return n, nil
}
