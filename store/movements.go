package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
)

// Movement is one stored account movement.
type Movement struct {
	ID            int64           `db:"id"`
	AccountID     int64           `db:"account_id"`
	TransactionID string          `db:"transaction_id"`
	BookedAt      time.Time       `db:"booked_at"`
	Direction     string          `db:"direction"` // in | out
	Amount        decimal.Decimal `db:"amount"`    // signed: money out is negative
	Balance       decimal.Decimal `db:"balance"`   // after the movement
	Currency      string          `db:"currency"`
	Code          string          `db:"code"`
	Name          string          `db:"name"`
	Description   string          `db:"description"`
}

// NewMovement is a movement as the bank reported it, to be stored.
type NewMovement struct {
	TransactionID string
	BookedAt      time.Time
	Direction     string // in | out
	Amount        decimal.Decimal
	Balance       decimal.Decimal
	Currency      string
	Code          string
	Name          string
	Description   string
	Raw           json.RawMessage // the bank's row as sent; {} when empty
}

// InsertMovements stores the movements of one account outside any sync
// run and returns how many were new; it is SaveMovements without a run.
func (s *Store) InsertMovements(ctx context.Context, accountID int64, ms []NewMovement) (int, error) {
	saved, err := s.SaveMovements(ctx, accountID, 0, ms)
	return saved.Inserted, err
}

// MovementsSaved is what saving a batch of the bank's movements changed.
type MovementsSaved struct {
	Inserted int // movements not stored before
	Changed  int // stored movements the bank now reports differently or no longer lists
}

// SaveMovements stores the movements of one account in the bank's order
// for the sync run syncID (0 for none). A movement not stored yet is
// added; one stored identically is left alone (its row, id and synced_at
// unchanged); one whose date, amount, balance or text the bank now reports
// differently takes the bank's version, and the version it replaces is
// recorded in movement_differences with the run, so that nothing is
// overwritten unseen and the page can show both. For a run, a stored
// movement of its range that the answer no longer lists is flagged there
// too, once, and kept. The rows are streamed with COPY into a temporary
// table and compared and moved with a few set-based statements, so tens of
// thousands of rows cost a few round trips. Syncs of one account are
// serialised by an advisory lock, which lets the anti-join replace ON
// CONFLICT, the slower way to de-duplicate; the unique index still guards
// the data.
func (s *Store) SaveMovements(ctx context.Context, accountID, syncID int64, ms []NewMovement) (MovementsSaved, error) {
	ms = uniqueMovements(ms)
	if len(ms) == 0 && syncID == 0 {
		return MovementsSaved{}, nil // a run's empty answer may still tell of vanished movements
	}
	var saved MovementsSaved
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		saved, err = saveMovements(ctx, tx, accountID, syncID, ms)
		return err
	})
	if err != nil {
		return MovementsSaved{}, fmt.Errorf("store: save movements: %w", err)
	}
	return saved, nil
}

// uniqueMovements drops repeated TransactionIds, keeping the first.
func uniqueMovements(ms []NewMovement) []NewMovement {
	seen := make(map[string]bool, len(ms))
	out := ms[:0:0]
	for _, m := range ms {
		if !seen[m.TransactionID] {
			seen[m.TransactionID] = true
			out = append(out, m)
		}
	}
	return out
}

// movementLockSpace namespaces the advisory locks of movement syncs.
const movementLockSpace = 0x6d6f76 // "mov"

func saveMovements(ctx context.Context, tx *sqlx.Tx, accountID, syncID int64, ms []NewMovement) (MovementsSaved, error) {
	// The rows can be fetched again from the bank, and the sync run that
	// records their coverage commits synchronously afterwards (flushing this
	// WAL too), so this transaction need not wait for its own flush. A
	// replaced version is recorded in this same transaction, so a commit
	// lost in a crash loses the replacement with it, never the old version.
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
		return MovementsSaved{}, fmt.Errorf("commit mode: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, movementLockSpace, int32(accountID)); err != nil {
		return MovementsSaved{}, fmt.Errorf("lock account: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE movements_in (
		ord INT, transaction_id TEXT, booked_at TIMESTAMPTZ, direction TEXT, amount NUMERIC(18,2),
		balance NUMERIC(18,2), currency TEXT, code TEXT, name TEXT, description TEXT, raw JSONB
	) ON COMMIT DROP`); err != nil {
		return MovementsSaved{}, fmt.Errorf("temp table: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `COPY movements_in (ord, transaction_id, booked_at, direction, amount, balance, currency, code, name, description, raw) FROM STDIN`)
	if err != nil {
		return MovementsSaved{}, fmt.Errorf("copy: %w", err)
	}
	for i, m := range ms {
		raw := string(m.Raw)
		if len(m.Raw) == 0 {
			raw = "{}"
		}
		if _, err := stmt.ExecContext(ctx, i, m.TransactionID, m.BookedAt, m.Direction, m.Amount.StringFixed(2),
			m.Balance.StringFixed(2), m.Currency, m.Code, m.Name, m.Description, raw); err != nil {
			return MovementsSaved{}, errors.Join(fmt.Errorf("copy row %d: %w", i, err), stmt.Close())
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return MovementsSaved{}, errors.Join(fmt.Errorf("copy: %w", err), stmt.Close())
	}
	if err := stmt.Close(); err != nil {
		return MovementsSaved{}, fmt.Errorf("copy: %w", err)
	}
	changed, err := recordDifferences(ctx, tx, accountID, syncID)
	if err != nil {
		return MovementsSaved{}, err
	}
	// ORDER BY assigns ids in the bank's order.
	res, err := tx.ExecContext(ctx, `
		INSERT INTO account_movements (account_id, transaction_id, booked_at, direction, amount, balance,
			currency, code, name, description, raw)
		SELECT $1, transaction_id, booked_at, direction, amount, balance, currency, code, name, description, raw
		FROM movements_in i
		WHERE NOT EXISTS (SELECT 1 FROM account_movements m WHERE m.account_id = $1 AND m.transaction_id = i.transaction_id)
		ORDER BY ord`, accountID)
	if err != nil {
		return MovementsSaved{}, fmt.Errorf("insert: %w", err)
	}
	inserted, err := res.RowsAffected()
	if err != nil {
		return MovementsSaved{}, fmt.Errorf("insert: %w", err)
	}
	if syncID != 0 {
		vanished, err := recordVanished(ctx, tx, accountID, syncID)
		if err != nil {
			return MovementsSaved{}, err
		}
		changed += vanished
		if _, err := tx.ExecContext(ctx, `UPDATE movement_syncs SET changed = $2 WHERE id = $1`, syncID, changed); err != nil {
			return MovementsSaved{}, fmt.Errorf("count changes: %w", err)
		}
	}
	return MovementsSaved{Inserted: int(inserted), Changed: changed}, nil
}

// recordVanished flags, once each, the stored movements dated within the
// run's range that the bank's answer in movements_in no longer lists. They
// are not deleted: the bank may have reversed a record or moved it to
// another date, which only a person can tell apart.
func recordVanished(ctx context.Context, tx *sqlx.Tx, accountID, syncID int64) (int, error) {
	res, err := tx.ExecContext(ctx, `
		INSERT INTO movement_differences (account_id, movement_id, sync_id, transaction_id,
			old_booked_at, old_direction, old_amount, old_balance, old_currency, old_code, old_name, old_description, old_raw)
		SELECT $1, m.id, $2, m.transaction_id,
			m.booked_at, m.direction, m.amount, m.balance, m.currency, m.code, m.name, m.description, m.raw
		FROM account_movements m JOIN movement_syncs s ON s.id = $2
		WHERE m.account_id = $1 AND m.booked_at BETWEEN s.from_at AND s.to_at
			AND NOT EXISTS (SELECT 1 FROM movements_in i WHERE i.transaction_id = m.transaction_id)
		ORDER BY m.booked_at, m.id
		ON CONFLICT (movement_id) WHERE new_booked_at IS NULL DO NOTHING`, accountID, syncID)
	if err != nil {
		return 0, fmt.Errorf("record vanished: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("record vanished: %w", err)
	}
	return int(n), nil
}

// recordDifferences gives the stored movements that the batch in
// movements_in reports differently the bank's version, and records each
// replaced version with the run that found it. The raw row alone differing
// (the bank spelling a number another way) is not a difference.
func recordDifferences(ctx context.Context, tx *sqlx.Tx, accountID, syncID int64) (int, error) {
	// The self-join reads the row as it was before the UPDATE, so
	// RETURNING can hand the replaced version to the INSERT.
	var n int
	err := tx.QueryRowxContext(ctx, `
		WITH changed AS (
			UPDATE account_movements m SET booked_at = i.booked_at, direction = i.direction, amount = i.amount,
				balance = i.balance, currency = i.currency, code = i.code, name = i.name,
				description = i.description, raw = i.raw, synced_at = now()
			FROM movements_in i, account_movements o
			WHERE m.account_id = $1 AND m.transaction_id = i.transaction_id AND o.id = m.id
				AND (o.booked_at, o.direction, o.amount, o.balance, o.currency, o.code, o.name, o.description)
					IS DISTINCT FROM (i.booked_at, i.direction, i.amount, i.balance, i.currency, i.code, i.name, i.description)
			RETURNING m.id, m.transaction_id, o.booked_at AS old_booked_at, o.direction AS old_direction,
				o.amount AS old_amount, o.balance AS old_balance, o.currency AS old_currency, o.code AS old_code,
				o.name AS old_name, o.description AS old_description, o.raw AS old_raw,
				i.booked_at, i.direction, i.amount, i.balance, i.currency, i.code, i.name, i.description
		), recorded AS (
			INSERT INTO movement_differences (account_id, movement_id, sync_id, transaction_id,
				old_booked_at, old_direction, old_amount, old_balance, old_currency, old_code, old_name, old_description, old_raw,
				new_booked_at, new_direction, new_amount, new_balance, new_currency, new_code, new_name, new_description)
			SELECT $1, id, NULLIF($2::bigint, 0), transaction_id,
				old_booked_at, old_direction, old_amount, old_balance, old_currency, old_code, old_name, old_description, old_raw,
				booked_at, direction, amount, balance, currency, code, name, description
			FROM changed
			RETURNING 1
		)
		SELECT count(*) FROM recorded`, accountID, syncID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record differences: %w", err)
	}
	return n, nil
}

// MovementSync is one run of syncing an account's movements for a range.
type MovementSync struct {
	ID          int64      `db:"id"`
	AccountID   int64      `db:"account_id"`
	From        time.Time  `db:"from_at"`
	To          time.Time  `db:"to_at"`
	Reason      string     `db:"reason"` // page | manual | schedule | initial | refetch
	State       string     `db:"state"`  // pending | running | done | failed
	JobID       *int64     `db:"job_id"`
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

const movementSyncColumns = `id, account_id, from_at, to_at, reason, state, job_id, fetched, inserted, changed,
	error_code, error, created_at, started_at, finished_at, requested_by`

// StartMovementSync records a sync run and, in the same transaction, calls
// enqueue to queue the job that performs it, so that a run exists exactly
// when its job does (a job id of 0 records none). The range is cut to whole
// seconds, the bank's resolution.
func (s *Store) StartMovementSync(ctx context.Context, n NewMovementSync, enqueue func(tx *sqlx.Tx, syncID int64) (jobID int64, err error)) (MovementSync, error) {
	var m MovementSync
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		m, err = startMovementSync(ctx, tx, n, enqueue)
		return err
	})
	if err != nil {
		return MovementSync{}, fmt.Errorf("store: start movement sync: %w", err)
	}
	return m, nil
}

// movementSyncLockSpace namespaces the advisory locks that make "join the
// open run or start one" a single step per account.
const movementSyncLockSpace = 0x6d7379 // "msy"

// JoinOrStartMovementSync returns the newest unfinished run of the account
// whose range covers [n.From, n.To-slack], so that a second visitor asking
// for the same period a few seconds later (each with its own "now") or a
// double click waits for the fetch under way rather than starting another;
// when there is none it starts one as StartMovementSync does. joined
// reports which. The check and the insert hold an advisory lock on the
// account, so two instances cannot both start one.
func (s *Store) JoinOrStartMovementSync(ctx context.Context, n NewMovementSync, slack time.Duration,
	enqueue func(tx *sqlx.Tx, syncID int64) (jobID int64, err error)) (m MovementSync, joined bool, err error) {
	n.From, n.To = n.From.Truncate(time.Second), n.To.Truncate(time.Second)
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, movementSyncLockSpace, int32(n.AccountID)); err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		err := openMovementSync(ctx, tx, &m, n.AccountID, n.From, n.To.Add(-slack))
		if err == nil {
			joined = true
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		m, err = startMovementSync(ctx, tx, n, enqueue)
		return err
	})
	if err != nil {
		return MovementSync{}, false, fmt.Errorf("store: join or start movement sync: %w", err)
	}
	return m, joined, nil
}

func startMovementSync(ctx context.Context, tx *sqlx.Tx, n NewMovementSync, enqueue func(tx *sqlx.Tx, syncID int64) (int64, error)) (MovementSync, error) {
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
	err = tx.GetContext(ctx, &m, `UPDATE movement_syncs SET job_id = NULLIF($2, 0) WHERE id = $1 RETURNING `+movementSyncColumns, id, jobID)
	return m, err
}

// MovementSync returns one sync run.
func (s *Store) MovementSync(ctx context.Context, id int64) (MovementSync, error) {
	var m MovementSync
	if err := s.db.GetContext(ctx, &m, `SELECT `+movementSyncColumns+` FROM movement_syncs WHERE id = $1`, id); err != nil {
		return MovementSync{}, fmt.Errorf("store: movement sync %d: %w", id, notFound(err))
	}
	return m, nil
}

// OpenMovementSync returns the newest unfinished run of the account whose
// range includes [from, to]; ErrNotFound when there is none.
func (s *Store) OpenMovementSync(ctx context.Context, accountID int64, from, to time.Time) (MovementSync, error) {
	var m MovementSync
	if err := openMovementSync(ctx, s.db, &m, accountID, from, to); err != nil {
		return MovementSync{}, fmt.Errorf("store: open movement sync: %w", err)
	}
	return m, nil
}

func openMovementSync(ctx context.Context, q sqlx.QueryerContext, m *MovementSync, accountID int64, from, to time.Time) error {
	return notFound(sqlx.GetContext(ctx, q, m, `SELECT `+movementSyncColumns+` FROM movement_syncs
		WHERE account_id = $1 AND state IN ('pending', 'running') AND from_at <= $2 AND to_at >= $3
		ORDER BY id DESC LIMIT 1`, accountID, from, to))
}

// OpenMovementSyncs returns the unfinished runs of an account, oldest first.
func (s *Store) OpenMovementSyncs(ctx context.Context, accountID int64) ([]MovementSync, error) {
	var ms []MovementSync
	err := s.db.SelectContext(ctx, &ms, `SELECT `+movementSyncColumns+` FROM movement_syncs
		WHERE account_id = $1 AND state IN ('pending', 'running') ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: open movement syncs: %w", err)
	}
	return ms, nil
}

// MovementSyncs returns the newest runs of an account.
func (s *Store) MovementSyncs(ctx context.Context, accountID int64, limit int) ([]MovementSync, error) {
	var ms []MovementSync
	err := s.db.SelectContext(ctx, &ms, `SELECT `+movementSyncColumns+` FROM movement_syncs
		WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: movement syncs: %w", err)
	}
	return ms, nil
}

// MarkMovementSyncRunning records that an attempt of the run has begun.
func (s *Store) MarkMovementSyncRunning(ctx context.Context, id int64) error {
	return execOne(ctx, s.db, `UPDATE movement_syncs SET state = 'running', started_at = COALESCE(started_at, now())
		WHERE id = $1`, id)
}

// FinishMovementSync records a successful run: its counts, and on the
// account the widened coverage, the latest balance and the sync time. The
// coverage grows only when the run's range meets it; a disjoint range (which
// the product never asks for) leaves it as it was.
func (s *Store) FinishMovementSync(ctx context.Context, id int64, fetched, inserted int) error {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var m MovementSync
		if err := tx.GetContext(ctx, &m, `UPDATE movement_syncs SET state = 'done', fetched = $2, inserted = $3,
			error_code = '', error = '', finished_at = now() WHERE id = $1 RETURNING `+movementSyncColumns, id, fetched, inserted); err != nil {
			return notFound(err)
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
	if err != nil {
		return fmt.Errorf("store: finish movement sync %d: %w", id, err)
	}
	return nil
}

// FailMovementSync records a failed attempt. A final failure ends the run
// and marks the account's last sync as failed with the bank's code; an
// attempt that will be retried puts the run back to pending with the error,
// so the page can say why it is still waiting.
func (s *Store) FailMovementSync(ctx context.Context, id int64, code, message string, final bool) error {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		state := SyncPending
		if final {
			state = SyncFailed
		}
		var accountID int64
		if err := tx.QueryRowxContext(ctx, `UPDATE movement_syncs SET state = $2, error_code = $3, error = $4,
			finished_at = CASE WHEN $5 THEN now() END WHERE id = $1 RETURNING account_id`,
			id, state, code, message, final).Scan(&accountID); err != nil {
			return notFound(err)
		}
		if !final {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE bank_accounts SET last_sync_at = now(), last_sync_status = 'failed',
			last_sync_code = $2, last_sync_error = $3, updated_at = now() WHERE id = $1`, accountID, code, message)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: fail movement sync %d: %w", id, err)
	}
	return nil
}
