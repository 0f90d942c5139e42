package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/riverqueue/river/rivertype"

	"kasa/store"
)

// Job is a job as the Jobs page shows it: River's row in the product's five
// states.
type Job struct {
	ID          int64
	Kind        string
	State       string
	Attempts    int
	MaxAttempts int
	RunAt       time.Time
	LastError   string
}

// The product's job states. River's available, scheduled, retryable and
// pending jobs are all queued: each will run when due.
const (
	StateQueued    = "queued"
	StateRunning   = "running"
	StateDone      = "done"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// riverStates maps a product state to River's.
var riverStates = map[string][]string{
	StateQueued:    {"available", "scheduled", "retryable", "pending"},
	StateRunning:   {"running"},
	StateDone:      {"completed"},
	StateFailed:    {"discarded"},
	StateCancelled: {"cancelled"},
}

// stateOf maps a River state to the product's.
func stateOf(riverState string) string {
	for state, rs := range riverStates {
		for _, r := range rs {
			if r == riverState {
				return state
			}
		}
	}
	return riverState
}

// Errors of the Jobs page's actions; compare with errors.Is.
var (
	// ErrNotFound means no job has that id (or River pruned it).
	ErrNotFound = errors.New("queue: job not found")
	// ErrNotRetryable means the job is neither failed nor cancelled.
	ErrNotRetryable = errors.New("queue: only failed or cancelled jobs can be retried")
	// ErrNotCancellable means the job is no longer queued.
	ErrNotCancellable = errors.New("queue: only queued jobs can be cancelled")
)

// Filter narrows List. Empty strings match any state or kind; Limit defaults
// to 50 and is capped at 1000.
type Filter struct {
	State, Kind   string
	Limit, Offset int
}

type jobRow struct {
	ID          int64           `db:"id"`
	Kind        string          `db:"kind"`
	State       string          `db:"state"`
	Attempt     int             `db:"attempt"`
	MaxAttempts int             `db:"max_attempts"`
	ScheduledAt time.Time       `db:"scheduled_at"`
	Errors      json.RawMessage `db:"errors"`
}

func (r jobRow) job() Job {
	j := Job{ID: r.ID, Kind: r.Kind, State: stateOf(r.State), Attempts: r.Attempt, MaxAttempts: r.MaxAttempts, RunAt: r.ScheduledAt}
	var errs []rivertype.AttemptError
	if json.Unmarshal(r.Errors, &errs) == nil && len(errs) > 0 {
		j.LastError = errs[len(errs)-1].Error
	}
	return j
}

// List returns one page of jobs matching f, newest first, and how many match
// in all.
func List(ctx context.Context, q sqlx.QueryerContext, f Filter) ([]Job, int, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	states := []string{} // none: every state (a nil slice would be NULL)
	if f.State != "" {
		if states = riverStates[f.State]; states == nil {
			states = []string{f.State} // matches nothing: an unknown state lists no job
		}
	}
	const where = `WHERE (cardinality($1::text[]) = 0 OR state::text = ANY($1)) AND ($2 = '' OR kind = $2)`
	var rows []struct {
		jobRow
		Total int `db:"total"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT id, kind, state::text AS state, attempt, max_attempts, scheduled_at, COALESCE(to_json(errors), '[]') AS errors,
		       count(*) OVER () AS total
		FROM river_job `+where+` ORDER BY id DESC LIMIT $3 OFFSET $4`,
		pq.Array(states), f.Kind, limit, max(f.Offset, 0)); err != nil {
		return nil, 0, fmt.Errorf("queue: list: %w", err)
	}
	jobs := make([]Job, 0, len(rows))
	total := 0
	for _, r := range rows {
		jobs = append(jobs, r.job())
		total = r.Total
	}
	if len(rows) == 0 && f.Offset > 0 {
		if err := sqlx.GetContext(ctx, q, &total, `SELECT count(*) FROM river_job `+where, pq.Array(states), f.Kind); err != nil {
			return nil, 0, fmt.Errorf("queue: list: count: %w", err)
		}
	}
	return jobs, total, nil
}

// Get returns the job with that id, or ErrNotFound.
func Get(ctx context.Context, q sqlx.QueryerContext, id int64) (Job, error) {
	var r jobRow
	err := sqlx.GetContext(ctx, q, &r, `
		SELECT id, kind, state::text AS state, attempt, max_attempts, scheduled_at, COALESCE(to_json(errors), '[]') AS errors
		FROM river_job WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("queue: job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("queue: job %d: %w", id, err)
	}
	return r.job(), nil
}

// CountByState returns how many jobs are in each product state; every state
// is present, with 0 when there are none.
func CountByState(ctx context.Context, q sqlx.QueryerContext) (map[string]int, error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT state::text AS state, count(*) AS n FROM river_job GROUP BY state`); err != nil {
		return nil, fmt.Errorf("queue: count by state: %w", err)
	}
	counts := map[string]int{StateQueued: 0, StateRunning: 0, StateDone: 0, StateFailed: 0, StateCancelled: 0}
	for _, r := range rows {
		counts[stateOf(r.State)] += r.N
	}
	return counts, nil
}

// Retry makes a failed or cancelled job run again now, and records who did
// it in the audit trail in the same transaction.
func Retry(ctx context.Context, st *store.Store, c *Client, actor, id int64) error {
	return st.InTx(ctx, func(tx *sqlx.Tx) error {
		j, err := lockJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if j.State != StateFailed && j.State != StateCancelled {
			return fmt.Errorf("queue: retry %d (%s): %w", id, j.State, ErrNotRetryable)
		}
		if _, err := c.JobRetryTx(ctx, tx.Tx, id); err != nil {
			return fmt.Errorf("queue: retry %d: %w", id, err)
		}
		return store.Audit(ctx, tx, actor, "job.retry", "job:"+strconv.FormatInt(id, 10), nil)
	})
}

// Cancel cancels a queued job before it runs, and records who did it in the
// audit trail in the same transaction.
func Cancel(ctx context.Context, st *store.Store, c *Client, actor, id int64) error {
	return st.InTx(ctx, func(tx *sqlx.Tx) error {
		j, err := lockJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if j.State != StateQueued {
			return fmt.Errorf("queue: cancel %d (%s): %w", id, j.State, ErrNotCancellable)
		}
		if _, err := c.JobCancelTx(ctx, tx.Tx, id); err != nil {
			return fmt.Errorf("queue: cancel %d: %w", id, err)
		}
		return store.Audit(ctx, tx, actor, "job.cancel", "job:"+strconv.FormatInt(id, 10), nil)
	})
}

// lockJob reads a job and holds its row until the transaction ends, so a
// worker cannot start it between the check and the change.
func lockJob(ctx context.Context, tx *sqlx.Tx, id int64) (Job, error) {
	var r jobRow
	err := tx.GetContext(ctx, &r, `
		SELECT id, kind, state::text AS state, attempt, max_attempts, scheduled_at, COALESCE(to_json(errors), '[]') AS errors
		FROM river_job WHERE id = $1 FOR UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("queue: job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("queue: job %d: %w", id, err)
	}
	return r.job(), nil
}
