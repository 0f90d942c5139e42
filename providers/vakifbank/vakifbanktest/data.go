package vakifbanktest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

// Account is one bank account the fake knows.
type Account struct {
	Number   string // 17 digits
	Currency string // CurrencyCode as the bank sends it: "TL", "USD", "EUR"
	Owner    string // the customer number; SandboxCustomer when empty in AddAccount
}

// Movement is one account movement as the fake stores it.
type Movement struct {
	ID          string // TransactionId; AddAccount assigns one when empty
	Date        time.Time
	Type        int             // 1 money in, 2 money out; AddAccount infers it from the sign when 0
	Amount      decimal.Decimal // signed: money out is negative; at most 2 decimals
	Balance     decimal.Decimal // the balance after the movement
	Currency    string
	Code        string
	Name        string
	Description string
}

type account struct {
	Account
	moves []movement // in date order, as the bank lists them
}

// movement keeps money in kuruş/cents so that the seed is cheap to build and
// balances add up exactly.
type movement struct {
	id                string
	at                time.Time // Istanbul
	typ               byte
	amount, balance   int64
	code, name, descr string
}

// Accounts returns the accounts the fake knows, in the order they were added.
func (s *Server) Accounts() []Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Account, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.accounts[n].Account)
	}
	return out
}

// Movements returns every movement of account in the bank's order (by
// date), or nil when the account is unknown.
func (s *Server) Movements(number string) []Movement {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.accounts[number]
	if a == nil {
		return nil
	}
	out := make([]Movement, len(a.moves))
	for i, m := range a.moves {
		out[i] = Movement{
			ID: m.id, Date: m.at, Type: int(m.typ),
			Amount: decimal.New(m.amount, -2), Balance: decimal.New(m.balance, -2),
			Currency: a.Currency, Code: m.code, Name: m.name, Description: m.descr,
		}
	}
	return out
}

// AddAccount adds an account with the given movements, kept in date order
// (movements of the same second keep their order). Balances are stored as
// given, so a test may add a broken chain on purpose.
func (s *Server) AddAccount(a Account, ms []Movement) error {
	if !is17Digits(a.Number) {
		return fmt.Errorf("vakifbanktest: add account: %q is not 17 digits", a.Number)
	}
	if a.Owner == "" {
		a.Owner = SandboxCustomer
	}
	moves := make([]movement, len(ms))
	for i, m := range ms {
		amount, ok1 := cents(m.Amount)
		balance, ok2 := cents(m.Balance)
		if !ok1 || !ok2 {
			return fmt.Errorf("vakifbanktest: add account: movement %d: amounts need at most 2 decimals", i)
		}
		typ := byte(m.Type)
		if typ == 0 {
			typ = 1
			if amount < 0 {
				typ = 2
			}
		}
		moves[i] = movement{id: m.ID, at: m.Date.In(tz.Istanbul), typ: typ, amount: amount, balance: balance,
			code: m.Code, name: m.Name, descr: m.Description}
	}
	slices.SortStableFunc(moves, func(x, y movement) int { return x.at.Compare(y.at) })
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.accounts[a.Number]; dup {
		return fmt.Errorf("vakifbanktest: add account: %s exists", a.Number)
	}
	for i := range moves {
		if moves[i].id == "" {
			moves[i].id = s.newID(moves[i].at)
		}
	}
	s.addLocked(&account{Account: a, moves: moves})
	return nil
}

func (s *Server) addLocked(a *account) {
	s.accounts[a.Number] = a
	s.order = append(s.order, a.Number)
}

// newID returns a TransactionId shaped like the documentation's
// "2020000000000001": the year, then a sequence unique in the fake.
func (s *Server) newID(at time.Time) string {
	s.nextSeq++
	return strconv.FormatInt(int64(at.Year())*1_000_000_000_000+s.nextSeq, 10)
}

// InjectBalanceBreak shifts the balance of the movement at index, and of
// every later one, by delta: the chain then breaks exactly at index, as if a
// movement were missing before it.
func (s *Server) InjectBalanceBreak(number string, index int, delta decimal.Decimal) error {
	d, ok := cents(delta)
	if !ok || d == 0 {
		return errors.New("vakifbanktest: inject balance break: delta must be non-zero with at most 2 decimals")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[number]
	if a == nil || index < 0 || index >= len(a.moves) {
		return fmt.Errorf("vakifbanktest: inject balance break: no movement %d on %s", index, number)
	}
	// Copy so that slices handed out earlier by the handler stay unchanged.
	moves := slices.Clone(a.moves)
	for i := index; i < len(moves); i++ {
		moves[i].balance += d
	}
	a.moves = moves
	s.nextBreak++
	s.breaks = append(s.breaks, BalanceBreak{ID: s.nextBreak, Number: number, MovementID: moves[index].id,
		At: moves[index].at, Delta: decimal.New(d, -2)})
	return nil
}

// BalanceBreak is a balance-chain break in force: from the movement
// MovementID (booked At) on, Number's balances are shifted by Delta.
type BalanceBreak struct {
	ID         int
	Number     string
	MovementID string
	At         time.Time
	Delta      decimal.Decimal
}

// BalanceBreaks returns the breaks in force, in the order they were made.
func (s *Server) BalanceBreaks() []BalanceBreak {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.breaks)
}

// UndoBalanceBreak takes back the break id: the balances from its movement
// on are shifted back.
func (s *Server) UndoBalanceBreak(id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.breaks, func(b BalanceBreak) bool { return b.ID == id })
	if i < 0 {
		return fmt.Errorf("vakifbanktest: undo balance break: no break %d in force", id)
	}
	b := s.breaks[i]
	a := s.accounts[b.Number]
	var index = -1
	if a != nil {
		index = slices.IndexFunc(a.moves, func(m movement) bool { return m.id == b.MovementID })
	}
	if index >= 0 {
		d, _ := cents(b.Delta)
		moves := slices.Clone(a.moves)
		for j := index; j < len(moves); j++ {
			moves[j].balance -= d
		}
		a.moves = moves
	}
	// A break whose movement was taken off the account can no longer be
	// undone movement by movement; it is forgotten all the same.
	s.breaks = slices.Delete(s.breaks, i, i+1)
	return nil
}

func cents(d decimal.Decimal) (int64, bool) {
	c := d.Shift(2)
	if !c.IsInteger() {
		return 0, false
	}
	return c.IntPart(), true
}

func is17Digits(s string) bool {
	return len(s) == 17 && isDigits(s)
}
