package hgs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/store"
	"kasa/tz"
)

// Vehicle is one HGS tag with what the last sync learnt about it.
type Vehicle struct {
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

// nullDecimal is a nullable amount column as a pointer.
func nullDecimal(d decimal.NullDecimal) *decimal.Decimal {
	if !d.Valid {
		return nil
	}
	return &d.Decimal
}

// nullDay is a nullable DATE column as a pointer to Istanbul midnight of
// its calendar day.
func nullDay(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	y, m, dd := t.Time.Date()
	d := time.Date(y, m, dd, 0, 0, 0, 0, tz.Istanbul)
	return &d
}

func (r vehicleRow) vehicle() Vehicle {
	return Vehicle{ProductID: r.ProductID, ConsentID: nullID(r.ConsentID), Plate: r.Plate, VehicleClass: r.VehicleClass,
		Balance: nullDecimal(r.Balance), StatusText: r.StatusText, AutoPayment: nullDecimal(r.AutoPayment), MinPayment: nullDecimal(r.MinPayment),
		SyncedFrom: nullDay(r.SyncedFrom), SyncedTo: nullDay(r.SyncedTo), LastSyncedAt: nullTime(r.LastSyncedAt),
		LastErrorCode: r.LastErrorCode, LastError: r.LastError, LastErrorAt: nullTime(r.LastErrorAt),
		Unrecognised: r.Unrecognised, Covered: r.Covered}
}

// vehicleColumns are a vehicle aliased v, covered as of the Istanbul day
// parameter $1.
var vehicleColumns = `v.product_id, v.consent_id, v.plate, v.vehicle_class, v.balance, v.status_text, v.auto_payment, v.min_payment,
	v.synced_from, v.synced_to, v.last_synced_at, v.last_error_code, v.last_error, v.last_error_at,
	(SELECT count(*) FROM hgs_unrecognised u WHERE u.product_id = v.product_id) AS unrecognised,
	` + covered("$1") + ` AS covered`

// Vehicles lists the tags by plate (tags not yet synced, by product id,
// last); with consentID > 0, only those synced under that consent.
func (s *Service) Vehicles(ctx context.Context, consentID int64) ([]Vehicle, error) {
	return s.vehicles(ctx, consentID, s.now())
}

// vehicles is Vehicles with the tags covered as of now's Istanbul day.
func (s *Service) vehicles(ctx context.Context, consentID int64, now time.Time) ([]Vehicle, error) {
	var rows []vehicleRow
	q := `SELECT ` + vehicleColumns + ` FROM hgs_vehicles v`
	args := []any{dateParam(tz.Day(now))}
	if consentID > 0 {
		q += ` WHERE v.consent_id = $2`
		args = append(args, consentID)
	}
	if err := s.store.DB().SelectContext(ctx, &rows, q+` ORDER BY v.plate = '', v.plate, v.product_id`, args...); err != nil {
		return nil, fmt.Errorf("hgs: vehicles: %w", err)
	}
	out := make([]Vehicle, len(rows))
	for i, r := range rows {
		out[i] = r.vehicle()
	}
	return out, nil
}

// VehicleInfo is hgsProductInfo as the product keeps it (no personal
// contact data).
type VehicleInfo struct {
	Plate        string
	VehicleClass string
	Balance      decimal.Decimal
	StatusText   string
	AutoPayment  decimal.Decimal
	MinPayment   decimal.Decimal
}

// Window is the outcome of one successful transaction list call of a tag:
// the days it covered, what it said about the tag, and its movements.
type Window struct {
	ProductID    string
	ConsentID    int64
	From, To     time.Time // calendar days, both included
	Info         *VehicleInfo
	Transactions []TransactionInput
	// Unrecognised are rows that cannot be movements, kept aside.
	Unrecognised []UnrecognisedRow
}

// UnrecognisedRow is a row of the bank the product could not read as a
// movement, with why; its raw JSON is kept.
type UnrecognisedRow struct {
	Key    string
	Reason string
	Raw    json.RawMessage
}

// Valid says why a movement cannot be stored ("" when it can): the table
// keeps passages (B) and top-ups (A) only.
func (t TransactionInput) Valid() string {
	if t.DebitCredit != "A" && t.DebitCredit != "B" {
		return "unknown debitCreditInd " + strconv.Quote(t.DebitCredit)
	}
	if t.EntranceTS.IsZero() {
		return "no entranceTs"
	}
	return ""
}

// TransactionInput is one movement as the bank listed it.
type TransactionInput struct {
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

// SaveWindow stores a window's movements (skipping ones already stored),
// updates the tag's card, widens its synced range and clears its last error,
// in one transaction. It returns how many movements were new.
func (s *Service) SaveWindow(ctx context.Context, w Window) (int, error) {
	now := s.now()
	inserted := 0
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
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
				u.Key, w.ProductID, w.ConsentID, store.Truncate(u.Reason, 200), raw, now); err != nil {
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
			w.ProductID, dateParam(w.From), dateParam(w.To), now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("hgs: save window: %w", err)
	}
	return inserted, nil
}

// SetVehicleError records why a tag's last sync failed (code is the
// bank's E-code or the product's own reason), shown on its card.
func (s *Service) SetVehicleError(ctx context.Context, productID, code, msg string) error {
	err := store.ExecOne(ctx, s.store.DB(), `UPDATE hgs_vehicles SET last_error_code = $2, last_error = $3,
		last_error_at = $4, updated_at = $4 WHERE product_id = $1`, productID, code, store.Truncate(msg, 500), s.now())
	if err != nil {
		return fmt.Errorf("hgs: set vehicle error: %w", err)
	}
	return nil
}

// dateParam writes the Istanbul calendar day of t for a DATE column.
func dateParam(t time.Time) string { return t.In(tz.Istanbul).Format("2006-01-02") }

// nullID is a nullable id column as a pointer.
func nullID(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

// nullTime is a nullable time column as a pointer.
func nullTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	return &n.Time
}
