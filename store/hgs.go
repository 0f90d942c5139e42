package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
)

// HGSVehicle is one HGS tag with what the last sync learnt about it.
type HGSVehicle struct {
	ProductID     string
	ConsentID     *int64
	Plate         string
	VehicleClass  string
	Balance       *decimal.Decimal
	StatusText    string
	AutoPayment   *decimal.Decimal
	MinPayment    *decimal.Decimal
	SyncedFrom    *time.Time // first day of the contiguous range fetched
	SyncedTo      *time.Time // last day of it
	LastSyncedAt  *time.Time
	LastErrorCode string
	LastError     string
	LastErrorAt   *time.Time
	// Unrecognised counts the rows of this tag the bank sent that could not
	// be stored as movements; they are kept whole in hgs_unrecognised.
	Unrecognised int
	// Covered reports whether a usable consent holds a grant in force for
	// the tag today; without one it cannot be synced until a consent is
	// created or renewed.
	Covered bool
}

type vehicleRow struct {
	ProductID     string              `db:"product_id"`
	ConsentID     sql.NullInt64       `db:"consent_id"`
	Plate         string              `db:"plate"`
	VehicleClass  string              `db:"vehicle_class"`
	Balance       decimal.NullDecimal `db:"balance"`
	StatusText    string              `db:"status_text"`
	AutoPayment   decimal.NullDecimal `db:"auto_payment"`
	MinPayment    decimal.NullDecimal `db:"min_payment"`
	SyncedFrom    sql.NullTime        `db:"synced_from"`
	SyncedTo      sql.NullTime        `db:"synced_to"`
	LastSyncedAt  sql.NullTime        `db:"last_synced_at"`
	LastErrorCode string              `db:"last_error_code"`
	LastError     string              `db:"last_error"`
	LastErrorAt   sql.NullTime        `db:"last_error_at"`
	Unrecognised  int                 `db:"unrecognised"`
	Covered       bool                `db:"covered"`
}

func hgsNullDecimal(d decimal.NullDecimal) *decimal.Decimal {
	if !d.Valid {
		return nil
	}
	return &d.Decimal
}

func hgsNullDay(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	d := garantiDate(t.Time)
	return &d
}

func (r vehicleRow) vehicle() HGSVehicle {
	return HGSVehicle{ProductID: r.ProductID, ConsentID: garantiNullID(r.ConsentID), Plate: r.Plate, VehicleClass: r.VehicleClass,
		Balance: hgsNullDecimal(r.Balance), StatusText: r.StatusText, AutoPayment: hgsNullDecimal(r.AutoPayment), MinPayment: hgsNullDecimal(r.MinPayment),
		SyncedFrom: hgsNullDay(r.SyncedFrom), SyncedTo: hgsNullDay(r.SyncedTo), LastSyncedAt: garantiNullTime(r.LastSyncedAt),
		LastErrorCode: r.LastErrorCode, LastError: r.LastError, LastErrorAt: garantiNullTime(r.LastErrorAt),
		Unrecognised: r.Unrecognised, Covered: r.Covered}
}

// vehicleColumns are a vehicle aliased v, covered as of the Istanbul day
// parameter $1.
var vehicleColumns = `v.product_id, v.consent_id, v.plate, v.vehicle_class, v.balance, v.status_text, v.auto_payment, v.min_payment,
	v.synced_from, v.synced_to, v.last_synced_at, v.last_error_code, v.last_error, v.last_error_at,
	(SELECT count(*) FROM hgs_unrecognised u WHERE u.product_id = v.product_id) AS unrecognised,
	` + hgsCovered("$1") + ` AS covered`

// HGSVehicles lists the tags by plate (tags not yet synced, by product id,
// last); with consentID > 0, only those synced under that consent.
func (s *Store) HGSVehicles(ctx context.Context, consentID int64) ([]HGSVehicle, error) {
	return s.hgsVehicles(ctx, consentID, s.now())
}

// hgsVehicles is HGSVehicles with the tags covered as of now's Istanbul day.
func (s *Store) hgsVehicles(ctx context.Context, consentID int64, now time.Time) ([]HGSVehicle, error) {
	var rows []vehicleRow
	q := `SELECT ` + vehicleColumns + ` FROM hgs_vehicles v`
	args := []any{garantiDateParam(GarantiDay(now))}
	if consentID > 0 {
		q += ` WHERE v.consent_id = $2`
		args = append(args, consentID)
	}
	if err := s.db.SelectContext(ctx, &rows, q+` ORDER BY v.plate = '', v.plate, v.product_id`, args...); err != nil {
		return nil, fmt.Errorf("store: hgs vehicles: %w", err)
	}
	out := make([]HGSVehicle, len(rows))
	for i, r := range rows {
		out[i] = r.vehicle()
	}
	return out, nil
}

// HGSVehicleInfo is hgsProductInfo as the product keeps it (no personal
// contact data).
type HGSVehicleInfo struct {
	Plate        string
	VehicleClass string
	Balance      decimal.Decimal
	StatusText   string
	AutoPayment  decimal.Decimal
	MinPayment   decimal.Decimal
}

// HGSWindow is the outcome of one successful transaction list call of a tag:
// the days it covered, what it said about the tag, and its movements.
type HGSWindow struct {
	ProductID    string
	ConsentID    int64
	From, To     time.Time // calendar days, both included
	Info         *HGSVehicleInfo
	Transactions []HGSTransactionInput
	// Unrecognised are rows that cannot be movements, kept aside.
	Unrecognised []HGSUnrecognisedRow
}

// HGSUnrecognisedRow is a row of the bank the product could not read as a
// movement, with why; its raw JSON is kept.
type HGSUnrecognisedRow struct {
	Key    string
	Reason string
	Raw    json.RawMessage
}

// Valid says why a movement cannot be stored ("" when it can): the table
// keeps passages (B) and top-ups (A) only.
func (t HGSTransactionInput) Valid() string {
	if t.DebitCredit != "A" && t.DebitCredit != "B" {
		return "unknown debitCreditInd " + strconv.Quote(t.DebitCredit)
	}
	if t.EntranceTS.IsZero() {
		return "no entranceTs"
	}
	return ""
}

// HGSTransactionInput is one movement as the bank listed it.
type HGSTransactionInput struct {
	Key               string // the client's Key(): identity across syncs
	ProductID         string
	Amount            decimal.Decimal
	DebitCredit       string
	EntranceTS        time.Time
	DepartureTS       time.Time // zero for top-ups
	EntranceMotorway  string
	DepartureMotorway string
	Explanation       string
	Raw               json.RawMessage
}

// SaveHGSWindow stores a window's movements (skipping ones already stored),
// updates the tag's card, widens its synced range and clears its last error,
// in one transaction. It returns how many movements were new.
func (s *Store) SaveHGSWindow(ctx context.Context, w HGSWindow) (int, error) {
	now := s.now()
	inserted := 0
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		for _, t := range w.Transactions {
			raw := string(t.Raw)
			if raw == "" {
				raw = "{}"
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO hgs_transactions (key, product_id, amount, debit_credit, entrance_ts, departure_ts,
				entrance_motorway, departure_motorway, explanation, raw, consent_id, synced_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12) ON CONFLICT (key) DO NOTHING`,
				t.Key, t.ProductID, t.Amount, t.DebitCredit, t.EntranceTS, sql.NullTime{Time: t.DepartureTS, Valid: !t.DepartureTS.IsZero()},
				t.EntranceMotorway, t.DepartureMotorway, t.Explanation, raw, w.ConsentID, now)
			if err != nil {
				return fmt.Errorf("transaction %s: %w", t.Key, err)
			}
			n, _ := res.RowsAffected()
			inserted += int(n)
		}
		for _, u := range w.Unrecognised {
			raw := string(u.Raw)
			if raw == "" || !json.Valid(u.Raw) {
				raw = "{}"
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO hgs_unrecognised (key, product_id, consent_id, reason, raw, first_seen_at)
				VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT (key) DO NOTHING`,
				u.Key, w.ProductID, w.ConsentID, Truncate(u.Reason, 200), raw, now); err != nil {
				return fmt.Errorf("unrecognised row %s: %w", u.Key, err)
			}
		}
		if w.Info != nil {
			i := w.Info
			if _, err := tx.ExecContext(ctx, `UPDATE hgs_vehicles SET plate = $2, vehicle_class = $3, balance = $4, status_text = $5,
				auto_payment = $6, min_payment = $7 WHERE product_id = $1`,
				w.ProductID, i.Plate, i.VehicleClass, i.Balance, i.StatusText, i.AutoPayment, i.MinPayment); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE hgs_vehicles SET
			synced_from = LEAST(COALESCE(synced_from, $2::date), $2::date), synced_to = GREATEST(COALESCE(synced_to, $3::date), $3::date),
			last_synced_at = $4, last_error_code = '', last_error = '', last_error_at = NULL, updated_at = $4 WHERE product_id = $1`,
			w.ProductID, garantiDateParam(w.From), garantiDateParam(w.To), now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: save hgs window: %w", err)
	}
	return inserted, nil
}

// SetHGSVehicleError records why a tag's last sync failed (code is the
// bank's E-code or the product's own reason), shown on its card.
func (s *Store) SetHGSVehicleError(ctx context.Context, productID, code, msg string) error {
	return execOneGaranti(ctx, s.db, "set hgs vehicle error", `UPDATE hgs_vehicles SET last_error_code = $2, last_error = $3,
		last_error_at = $4, updated_at = $4 WHERE product_id = $1`, productID, code, Truncate(msg, 500), s.now())
}
