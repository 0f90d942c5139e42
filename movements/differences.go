package movements

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// MovementVersion is one version of a movement as the bank reported it.
type MovementVersion struct {
	BookedAt    time.Time       `db:"booked_at"`
	Direction   string          `db:"direction"`
	Amount      decimal.Decimal `db:"amount"`
	Balance     decimal.Decimal `db:"balance"`
	Currency    string          `db:"currency"`
	Code        string          `db:"code"`
	Name        string          `db:"name"`
	Description string          `db:"description"`
}

// MovementDifference is a stored movement that a later sync found the bank
// reporting differently: Old is what was stored (and is kept only here),
// New the bank's version, which replaced it. Vanished is true (and New
// equals Old) when the bank no longer listed the movement in the sync's
// range; it stays stored, since only a person can tell a reversed record
// from a moved one.
type MovementDifference struct {
	ID            int64           `db:"id"`
	TransactionID string          `db:"transaction_id"`
	SyncID        *int64          `db:"sync_id"` // the run that found it; nil outside a run
	FoundAt       time.Time       `db:"found_at"`
	Vanished      bool            `db:"vanished"`
	Old           MovementVersion `db:"old"`
	New           MovementVersion `db:"new"`
}

// MovementDifferences returns the newest differences found in the account's
// movements dated (before or after the change) within [from, to], at most
// limit of them.
func (s *Service) MovementDifferences(ctx context.Context, accountID int64, from, to time.Time, limit int) ([]MovementDifference, error) {
	var ds []MovementDifference
	err := s.db.SelectContext(ctx, &ds, `SELECT id, transaction_id, sync_id, found_at, new_booked_at IS NULL AS vanished,
			old_booked_at AS "old.booked_at", old_direction AS "old.direction", old_amount AS "old.amount",
			old_balance AS "old.balance", old_currency AS "old.currency", old_code AS "old.code",
			old_name AS "old.name", old_description AS "old.description",
			COALESCE(new_booked_at, old_booked_at) AS "new.booked_at", COALESCE(new_direction, old_direction) AS "new.direction", COALESCE(new_amount, old_amount) AS "new.amount",
			COALESCE(new_balance, old_balance) AS "new.balance", COALESCE(new_currency, old_currency) AS "new.currency", COALESCE(new_code, old_code) AS "new.code",
			COALESCE(new_name, old_name) AS "new.name", COALESCE(new_description, old_description) AS "new.description"
		FROM movement_differences
		WHERE account_id = $1 AND (old_booked_at BETWEEN $2 AND $3 OR new_booked_at BETWEEN $2 AND $3)
		ORDER BY id DESC LIMIT $4`, accountID, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("movements: movement differences: %w", err)
	}
	return ds, nil
}
