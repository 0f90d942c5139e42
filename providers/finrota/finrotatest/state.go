package finrotatest

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Agent is a dealer or customer registered in the portal. Its code matches
// exactly (case and punctuation).
type Agent struct {
	Code   string
	Name   string
	Active bool
}

// CurrentAccount is an account debts are booked to; debts can only be
// booked to active ones.
type CurrentAccount struct {
	ErpCode string
	Name    string
	Email   string // where overdue notifications go
	Active  bool
}

// Debt is a current account transaction as the fake keeps it.
type Debt struct {
	ID                    string
	ErpCode               string
	AgentErpCode          string
	CurrentAccountErpCode string
	Amount                decimal.Decimal
	PaidAmount            decimal.Decimal
	DocumentNo            string
	DocumentType          string // Turkish wire value
	DueDate               string // YYYY-MM-DD
	TransactionDate       string // YYYY-MM-DD
	CurrencyID            string
	Description           string
	IsActive              bool
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// Notification is one overdue-debt message the fake "sent".
type Notification struct {
	At                    time.Time
	DebtErpCode           string
	DocumentNo            string
	AgentErpCode          string
	CurrentAccountErpCode string
	CurrentAccountName    string
	Recipient             string
	Outstanding           decimal.Decimal
	Currency              string
	DueDate               string
}

// Agents returns every agent, active or not, in the order they were added.
func (s *Server) Agents() []Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Agent, 0, len(s.agentOrder))
	for _, code := range s.agentOrder {
		out = append(out, *s.agents[code])
	}
	return out
}

// ActiveAgentCodes returns the codes of the active agents, for the sandbox's
// forms.
func (s *Server) ActiveAgentCodes() []string {
	var out []string
	for _, a := range s.Agents() {
		if a.Active {
			out = append(out, a.Code)
		}
	}
	return out
}

// CurrentAccounts returns every current account, active or not, in the
// order they were added.
func (s *Server) CurrentAccounts() []CurrentAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CurrentAccount, 0, len(s.accountOrder))
	for _, code := range s.accountOrder {
		out = append(out, *s.accounts[code])
	}
	return out
}

// ActiveCurrentAccountCodes returns the ERP codes debts can be booked to.
func (s *Server) ActiveCurrentAccountCodes() []string {
	var out []string
	for _, a := range s.CurrentAccounts() {
		if a.Active {
			out = append(out, a.ErpCode)
		}
	}
	return out
}

// Currencies returns the currency codes defined in the fake portal.
func (s *Server) Currencies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.currencies))
	for c := range s.currencies {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Debts returns a copy of every debt, inactive ones included, oldest first.
func (s *Server) Debts() []Debt {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Debt, len(s.debts))
	for i, d := range s.debts {
		out[i] = *d
	}
	return out
}

// Debt returns the debt whose current ERP code is erpCode.
func (s *Server) Debt(erpCode string) (Debt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.debts {
		if d.ErpCode == erpCode {
			return *d, true
		}
	}
	return Debt{}, false
}

// Notifications returns the notifications sent so far, oldest first.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.notifications...)
}

// AddAgent registers (or replaces) an agent.
func (s *Server) AddAgent(a Agent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.agents[a.Code]; !ok {
		s.agentOrder = append(s.agentOrder, a.Code)
	}
	s.agents[a.Code] = &a
}

// SetAgentActive activates or deactivates an agent; false if unknown.
func (s *Server) SetAgentActive(code string, active bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agents[code]
	if ok {
		a.Active = active
	}
	return ok
}

// AddCurrentAccount registers (or replaces) a current account.
func (s *Server) AddCurrentAccount(a CurrentAccount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.ErpCode]; !ok {
		s.accountOrder = append(s.accountOrder, a.ErpCode)
	}
	s.accounts[a.ErpCode] = &a
}

// SetCurrentAccountActive activates or deactivates a current account; false
// if unknown.
func (s *Server) SetCurrentAccountActive(code string, active bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[code]
	if ok {
		a.Active = active
	}
	return ok
}

// AddCurrency defines a currency code besides TRY, USD and EUR.
func (s *Server) AddCurrency(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.currencies[code] = true
}

// SetDebtActive soft-deletes (or restores) a debt: inactive debts are not
// listed, found, updated or notified, but their ERP codes stay used.
func (s *Server) SetDebtActive(erpCode string, active bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.debts {
		if d.ErpCode == erpCode {
			d.IsActive = active
			return true
		}
	}
	return false
}
