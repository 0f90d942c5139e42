package movements

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
func (s *Service) InsertMovements(ctx context.Context, accountID int64, ms []NewMovement) (int, error) {
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
func (s *Service) SaveMovements(ctx context.Context, accountID, syncID int64, ms []NewMovement) (MovementsSaved, error) {
	ms = uniqueMovements(ms)
	if len(ms) == 0 && syncID == 0 {
		return MovementsSaved{}, nil // a run's empty answer may still tell of vanished movements
	}
	var saved MovementsSaved
	err := s.inTx(ctx, "save movements", func(tx *sqlx.Tx) error {
		var err error
		saved, err = saveMovements(ctx, tx, accountID, syncID, ms)
		return err
	})
	if err != nil {
		return MovementsSaved{}, err
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
func recordVanished(ctx context.Context, tx sqlx.ExtContext, accountID, syncID int64) (int, error) {
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
func recordDifferences(ctx context.Context, tx sqlx.ExtContext, accountID, syncID int64) (int, error) {
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
