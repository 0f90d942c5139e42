// Package jobs runs durable background work on Postgres: an outbox whose
// jobs are inserted in the caller's transaction, retried with backoff until
// they land, periodic schedules that run once per period across instances,
// and admin helpers to list, retry, cancel and prune jobs.
//
// Time: everything that several instances must agree on — when a job is due,
// when a lease expires — is compared against the database's now(), never a
// process clock. Runner's Options.Now only decides which schedule period it is.
// Tests move time by writing run_at or locked_until directly.
package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Job is one unit of durable work as stored.
type Job struct {
	ID          int64           `db:"id"`
	Kind        string          `db:"kind"`
	Payload     json.RawMessage `db:"payload"`
	State       string          `db:"state"` // queued|running|done|failed|cancelled
	Attempts    int             `db:"attempts"`
	MaxAttempts int             `db:"max_attempts"`
	RunAt       time.Time       `db:"run_at"`
	LockedBy    string          `db:"locked_by"`
	LockedUntil *time.Time      `db:"locked_until"`
	LastError   string          `db:"last_error"`
	UniqueKey   string          `db:"unique_key"`
	CreatedAt   time.Time       `db:"created_at"`
	UpdatedAt   time.Time       `db:"updated_at"`
	FinishedAt  *time.Time      `db:"finished_at"`
}

// The states of a job. A job starts queued, is running while a runner holds
// its lease, and ends done, failed (out of attempts or a permanent error) or
// cancelled (by an admin before it ran).
const (
	StateQueued    = "queued"
	StateRunning   = "running"
	StateDone      = "done"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Channel is the Postgres notification channel Enqueue and Retry notify so
// idle runners on every instance wake up at commit.
const Channel = "kasa_jobs"

// Errors returned by this package; compare with errors.Is.
var (
	// ErrDuplicate means a job with that unique key exists, in any state.
	ErrDuplicate = errors.New("jobs: duplicate unique key")
	// ErrNotFound means no job has that id.
	ErrNotFound = errors.New("jobs: not found")
	// ErrNotRetryable means the job is not failed or cancelled.
	ErrNotRetryable = errors.New("jobs: only failed or cancelled jobs can be retried")
	// ErrNotCancellable means the job is no longer queued.
	ErrNotCancellable = errors.New("jobs: only queued jobs can be cancelled")
)

// maxErrorLen bounds last_error: a provider may answer with a whole HTML page.
const maxErrorLen = 2000

// columns selects a Job; unique_key is NULL when unset, Job holds "".
const columns = `id, kind, payload, state, attempts, max_attempts, run_at, locked_by,
	locked_until, last_error, COALESCE(unique_key, '') AS unique_key,
	created_at, updated_at, finished_at`

// permanentError marks an error not worth retrying.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks an error not worth retrying: the job fails at once, whatever
// attempts it has left. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// retryAfterError asks for a given delay before the next attempt.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter asks for the next attempt no earlier than d (e.g. a provider's
// Retry-After) instead of the backoff. The job still fails when it is out of
// attempts. RetryAfter(nil, d) is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

// panicError is a recovered handler panic, reported as an ordinary error so
// the job is retried like any other failure.
type panicError struct {
	value any
	stack []byte // for the log; last_error keeps only the value
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }
