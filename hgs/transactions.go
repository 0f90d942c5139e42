package hgs

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/store"
	"kasa/tz"
)

// searchColumns are the searched text columns of hgs_transactions, in the
// order of the trigram index over them (migration 00008): a search must
// repeat the index's expression exactly for the index to serve it.
var searchColumns = []string{"entrance_motorway", "departure_motorway", "explanation"}

// HGS movement kinds for Filter.Kind.
const (
	Passages = "passages" // a motorway or bridge passage
	TopUps   = "topups"   // a balance top-up
)

// Filter selects HGS movements; zero fields do not filter.
type Filter struct {
	ProductID   string
	Kind        string // Passages, TopUps or ""
	DebitCredit string // "A" credit, "B" debit or ""
	From, To    time.Time
	Motorway    string // text in the entrance or departure motorway or the explanation
}

// where builds the filter's WHERE clause and arguments.
func (f Filter) where() (string, []any) {
	cond, args := f.cond()
	if cond == "" {
		return "", nil
	}
	return " WHERE " + cond, args
}

// cond builds the filter's SQL condition ("" when nothing is filtered) over
// hgs_transactions aliased t, and its arguments, numbered from $1.
func (f Filter) cond() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ProductID != "" {
		add("t.product_id = ?", f.ProductID)
	}
	switch f.Kind {
	case Passages: // one definition with the totals: debitCreditInd B
		conds = append(conds, "t.debit_credit = 'B'")
	case TopUps:
		conds = append(conds, "t.debit_credit = 'A'")
	}
	if f.DebitCredit != "" {
		add("t.debit_credit = ?", f.DebitCredit)
	}
	if !f.From.IsZero() {
		add("t.entrance_ts >= ?", tz.Day(f.From))
	}
	if !f.To.IsZero() {
		add("t.entrance_ts < ?", tz.Day(f.To).AddDate(0, 0, 1))
	}
	if m := strings.TrimSpace(f.Motorway); m != "" {
		add(store.SearchMatch("t.", searchColumns, "?"), store.EscapeLike(m))
	}
	return strings.Join(conds, " AND "), args
}

// Transaction is a stored HGS movement with its tag's plate.
type Transaction struct {
	ID                int64           `db:"id"`
	ProductID         string          `db:"product_id"`
	Plate             string          `db:"plate"`
	Amount            decimal.Decimal `db:"amount"`
	DebitCredit       string          `db:"debit_credit"`
	EntranceTS        time.Time       `db:"entrance_ts"`
	DepartureTS       sql.NullTime    `db:"departure_ts"`
	EntranceMotorway  string          `db:"entrance_motorway"`
	DepartureMotorway string          `db:"departure_motorway"`
	Explanation       string          `db:"explanation"`
}

// Passage reports whether the movement is a passage (debitCreditInd B, as
// the totals count them); otherwise it is a top-up (A).
func (t Transaction) Passage() bool { return t.DebitCredit == "B" }

const hgsTxnSelect = `SELECT t.id, t.product_id, COALESCE(v.plate, '') AS plate, t.amount, t.debit_credit, t.entrance_ts,
	t.departure_ts, t.entrance_motorway, t.departure_motorway, t.explanation
	FROM hgs_transactions t LEFT JOIN hgs_vehicles v ON v.product_id = t.product_id`

// Transactions returns a page of movements, newest first, and how many
// match in all.
func (s *Service) Transactions(ctx context.Context, f Filter, limit, offset int) ([]Transaction, int, error) {
	where, args := f.where()
	var total int
	if err := s.store.DB().GetContext(ctx, &total, `SELECT count(*) FROM hgs_transactions t`+where, args...); err != nil {
		return nil, 0, fmt.Errorf("hgs: count transactions: %w", err)
	}
	var out []Transaction
	n := len(args)
	q := hgsTxnSelect + where + fmt.Sprintf(` ORDER BY t.entrance_ts DESC, t.id DESC LIMIT $%d OFFSET $%d`, n+1, n+2)
	if err := s.store.DB().SelectContext(ctx, &out, q, append(args, limit, offset)...); err != nil {
		return nil, 0, fmt.Errorf("hgs: transactions: %w", err)
	}
	return out, total, nil
}

// EachTransaction calls fn for every matching movement, oldest first,
// without holding them all in memory (for the CSV export).
func (s *Service) EachTransaction(ctx context.Context, f Filter, fn func(Transaction) error) error {
	where, args := f.where()
	return store.EachRow(ctx, s.store.DB(), "export hgs transactions", fn, hgsTxnSelect+where+` ORDER BY t.entrance_ts, t.id`, args...)
}

// Total sums movements of one group (a tag or a month).
type Total struct {
	Key      string          `db:"key" json:"key"`     // product id, or month as 2006-01
	Plate    string          `db:"plate" json:"plate"` // for tags
	Passages int             `db:"passages" json:"passages"`
	Debit    decimal.Decimal `db:"debit" json:"debit"`   // sum of passages (B)
	Credit   decimal.Decimal `db:"credit" json:"credit"` // sum of top-ups (A)
}

// Totals sums the matching movements per tag and per Istanbul month
// (newest month first).
func (s *Service) Totals(ctx context.Context, f Filter) (perVehicle, perMonth []Total, err error) {
	where, args := f.where()
	sums := `count(*) FILTER (WHERE t.debit_credit = 'B') AS passages,
		COALESCE(sum(t.amount) FILTER (WHERE t.debit_credit = 'B'), 0) AS debit,
		COALESCE(sum(t.amount) FILTER (WHERE t.debit_credit = 'A'), 0) AS credit`
	if err = s.store.DB().SelectContext(ctx, &perVehicle, `SELECT t.product_id AS key, COALESCE(max(v.plate), '') AS plate, `+sums+`
		FROM hgs_transactions t LEFT JOIN hgs_vehicles v ON v.product_id = t.product_id`+where+`
		GROUP BY t.product_id ORDER BY plate, t.product_id`, args...); err != nil {
		return nil, nil, fmt.Errorf("hgs: totals per vehicle: %w", err)
	}
	if err = s.store.DB().SelectContext(ctx, &perMonth, `SELECT to_char(t.entrance_ts AT TIME ZONE 'Europe/Istanbul', 'YYYY-MM') AS key, '' AS plate, `+sums+`
		FROM hgs_transactions t`+where+` GROUP BY 1 ORDER BY 1 DESC`, args...); err != nil {
		return nil, nil, fmt.Errorf("hgs: totals per month: %w", err)
	}
	return perVehicle, perMonth, nil
}
