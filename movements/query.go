package movements

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/store"
)

// searchColumns are the text columns a movement search looks in. They have
// no trigram index: a search is bounded by an account and a period, which
// the (account, booked_at) index finds.
var searchColumns = []string{"description", "name", "code"}

// MovementFilter selects an account's movements of a period.
type MovementFilter struct {
	AccountID int64
	From, To  time.Time // both inclusive
	Direction string    // "", "in" or "out"
	// MinAmount and MaxAmount bound the size of a movement, whichever way
	// the money went.
	MinAmount, MaxAmount decimal.NullDecimal
	Text                 string // in the description, name or code
	Sort                 string // "date" (default) or "amount"
	Desc                 bool
	Limit, Offset        int // Limit 0 means every row
}

// where returns the filter's SQL condition and its arguments.
func (f MovementFilter) where() (string, []any) {
	conds := []string{"account_id = $1", "booked_at >= $2", "booked_at <= $3"}
	args := []any{f.AccountID, f.From, f.To}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Direction == "in" || f.Direction == "out" {
		add("direction = ?", f.Direction)
	}
	if f.MinAmount.Valid {
		add("abs(amount) >= ?", f.MinAmount.Decimal)
	}
	if f.MaxAmount.Valid {
		add("abs(amount) <= ?", f.MaxAmount.Decimal)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		add(store.SearchMatch("", searchColumns, "?"), store.EscapeLike(t))
	}
	return strings.Join(conds, " AND "), args
}

func (f MovementFilter) orderBy() string {
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	if f.Sort == "amount" {
		return "amount " + dir + ", booked_at " + dir + ", id " + dir
	}
	return "booked_at " + dir + ", id " + dir
}

const movementColumns = `id, account_id, transaction_id, booked_at, direction, amount, balance, currency, code, name, description`

// Movements returns one page of the filtered movements.
func (s *Service) Movements(ctx context.Context, f MovementFilter) ([]Movement, error) {
	where, args := f.where()
	q := `SELECT ` + movementColumns + ` FROM account_movements WHERE ` + where + ` ORDER BY ` + f.orderBy()
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	var ms []Movement
	if err := s.db.SelectContext(ctx, &ms, q, args...); err != nil {
		return nil, fmt.Errorf("movements: movements: %w", err)
	}
	return ms, nil
}

// EachMovement calls fn for every filtered movement in order, streaming
// them from the database (for exports of any size).
func (s *Service) EachMovement(ctx context.Context, f MovementFilter, fn func(Movement) error) error {
	where, args := f.where()
	return store.EachRow(ctx, s.db, "export movements", fn, `SELECT `+movementColumns+` FROM account_movements WHERE `+where+` ORDER BY `+f.orderBy(), args...)
}

// MovementTotals sums the filtered movements.
type MovementTotals struct {
	Count int             `db:"count"`
	In    decimal.Decimal `db:"total_in"`  // money in, positive
	Out   decimal.Decimal `db:"total_out"` // money out, as a positive amount
}

// Net is money in minus money out.
func (t MovementTotals) Net() decimal.Decimal { return t.In.Sub(t.Out) }

// MovementTotals counts and sums the filtered movements.
func (s *Service) MovementTotals(ctx context.Context, f MovementFilter) (MovementTotals, error) {
	where, args := f.where()
	var t MovementTotals
	err := s.db.GetContext(ctx, &t, `SELECT count(*) AS count,
		COALESCE(sum(amount) FILTER (WHERE amount > 0), 0) AS total_in,
		COALESCE(-sum(amount) FILTER (WHERE amount < 0), 0) AS total_out
		FROM account_movements WHERE `+where, args...)
	if err != nil {
		return MovementTotals{}, fmt.Errorf("movements: movement totals: %w", err)
	}
	return t, nil
}

// PeriodBalances are an account's balances at the ends of a period.
type PeriodBalances struct {
	// Opening is the balance before the period's first movement; Closing
	// the balance after its last. Without movements in the period both are
	// the last balance before it, when one is stored.
	Opening, Closing decimal.NullDecimal
}

// PeriodBalances returns the opening and closing balance of [from, to].
func (s *Service) PeriodBalances(ctx context.Context, accountID int64, from, to time.Time) (PeriodBalances, error) {
	var b PeriodBalances
	err := s.db.QueryRowxContext(ctx, `SELECT
		COALESCE(
			(SELECT balance - amount FROM account_movements WHERE account_id = $1 AND booked_at >= $2 AND booked_at <= $3
				ORDER BY booked_at, id LIMIT 1),
			(SELECT balance FROM account_movements WHERE account_id = $1 AND booked_at < $2 ORDER BY booked_at DESC, id DESC LIMIT 1)),
		COALESCE(
			(SELECT balance FROM account_movements WHERE account_id = $1 AND booked_at <= $3
				ORDER BY booked_at DESC, id DESC LIMIT 1))`, accountID, from, to).Scan(&b.Opening, &b.Closing)
	if err != nil {
		return PeriodBalances{}, fmt.Errorf("movements: period balances: %w", err)
	}
	return b, nil
}

// BalanceBreak is a stored movement whose balance does not follow from the
// one before it: movements are missing between them, or the bank corrected
// one.
type BalanceBreak struct {
	TransactionID     string    `db:"transaction_id"`
	PrevTransactionID string    `db:"prev_transaction_id"`
	BookedAt          time.Time `db:"booked_at"`
	// PrevBookedAt is when the movement before the break was booked: the
	// missing movements lie between it and BookedAt.
	PrevBookedAt time.Time       `db:"prev_booked_at"`
	Expected     decimal.Decimal `db:"expected"` // previous balance + amount
	Actual       decimal.Decimal `db:"actual"`   // the balance the bank reported
	// BankReported is true when a re-fetch finished after both movements
	// were stored as they are, covered both, and the break is still there:
	// the bank's own data breaks here, and fetching again will not help.
	BankReported bool `db:"bank_reported"`
	// AfterRefetch is true when such a re-fetch covered the movement before
	// the break but ended before the break: the stored movements after the
	// re-fetched days may predate a change the bank made to its balances,
	// so a repair must reach further than the break's own days.
	AfterRefetch bool `db:"after_refetch"`
}

// Difference is what the chain is missing: Actual - Expected.
func (b BalanceBreak) Difference() decimal.Decimal { return b.Actual.Sub(b.Expected) }

// BalanceBreaks checks the chain balance[i] = balance[i-1] + amount[i] over
// the stored movements of [from, to], the first one checked against the
// movement stored just before the period, and returns at most limit breaks.
func (s *Service) BalanceBreaks(ctx context.Context, accountID int64, from, to time.Time, limit int) ([]BalanceBreak, error) {
	bs, _, err := s.CountedBalanceBreaks(ctx, accountID, from, to, limit)
	return bs, err
}

// CountedBalanceBreaks is BalanceBreaks that also returns how many breaks
// there are in all, so a page listing the first few can say how many it
// leaves out.
func (s *Service) CountedBalanceBreaks(ctx context.Context, accountID int64, from, to time.Time, limit int) ([]BalanceBreak, int, error) {
	var rows []struct {
		BalanceBreak
		Total int `db:"total"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		WITH chain AS (
			SELECT transaction_id, booked_at, amount, balance, synced_at,
				lag(balance) OVER w AS prev_balance, lag(transaction_id) OVER w AS prev_transaction_id,
				lag(booked_at) OVER w AS prev_booked_at, lag(synced_at) OVER w AS prev_synced_at
			FROM account_movements
			WHERE account_id = $1 AND booked_at <= $3 AND booked_at >= COALESCE(
				(SELECT max(booked_at) FROM account_movements WHERE account_id = $1 AND booked_at < $2), $2)
			WINDOW w AS (ORDER BY booked_at, id)
		), breaks AS (
			SELECT transaction_id, prev_transaction_id, booked_at, prev_booked_at, prev_balance + amount AS expected, balance AS actual,
				synced_at, prev_synced_at, count(*) OVER () AS total
			FROM chain
			WHERE booked_at >= $2 AND prev_balance IS NOT NULL AND prev_balance + amount <> balance
			ORDER BY booked_at LIMIT $4
		)
		SELECT transaction_id, prev_transaction_id, booked_at, prev_booked_at, expected, actual, total,
			EXISTS (SELECT 1 FROM movement_syncs r WHERE r.account_id = $1 AND r.reason = 'refetch' AND r.state = 'done'
				AND r.from_at <= b.prev_booked_at AND r.to_at >= b.booked_at
				AND r.finished_at >= greatest(b.synced_at, b.prev_synced_at)) AS bank_reported,
			EXISTS (SELECT 1 FROM movement_syncs r WHERE r.account_id = $1 AND r.reason = 'refetch' AND r.state = 'done'
				AND r.from_at <= b.prev_booked_at AND r.to_at >= b.prev_booked_at AND r.to_at < b.booked_at
				AND r.finished_at >= b.prev_synced_at) AS after_refetch
		FROM breaks b
		ORDER BY booked_at`, accountID, from, to, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("movements: balance breaks: %w", err)
	}
	if len(rows) == 0 {
		return nil, 0, nil
	}
	bs := make([]BalanceBreak, len(rows))
	for i, r := range rows {
		bs[i] = r.BalanceBreak
	}
	return bs, rows[0].Total, nil
}

// BalancePoint is an account's balance at the end of one Istanbul day.
type BalancePoint struct {
	Day     time.Time       `db:"day"` // the calendar day (midnight UTC of that date)
	Balance decimal.Decimal `db:"balance"`
}

// BalanceSeries returns the closing balance of every Istanbul day of
// [from, to] that has movements, in date order: the balance chart's data,
// at most one point per day however many movements there are.
func (s *Service) BalanceSeries(ctx context.Context, accountID int64, from, to time.Time) ([]BalancePoint, error) {
	var ps []BalancePoint
	err := s.db.SelectContext(ctx, &ps, `
		SELECT DISTINCT ON (day) day, balance FROM (
			SELECT (booked_at AT TIME ZONE 'Europe/Istanbul')::date AS day, balance, booked_at, id
			FROM account_movements WHERE account_id = $1 AND booked_at >= $2 AND booked_at <= $3
		) m ORDER BY day, booked_at DESC, id DESC`, accountID, from, to)
	if err != nil {
		return nil, fmt.Errorf("movements: balance series: %w", err)
	}
	return ps, nil
}
