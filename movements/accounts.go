package movements

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/store"
	"kasa/tz"
)

// BankAccount is a VakıfBank account whose movements the product syncs.
// SyncedFrom and SyncedUntil bound the one contiguous span of time whose
// movements are all stored; both are nil before the first successful sync.
type BankAccount struct {
	ID             int64               `db:"id"`
	Number         string              `db:"number"`
	Name           string              `db:"name"`
	Currency       string              `db:"currency"`
	SyncedFrom     *time.Time          `db:"synced_from"`
	SyncedUntil    *time.Time          `db:"synced_until"`
	LastSyncAt     *time.Time          `db:"last_sync_at"`
	LastSyncStatus string              `db:"last_sync_status"` // "", ok, failed
	LastSyncCode   string              `db:"last_sync_code"`   // the bank's ACBH code of a failure
	LastSyncError  string              `db:"last_sync_error"`
	Balance        decimal.NullDecimal `db:"balance"` // after the latest stored movement
	BalanceAt      *time.Time          `db:"balance_at"`
	CreatedAt      time.Time           `db:"created_at"`
	// Pending is true while a sync of the account is queued or running.
	Pending bool `db:"pending"`
}

// NewBankAccount is what an admin registers.
type NewBankAccount struct {
	Number, Name, Currency string
	CreatedBy              int64
}

const bankAccountColumns = `a.id, a.number, a.name, a.currency, a.synced_from, a.synced_until, a.last_sync_at,
	a.last_sync_status, a.last_sync_code, a.last_sync_error, a.balance, a.balance_at, a.created_at,
	EXISTS (SELECT 1 FROM movement_syncs s WHERE s.account_id = a.id AND s.state IN ('pending', 'running')) AS pending`

// CreateBankAccount registers an account with its audit entry, without
// fetching its history (RegisterAccount is the admin's use case, which
// does); store.ErrConflict when its number is already registered.
func (s *Service) CreateBankAccount(ctx context.Context, n NewBankAccount) (BankAccount, error) {
	var a BankAccount
	err := s.inTx(ctx, "create bank account", func(tx *sqlx.Tx) error {
		var err error
		a, err = createAccount(ctx, tx, n)
		return err
	})
	return a, err
}

func createAccount(ctx context.Context, tx sqlx.ExtContext, n NewBankAccount) (BankAccount, error) {
	var id int64
	err := tx.QueryRowxContext(ctx, `INSERT INTO bank_accounts (number, name, currency, created_by)
		VALUES ($1, $2, $3, NULLIF($4, 0)) RETURNING id`, n.Number, n.Name, n.Currency, n.CreatedBy).Scan(&id)
	if store.IsUniqueViolation(err) {
		return BankAccount{}, store.ErrConflict
	}
	if err != nil {
		return BankAccount{}, err
	}
	if err := store.Audit(ctx, tx, n.CreatedBy, "bank_account.create", BankAccountSubject(id),
		map[string]any{"number": n.Number, "name": n.Name, "currency": n.Currency}); err != nil {
		return BankAccount{}, err
	}
	return account(ctx, tx, id)
}

// RegisterAccount is an admin registering an account: the input is
// checked (a *ValidationError says what is wrong, field by field, a
// number already registered included), the account is created with its
// audit entry, and the fetch of its recent history (InitialSyncDays) is
// queued, all in one transaction.
func (s *Service) RegisterAccount(ctx context.Context, n NewBankAccount) (BankAccount, error) {
	if p := ValidateAccount(&n); len(p) > 0 {
		return BankAccount{}, &ValidationError{Problems: p}
	}
	var a BankAccount
	err := s.inTx(ctx, "register bank account", func(tx *sqlx.Tx) error {
		var err error
		if a, err = createAccount(ctx, tx, n); err != nil {
			return err
		}
		now := s.now()
		_, err = s.startSync(ctx, tx, NewMovementSync{AccountID: a.ID, From: a.IncrementalFrom(now, Overlap, InitialSyncDays),
			To: now, Reason: "initial", RequestedBy: n.CreatedBy})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return BankAccount{}, &ValidationError{Problems: Problems{"number": {Code: CodeNumberTaken}}}
	}
	if err != nil {
		return BankAccount{}, err
	}
	return s.BankAccount(ctx, a.ID)
}

// BankAccountSubject names an account in the audit log.
func BankAccountSubject(id int64) string { return fmt.Sprintf("bank_account:%d", id) }

// BankAccount returns one account.
func (s *Service) BankAccount(ctx context.Context, id int64) (BankAccount, error) {
	a, err := account(ctx, s.db, id)
	if err != nil {
		return BankAccount{}, fmt.Errorf("movements: bank account %d: %w", id, err)
	}
	return a, nil
}

func account(ctx context.Context, q sqlx.QueryerContext, id int64) (BankAccount, error) {
	var a BankAccount
	err := sqlx.GetContext(ctx, q, &a, `SELECT `+bankAccountColumns+` FROM bank_accounts a WHERE a.id = $1`, id)
	return a, store.NotFound(err)
}

// BankAccounts lists the registered accounts by name.
func (s *Service) BankAccounts(ctx context.Context) ([]BankAccount, error) {
	var as []BankAccount
	err := s.db.SelectContext(ctx, &as, `SELECT `+bankAccountColumns+` FROM bank_accounts a ORDER BY a.name, a.number`)
	if err != nil {
		return nil, fmt.Errorf("movements: bank accounts: %w", err)
	}
	return as, nil
}

// Span is a range of instants, both ends inclusive.
type Span struct{ From, To time.Time }

// MissingSpans returns the ranges to ask the bank for so that every movement
// from from to to is stored, given the account's coverage at now: at most
// one before the covered span and one after it, never the stored years in
// between. Each is extended to meet the coverage, which so stays one
// contiguous span; the one after starts at the beginning of the last synced
// day, so that a movement booked late with an earlier stamp is caught again
// (and de-duplicated). Coverage ending within fresh of now counts as current
// for a period ending now. nil when nothing is missing.
func (a BankAccount) MissingSpans(from, to, now time.Time, fresh time.Duration) []Span {
	if to.After(now) {
		to = now
	}
	if to.Before(from) {
		return nil
	}
	if a.SyncedFrom == nil || a.SyncedUntil == nil {
		return []Span{{from, to}}
	}
	var out []Span
	if from.Before(*a.SyncedFrom) {
		out = append(out, Span{from, a.SyncedFrom.Add(-time.Second)})
	}
	if a.missingAfter(to, now, fresh) {
		out = append(out, Span{tz.Day(*a.SyncedUntil), to})
	}
	return out
}

// Gaps returns the parts of [from, to] whose movements are not stored (up
// to now), for telling the user which days are missing: MissingSpans
// without the extensions that keep coverage contiguous. nil when the
// period is stored.
func (a BankAccount) Gaps(from, to, now time.Time, fresh time.Duration) []Span {
	if to.After(now) {
		to = now
	}
	if to.Before(from) {
		return nil
	}
	if a.SyncedFrom == nil || a.SyncedUntil == nil {
		return []Span{{from, to}}
	}
	var out []Span
	if from.Before(*a.SyncedFrom) {
		out = append(out, Span{from, minTime(to, a.SyncedFrom.Add(-time.Second))})
	}
	if a.missingAfter(to, now, fresh) {
		out = append(out, Span{maxTime(from, a.SyncedUntil.Add(time.Second)), to})
	}
	return out
}

// missingAfter reports whether movements up to to lie after the coverage:
// to is past it, unless the coverage is current (within fresh of now) and
// to is too.
func (a BankAccount) missingAfter(to, now time.Time, fresh time.Duration) bool {
	current := now.Add(-fresh)
	return to.After(*a.SyncedUntil) && !(a.SyncedUntil.After(current) && to.After(current))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// IncrementalFrom is where a routine sync of the account starts at now:
// overlap before the start of its last synced day, so that movements the
// bank books late with an earlier date are caught (and the ones already
// stored skipped), or initialDays back for an account never synced. Years
// already stored are never fetched again.
func (a BankAccount) IncrementalFrom(now time.Time, overlap time.Duration, initialDays int) time.Time {
	if a.SyncedUntil == nil {
		return tz.Day(now).AddDate(0, 0, -initialDays)
	}
	return tz.Day(*a.SyncedUntil).Add(-overlap)
}

// Covers reports whether every movement from from to to is stored.
func (a BankAccount) Covers(from, to time.Time) bool {
	return a.SyncedFrom != nil && a.SyncedUntil != nil && !from.Before(*a.SyncedFrom) && !to.After(*a.SyncedUntil)
}
