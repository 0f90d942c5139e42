package vakifbanktest

import (
	"fmt"
	"slices"
	"sort"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

// RemoveMovement takes the movement with TransactionId id off the account
// and returns it; the answers then leave it out, as the bank does with a
// movement it has not listed yet. AddMovement puts it back (booked late), so
// a test or the sandbox can open a gap in a stored balance chain and later
// let a re-fetch close it.
func (s *Server) RemoveMovement(number, id string) (Movement, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[number]
	if a == nil {
		return Movement{}, fmt.Errorf("vakifbanktest: remove movement: no account %s", number)
	}
	i := slices.IndexFunc(a.moves, func(m movement) bool { return m.id == id })
	if i < 0 {
		return Movement{}, fmt.Errorf("vakifbanktest: remove movement: no movement %s on %s", id, number)
	}
	m := a.moves[i]
	// A new slice: windows handed out earlier are read without the lock.
	a.moves = slices.Concat(a.moves[:i:i], a.moves[i+1:])
	return m.export(a.Currency), nil
}

// AddMovement books m on the account after the movements of the same
// second, as a movement the bank lists late; its balance is stored as given.
// m.ID must be set and not yet used on the account.
func (s *Server) AddMovement(number string, m Movement) error {
	mv, err := toMovement(m)
	if err != nil || m.ID == "" {
		return fmt.Errorf("vakifbanktest: add movement: an ID and amounts with at most 2 decimals are needed")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[number]
	if a == nil {
		return fmt.Errorf("vakifbanktest: add movement: no account %s", number)
	}
	if slices.ContainsFunc(a.moves, func(x movement) bool { return x.id == m.ID }) {
		return fmt.Errorf("vakifbanktest: add movement: %s exists on %s", m.ID, number)
	}
	i := sort.Search(len(a.moves), func(i int) bool { return a.moves[i].at.After(mv.at) })
	a.moves = slices.Concat(a.moves[:i:i], []movement{mv}, a.moves[i:])
	return nil
}

// CorrectMovement replaces the movement with m's TransactionId by m (a new
// amount, balance, description or date), as the bank does when it corrects
// a record; the account's movements are kept in date order.
func (s *Server) CorrectMovement(number string, m Movement) error {
	mv, err := toMovement(m)
	if err != nil {
		return fmt.Errorf("vakifbanktest: correct movement: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[number]
	if a == nil {
		return fmt.Errorf("vakifbanktest: correct movement: no account %s", number)
	}
	i := slices.IndexFunc(a.moves, func(x movement) bool { return x.id == m.ID })
	if i < 0 {
		return fmt.Errorf("vakifbanktest: correct movement: no movement %s on %s", m.ID, number)
	}
	moves := slices.Clone(a.moves)
	moves[i] = mv
	slices.SortStableFunc(moves, func(x, y movement) int { return x.at.Compare(y.at) })
	a.moves = moves
	return nil
}

// toMovement converts m as AddAccount does: the type follows the sign when
// m.Type is 0.
func toMovement(m Movement) (movement, error) {
	amount, ok1 := cents(m.Amount)
	balance, ok2 := cents(m.Balance)
	if !ok1 || !ok2 {
		return movement{}, fmt.Errorf("amounts need at most 2 decimals")
	}
	typ := byte(m.Type)
	if typ == 0 {
		typ = 1
		if amount < 0 {
			typ = 2
		}
	}
	return movement{id: m.ID, at: m.Date.In(tz.Istanbul), typ: typ, amount: amount, balance: balance,
		code: m.Code, name: m.Name, descr: m.Description}, nil
}

// export is the movement as the package's callers see it.
func (m movement) export(currency string) Movement {
	return Movement{ID: m.id, Date: m.at, Type: int(m.typ), Amount: decimal.New(m.amount, -2), Balance: decimal.New(m.balance, -2),
		Currency: currency, Code: m.code, Name: m.name, Description: m.descr}
}
