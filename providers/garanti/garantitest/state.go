package garantitest

import (
	"sort"
	"time"
)

// Customers returns the seeded customers with their sandbox credentials.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Customer, len(s.customers))
	for i, c := range s.customers {
		out[i] = *c
	}
	return out
}

// Products returns the customer's HGS tags, ordered by product id.
func (s *Server) Products(customerNo string) []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.productsOf(customerNo)
}

// productsOf is Products for callers holding s.mu.
func (s *Server) productsOf(customerNo string) []Product {
	var out []Product
	for _, p := range s.products {
		if p.CustomerNo == customerNo {
			out = append(out, *p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProductID < out[j].ProductID })
	return out
}

// Transactions returns the tag's whole history, oldest first.
func (s *Server) Transactions(productID string) []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Transaction(nil), s.txns[productID]...)
}

// AddTransaction records a new passage or top-up on a tag and moves its
// balance, so tests and the sandbox can show data arriving after a sync.
// It reports false for an unknown product.
func (s *Server) AddTransaction(t Transaction) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.products[t.ProductID]
	if p == nil {
		return false
	}
	if t.DebitCreditInd == "A" {
		p.Balance = p.Balance.Add(t.Amount)
	} else {
		t.DebitCreditInd = "B"
		p.Balance = p.Balance.Sub(t.Amount)
	}
	list := append(s.txns[t.ProductID], t)
	sortTxns(list, false)
	s.txns[t.ProductID] = list
	return true
}

// Consent returns a snapshot of the consent, with its status as of now.
func (s *Server) Consent(id string) (ConsentState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consents[id]
	if c == nil {
		return ConsentState{}, false
	}
	now := s.now()
	st := ConsentState{ConsentID: c.id, ClientID: c.clientID, Status: c.effectiveStatus(now), CustomerNo: c.customerNo,
		Recurring: c.recurring, ValidationDate: c.validationDate, FrequencyPerDay: c.frequency, RedirectURI: c.redirectURI,
		UsageToday: c.usage[day(now).Format(dateLayout)]}
	for _, g := range c.grants {
		st.Grants = append(st.Grants, GrantState{ProductID: g.productID, AuthorityID: g.authorityID, Flag: g.flag, Revoked: g.revoked})
	}
	return st, true
}

// Registrations returns the accepted dynamic registrations, oldest first.
func (s *Server) Registrations() []Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Registration, 0, len(s.regOrder))
	for _, id := range s.regOrder {
		r := *s.regs[id]
		r.RedirectURIs = append([]string(nil), r.RedirectURIs...)
		out = append(out, r)
	}
	return out
}

// AddRegistration accepts a registration the fake did not make itself, as
// the real bank still knows an application after the product restarts:
// the sandbox gives a restarted fake the registration the product stored.
// A registration with an empty client id or secret is ignored.
func (s *Server) AddRegistration(r Registration) {
	if r.ClientID == "" || r.ClientSecret == "" {
		return
	}
	r.RedirectURIs = append([]string(nil), r.RedirectURIs...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.regs[r.ClientID]; !ok {
		s.regOrder = append(s.regOrder, r.ClientID)
	}
	s.regs[r.ClientID] = &r
}

// AddRawTransaction records a row on a tag exactly as given, whatever its
// debitCreditInd (a value other than A or B included), without moving the
// balance: a fault switch for a bank that sends a row the product does not
// know. It reports false for an unknown product.
func (s *Server) AddRawTransaction(t Transaction) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.products[t.ProductID] == nil {
		return false
	}
	list := append(s.txns[t.ProductID], t)
	sortTxns(list, false)
	s.txns[t.ProductID] = list
	return true
}

// ConsentEdit is what EditConsent may change in a consent the bank holds.
type ConsentEdit struct {
	Recurring       bool
	ValidationDate  time.Time
	FrequencyPerDay int
	// Grants are the consent's product/authority rows; a row left out is
	// gone, as if never granted.
	Grants []GrantState
}

// EditConsent changes a consent as the bank holds it, the way a customer
// changes one at the bank (internet banking, a branch) without the product
// being told: edit receives the current terms and grants and changes them.
// Tests and the sandbox use it to make the bank's record differ from the
// product's. It reports false for an unknown consent.
func (s *Server) EditConsent(id string, edit func(*ConsentEdit)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consents[id]
	if c == nil {
		return false
	}
	e := ConsentEdit{Recurring: c.recurring, ValidationDate: c.validationDate, FrequencyPerDay: c.frequency}
	for _, g := range c.grants {
		e.Grants = append(e.Grants, GrantState{ProductID: g.productID, AuthorityID: g.authorityID, Flag: g.flag, Revoked: g.revoked})
	}
	edit(&e)
	c.recurring, c.validationDate, c.frequency = e.Recurring, day(e.ValidationDate), e.FrequencyPerDay
	c.grants = nil
	for _, g := range e.Grants {
		c.grants = append(c.grants, &grant{productID: g.ProductID, authorityID: g.AuthorityID, flag: g.Flag, revoked: g.Revoked})
	}
	return true
}
