package movements

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/store"
)

// MovementSync is one run of syncing an account's movements for a range.
type MovementSync struct {
	ID        int64     `db:"id"`
	AccountID int64     `db:"account_id"`
	From      time.Time `db:"from_at"`
	To        time.Time `db:"to_at"`
	Reason    string    `db:"reason"` // page | manual | schedule | initial | refetch
	State     string    `db:"state"`  // pending | running | done | failed
	// RiverJobID is the River job performing the run; River prunes
	// finished jobs, so it may name one no longer stored.
	RiverJobID  *int64     `db:"river_job_id"`
	Fetched     int        `db:"fetched"`
	Inserted    int        `db:"inserted"`
	Changed     int        `db:"changed"` // stored movements the bank reported differently
	ErrorCode   string     `db:"error_code"`
	Error       string     `db:"error"`
	CreatedAt   time.Time  `db:"created_at"`
	StartedAt   *time.Time `db:"started_at"`
	FinishedAt  *time.Time `db:"finished_at"`
	RequestedBy *int64     `db:"requested_by"`
}

// The states of a sync run.
const (
	SyncPending = "pending"
	SyncRunning = "running"
	SyncDone    = "done"
	SyncFailed  = "failed"
)

// ReasonRefetch is the reason of a run an operator started to fetch stored
// days again, to repair a break in the balance chain; the page reports its
// outcome and offers its own retry.
const ReasonRefetch = "refetch"

// Finished reports whether the run has an outcome.
func (m MovementSync) Finished() bool { return m.State == SyncDone || m.State == SyncFailed }

// NewMovementSync asks for a range of an account to be synced.
type NewMovementSync struct {
	AccountID   int64
	From, To    time.Time
	Reason      string
	RequestedBy int64
}

const movementSyncColumns = `id, account_id, from_at, to_at, reason, state, river_job_id, fetched, inserted, changed,
	error_code, error, created_at, started_at, finished_at, requested_by`

// RequestSync records a sync of [from, to] for an account and queues the
// job that performs it, in one transaction. userID is 0 for the product's
// own syncs. The range is cut to whole seconds, the bank's resolution.
func (s *Service) RequestSync(ctx context.Context, accountID int64, from, to time.Time, reason string, userID int64) (MovementSync, error) {
	var m MovementSync
	err := s.inTx(ctx, "request sync", func(tx *sqlx.Tx) error {
		var err error
		m, err = s.startSync(ctx, tx, NewMovementSync{AccountID: accountID, From: from, To: to, Reason: reason, RequestedBy: userID})
		return err
	})
	return m, err
}

// SyncAccount brings one account up to date now, as the hourly schedule
// would: from its last synced day less the overlap (or InitialSyncDays
// back) to now. ErrSyncBusy when a sync of it is already under way;
// ErrNotFound for no such account.
func (s *Service) SyncAccount(ctx context.Context, accountID, userID int64) (BankAccount, MovementSync, error) {
	var a BankAccount
	var m MovementSync
	err := s.inTx(ctx, "sync account", func(tx *sqlx.Tx) error {
		if err := lockSyncs(ctx, tx, accountID); err != nil {
			return err
		}
		var err error
		if a, err = account(ctx, tx, accountID); err != nil {
			return err
		}
		if a.Pending {
			return ErrSyncBusy
		}
		now := s.now()
		m, err = s.startSync(ctx, tx, NewMovementSync{AccountID: a.ID, From: a.IncrementalFrom(now, Overlap, InitialSyncDays),
			To: now, Reason: "manual", RequestedBy: userID})
		return err
	})
	return a, m, err
}

// enqueueFunc queues the job of the run syncID in tx and returns its id (0
// for none).
type enqueueFunc func(tx *sqlx.Tx, syncID int64) (jobID int64, err error)

// startSync records a run and queues its job in tx.
func (s *Service) startSync(ctx context.Context, tx *sqlx.Tx, n NewMovementSync) (MovementSync, error) {
	return insertSync(ctx, tx, n, s.enqueueSync(ctx))
}

// enqueueSync inserts the River job of a run.
func (s *Service) enqueueSync(ctx context.Context) enqueueFunc {
	return func(tx *sqlx.Tx, syncID int64) (int64, error) {
		res, err := s.jobs.InsertTx(ctx, tx.Tx, SyncArgs{SyncID: syncID}, nil)
		if err != nil {
			return 0, fmt.Errorf("queue sync %d: %w", syncID, err)
		}
		return res.Job.ID, nil
	}
}

// movementSyncLockSpace namespaces the advisory locks that make "join the
// open run or start one" a single step per account.
const movementSyncLockSpace = 0x6d7379 // "msy"

// joinOrStartSync returns the newest unfinished run of the account
// whose range covers [n.From, n.To-slack], so that a second visitor asking
// for the same period a few seconds later (each with its own "now") or a
// double click waits for the fetch under way rather than starting another;
// when there is none it starts one with enqueue. joined reports which. The
// check and the insert hold an advisory lock on the account (lockSyncs),
// so two instances cannot both start one.
func joinOrStartSync(ctx context.Context, tx *sqlx.Tx, n NewMovementSync, slack time.Duration, enqueue enqueueFunc) (m MovementSync, joined bool, err error) {
	n.From, n.To = n.From.Truncate(time.Second), n.To.Truncate(time.Second)
	if err := lockSyncs(ctx, tx, n.AccountID); err != nil {
		return MovementSync{}, false, err
	}
	err = openMovementSync(ctx, tx, &m, n.AccountID, n.From, n.To.Add(-slack))
	if err == nil {
		return m, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return MovementSync{}, false, err
	}
	m, err = insertSync(ctx, tx, n, enqueue)
	return m, false, err
}

// lockSyncs makes "look at the account's open runs, then start one" a
// single step per account until tx ends.
func lockSyncs(ctx context.Context, tx sqlx.ExecerContext, accountID int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, movementSyncLockSpace, int32(accountID)); err != nil {
		return fmt.Errorf("lock account: %w", err)
	}
	return nil
}

// Fetch asks the bank for the parts of [from, to] of an account that are
// not stored: at most one run before the stored span and one after it
// (BankAccount.MissingSpans), each joining a fetch already under way for
// it. It returns the runs, none when the period is stored.
func (s *Service) Fetch(ctx context.Context, a BankAccount, from, to time.Time, userID int64) ([]MovementSync, error) {
	spans := a.MissingSpans(from, to, s.now(), fetchFresh)
	if len(spans) == 0 {
		return nil, nil
	}
	var runs []MovementSync
	err := s.inTx(ctx, "fetch", func(tx *sqlx.Tx) error {
		runs = nil
		for _, sp := range spans {
			run, _, err := joinOrStartSync(ctx, tx, NewMovementSync{AccountID: a.ID, From: sp.From, To: sp.To, Reason: "page", RequestedBy: userID},
				JoinSlack, s.enqueueSync(ctx))
			if err != nil {
				return err
			}
			runs = append(runs, run)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return runs, nil
}

// Refetch fetches [from, to] of an account again, stored or not, through
// the same job as every sync (the client windows the range into one-year
// requests aligned to Istanbul days): what is missing is added, what
// matches is left alone and what the bank reports differently is recorded
// with its old and new version. An unfinished run of the account covering
// [from, to-JoinSlack] is joined instead (a double click, or a fetch under
// way), since every sync compares what it fetches in the same way.
// ErrNotFound for no such account.
func (s *Service) Refetch(ctx context.Context, accountID int64, from, to time.Time, userID int64) (MovementSync, error) {
	return s.refetch(ctx, accountID, from, to, JoinSlack, userID)
}

func (s *Service) refetch(ctx context.Context, accountID int64, from, to time.Time, slack time.Duration, userID int64) (MovementSync, error) {
	var m MovementSync
	err := s.inTx(ctx, "refetch", func(tx *sqlx.Tx) error {
		if _, err := account(ctx, tx, accountID); err != nil {
			return err
		}
		var err error
		m, _, err = joinOrStartSync(ctx, tx, NewMovementSync{AccountID: accountID, From: from, To: to, Reason: ReasonRefetch, RequestedBy: userID},
			slack, s.enqueueSync(ctx))
		return err
	})
	return m, err
}

// insertSync records a run and calls enqueue to queue the job that
// performs it, in tx, so that a run exists exactly when its job does (a job
// id of 0 records none).
func insertSync(ctx context.Context, tx *sqlx.Tx, n NewMovementSync, enqueue enqueueFunc) (MovementSync, error) {
	n.From, n.To = n.From.Truncate(time.Second), n.To.Truncate(time.Second)
	var id int64
	if err := tx.QueryRowxContext(ctx, `INSERT INTO movement_syncs (account_id, from_at, to_at, reason, requested_by)
		VALUES ($1, $2, $3, $4, NULLIF($5, 0)) RETURNING id`, n.AccountID, n.From, n.To, n.Reason, n.RequestedBy).Scan(&id); err != nil {
		return MovementSync{}, err
	}
	jobID, err := enqueue(tx, id)
	if err != nil {
		return MovementSync{}, err
	}
	var m MovementSync
	err = tx.GetContext(ctx, &m, `UPDATE movement_syncs SET river_job_id = NULLIF($2, 0) WHERE id = $1 RETURNING `+movementSyncColumns, id, jobID)
	return m, err
}

// MovementSync returns one sync run.
func (s *Service) MovementSync(ctx context.Context, id int64) (MovementSync, error) {
	var m MovementSync
	if err := s.db.GetContext(ctx, &m, `SELECT `+movementSyncColumns+` FROM movement_syncs WHERE id = $1`, id); err != nil {
		return MovementSync{}, fmt.Errorf("movements: sync %d: %w", id, store.NotFound(err))
	}
	return m, nil
}

// waitPoll is how often WaitSync looks at a run.
const waitPoll = 50 * time.Millisecond

// WaitSync waits until the run has an outcome or ctx ends, whichever is
// first, and returns the run as it then stands: a form waits briefly to
// show the outcome and otherwise shows the run as pending. Only an error
// reading the run is returned, never the end of ctx.
func (s *Service) WaitSync(ctx context.Context, id int64) (MovementSync, error) {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	for {
		m, err := s.MovementSync(context.WithoutCancel(ctx), id)
		if err != nil || m.Finished() {
			return m, err
		}
		select {
		case <-ctx.Done():
			return m, nil
		case <-t.C:
		}
	}
}

// OpenMovementSync returns the newest unfinished run of the account whose
// range includes [from, to]; ErrNotFound when there is none.
func (s *Service) OpenMovementSync(ctx context.Context, accountID int64, from, to time.Time) (MovementSync, error) {
	var m MovementSync
	if err := openMovementSync(ctx, s.db, &m, accountID, from, to); err != nil {
		return MovementSync{}, fmt.Errorf("movements: open sync: %w", err)
	}
	return m, nil
}

func openMovementSync(ctx context.Context, q sqlx.QueryerContext, m *MovementSync, accountID int64, from, to time.Time) error {
	return store.NotFound(sqlx.GetContext(ctx, q, m, `SELECT `+movementSyncColumns+` FROM movement_syncs
		WHERE account_id = $1 AND state IN ('pending', 'running') AND from_at <= $2 AND to_at >= $3
		ORDER BY id DESC LIMIT 1`, accountID, from, to))
}

// OpenMovementSyncs returns the unfinished runs of an account, oldest first.
func (s *Service) OpenMovementSyncs(ctx context.Context, accountID int64) ([]MovementSync, error) {
	var ms []MovementSync
	err := s.db.SelectContext(ctx, &ms, `SELECT `+movementSyncColumns+` FROM movement_syncs
		WHERE account_id = $1 AND state IN ('pending', 'running') ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("movements: open syncs: %w", err)
	}
	return ms, nil
}

// MovementSyncs returns the newest runs of an account.
func (s *Service) MovementSyncs(ctx context.Context, accountID int64, limit int) ([]MovementSync, error) {
	var ms []MovementSync
	err := s.db.SelectContext(ctx, &ms, `SELECT `+movementSyncColumns+` FROM movement_syncs
		WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("movements: syncs: %w", err)
	}
	return ms, nil
}

// markSyncRunning records that an attempt of the run has begun.
func markSyncRunning(ctx context.Context, q sqlx.ExecerContext, id int64) error {
	return store.ExecOne(ctx, q, `UPDATE movement_syncs SET state = 'running', started_at = COALESCE(started_at, now())
		WHERE id = $1`, id)
}

// finishSync records a successful run: its counts, and on the
// account the widened coverage, the latest balance and the sync time. The
// coverage grows only when the run's range meets it; a disjoint range (which
// the product never asks for) leaves it as it was.
func (s *Service) finishSync(ctx context.Context, id int64, fetched, inserted int) error {
	return s.inTx(ctx, fmt.Sprintf("finish sync %d", id), func(tx *sqlx.Tx) error {
		var m MovementSync
		if err := tx.GetContext(ctx, &m, `UPDATE movement_syncs SET state = 'done', fetched = $2, inserted = $3,
			error_code = '', error = '', finished_at = now() WHERE id = $1 RETURNING `+movementSyncColumns, id, fetched, inserted); err != nil {
			return store.NotFound(err)
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE bank_accounts a SET
				synced_from = CASE WHEN a.synced_from IS NULL THEN $2
					WHEN $2 <= a.synced_until + interval '1 second' AND $3 >= a.synced_from - interval '1 second'
					THEN LEAST(a.synced_from, $2) ELSE a.synced_from END,
				synced_until = CASE WHEN a.synced_until IS NULL THEN $3
					WHEN $2 <= a.synced_until + interval '1 second' AND $3 >= a.synced_from - interval '1 second'
					THEN GREATEST(a.synced_until, $3) ELSE a.synced_until END,
				last_sync_at = now(), last_sync_status = 'ok', last_sync_code = '', last_sync_error = '',
				balance = COALESCE((SELECT balance FROM account_movements WHERE account_id = $1
					ORDER BY booked_at DESC, id DESC LIMIT 1), a.balance),
				balance_at = COALESCE((SELECT booked_at FROM account_movements WHERE account_id = $1
					ORDER BY booked_at DESC, id DESC LIMIT 1), a.balance_at),
				updated_at = now()
			WHERE a.id = $1`, m.AccountID, m.From, m.To)
		return err
	})
}

// failSync records a failed attempt. A final failure ends the run
// and marks the account's last sync as failed with the bank's code; an
// attempt that will be retried puts the run back to pending with the error,
// so the page can say why it is still waiting.
func (s *Service) failSync(ctx context.Context, id int64, code, message string, final bool) error {
	return s.inTx(ctx, fmt.Sprintf("fail sync %d", id), func(tx *sqlx.Tx) error {
		state := SyncPending
		if final {
			state = SyncFailed
		}
		var accountID int64
		if err := tx.QueryRowxContext(ctx, `UPDATE movement_syncs SET state = $2, error_code = $3, error = $4,
			finished_at = CASE WHEN $5 THEN now() END WHERE id = $1 RETURNING account_id`,
			id, state, code, message, final).Scan(&accountID); err != nil {
			return store.NotFound(err)
		}
		if !final {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE bank_accounts SET last_sync_at = now(), last_sync_status = 'failed',
			last_sync_code = $2, last_sync_error = $3, updated_at = now() WHERE id = $1`, accountID, code, message)
		return err
	})
}
