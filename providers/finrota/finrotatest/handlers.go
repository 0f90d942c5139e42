package finrotatest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"kasa/tz"
)

// debtJSON is a debt as the list returns it.
type debtJSON struct {
	ID                    string      `json:"id"`
	AgentErpCode          string      `json:"agentErpCode"`
	Amount                json.Number `json:"amount"`
	PaidAmount            json.Number `json:"paidAmount"`
	DocumentNo            string      `json:"documentNo"`
	CurrentAccountErpCode string      `json:"currentAccountErpCode"`
	DocumentType          string      `json:"documentType"`
	DueDate               string      `json:"dueDate"`
	TransactionDate       string      `json:"transactionDate"`
	CurrencyID            string      `json:"currencyId"`
	ErpCode               string      `json:"erpCode"`
	Description           string      `json:"description"`
	IsActive              bool        `json:"isActive"`
	CreatedAt             string      `json:"createdAt"`
	UpdatedAt             string      `json:"updatedAt"`
}

type receiptJSON struct {
	ErpCode   string `json:"erpCode"`
	CreatedAt string `json:"createdAt"`
}

type pageJSON struct {
	Items      []debtJSON `json:"items"`
	Page       int        `json:"page"`
	PageSize   int        `json:"pageSize"`
	TotalCount int        `json:"totalCount"`
}

// stamp formats a time as Finrota does: Istanbul offset, 7 fractional digits.
func stamp(t time.Time) string {
	return t.In(tz.Istanbul).Format("2006-01-02T15:04:05.0000000Z07:00")
}

func toJSON(d *Debt) debtJSON {
	return debtJSON{
		ID: d.ID, AgentErpCode: d.AgentErpCode,
		Amount: json.Number(d.Amount.StringFixed(2)), PaidAmount: json.Number(d.PaidAmount.StringFixed(2)),
		DocumentNo: d.DocumentNo, CurrentAccountErpCode: d.CurrentAccountErpCode, DocumentType: d.DocumentType,
		// ASP.NET writes a DateTime without a zone.
		DueDate: d.DueDate + "T00:00:00", TransactionDate: d.TransactionDate + "T00:00:00",
		CurrencyID: d.CurrencyID, ErpCode: d.ErpCode, Description: d.Description, IsActive: d.IsActive,
		CreatedAt: stamp(d.CreatedAt), UpdatedAt: stamp(d.UpdatedAt),
	}
}

// reply is a status and body decided under the lock and written after it.
type reply struct {
	status int
	body   any
}

func statusReply(status int, msg string) reply {
	return reply{status, statusEnvelope{Status: "error", Message: msg, MessageCode: strconv.Itoa(status)}}
}

func conflictReply(msg string) reply {
	return reply{http.StatusConflict, gatewayEnvelope{StatusCode: http.StatusConflict, Error: "Conflict", Message: msg}}
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	b, ok := readDebtBody(w, r)
	if !ok {
		return
	}
	in, fields := validateDebt(b, false)
	if len(fields) > 0 {
		writeValidation(w, fields)
		return
	}
	rep := s.create(in)
	writeJSON(w, rep.status, rep.body)
}

func (s *Server) create(in debtInput) reply {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if rep, bad := s.checkReferencesLocked(in); bad {
		return rep
	}
	if _, used := s.used[in.erpCode]; used {
		return conflictReply("A current account transaction with erpCode '" + in.erpCode + "' already exists or was used before.")
	}
	d := &Debt{ID: newID(), CreatedAt: now, IsActive: true}
	apply(d, in, now)
	s.debts = append(s.debts, d)
	s.used[d.ErpCode] = d.ID
	return reply{http.StatusOK, successEnvelope{
		Result:  receiptJSON{ErpCode: d.ErpCode, CreatedAt: stamp(now)},
		Status:  "success",
		Message: "Cari hesap işlemi oluşturuldu.",
	}}
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	b, ok := readDebtBody(w, r)
	if !ok {
		return
	}
	in, fields := validateDebt(b, true)
	if len(fields) > 0 {
		writeValidation(w, fields)
		return
	}
	rep := s.update(in)
	writeJSON(w, rep.status, rep.body)
}

func (s *Server) update(in debtInput) reply {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.findLocked(in.id, in.updateErpCode)
	if d == nil {
		return statusReply(http.StatusNotFound, "Current account transaction not found.")
	}
	if rep, bad := s.checkReferencesLocked(in); bad {
		return rep
	}
	if owner, used := s.used[in.erpCode]; used && owner != d.ID {
		return conflictReply("erpCode '" + in.erpCode + "' is already used by another current account transaction.")
	}
	apply(d, in, now)
	s.used[d.ErpCode] = d.ID
	// The seed's example answers an update with the time of the update
	// under "createdAt"; the fake does the same.
	return reply{http.StatusOK, successEnvelope{
		Result:  receiptJSON{ErpCode: d.ErpCode, CreatedAt: stamp(now)},
		Status:  "success",
		Message: "Current account transaction updated.",
	}}
}

func apply(d *Debt, in debtInput, now time.Time) {
	d.AgentErpCode, d.Amount, d.PaidAmount = in.agent, in.amount, in.paid
	d.DocumentNo, d.CurrentAccountErpCode, d.DocumentType = in.documentNo, in.accounts[0], in.documentType
	d.DueDate, d.TransactionDate, d.CurrencyID = in.due, in.transaction, in.currency
	d.ErpCode, d.Description, d.UpdatedAt = in.erpCode, in.description, now
}

// findLocked finds the active debt named by id and/or its current ERP
// code; when both are given they must name the same debt.
func (s *Server) findLocked(id, erpCode string) *Debt {
	for _, d := range s.debts {
		if !d.IsActive || (id != "" && d.ID != id) || (erpCode != "" && d.ErpCode != erpCode) {
			continue
		}
		return d
	}
	return nil
}

// checkReferencesLocked applies the rules that need the portal's data, in
// the order Finrota reports them: currency, agent, current account.
func (s *Server) checkReferencesLocked(in debtInput) (reply, bool) {
	if !s.currencies[in.currency] {
		return statusReply(http.StatusNotFound, "Invalid currencyId"), true
	}
	// CONTRACTS §1.2: the agent must be known to the portal; an inactive
	// one is refused like an inactive current account (the notification
	// skips inactive owners, so a debt booked to one could never be chased).
	if a, ok := s.agents[in.agent]; !ok || !a.Active {
		return statusReply(http.StatusNotFound, "Agent not found or inactive: no active agent with erpCode '"+in.agent+"'."), true
	}
	for _, code := range in.accounts {
		if a, ok := s.accounts[code]; !ok || !a.Active {
			return statusReply(http.StatusNotFound, "Current account not found or inactive: '"+code+"'."), true
		}
	}
	return reply{}, false
}

// seedIDLocked makes a GUID for the sample data from the seeded generator:
// the same seed gives the same sample records, whose ids therefore stay
// the same across restarts, as a real portal's records do.
func (s *Server) seedIDLocked() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

// newID makes the GUID of a record created while the fake runs. It is
// random, never drawn from the seed: a restarted fake (sandbox mode keeps
// no state) must not hand out again the ids of the records it created
// before, which the product's mirror still holds.
func newID() string { return uuid.NewString() }

// handleList serves the single lookup (Id, ErpCode) and the paginated
// list. Parameter names are case-sensitive: PageSize or erpcode are ignored.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, erpCode := q.Get("Id"), q.Get("ErpCode")
	if id != "" {
		u, err := uuid.Parse(id)
		if err != nil {
			writeValidation(w, fieldErrors{"Id": {"The value '" + clip(id) + "' is not valid."}})
			return
		}
		id = u.String()
	}
	if id != "" || erpCode != "" {
		s.mu.Lock()
		items := []debtJSON{}
		if d := s.findLocked(id, erpCode); d != nil {
			items = append(items, toJSON(d))
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, successEnvelope{Result: pageJSON{Items: items, Page: 1, PageSize: 10, TotalCount: len(items)}, Status: "success", Message: ""})
		return
	}
	_, hasPage := q["page"]
	_, hasSize := q["pageSize"]
	if !hasPage && !hasSize {
		writeStatus(w, http.StatusBadRequest, "Pagination is mandatory: send page and pageSize, or Id or ErpCode.")
		return
	}
	f := fieldErrors{}
	page := intParam(f, q, "page", 1)
	size := intParam(f, q, "pageSize", 10)
	if _, bad := f["page"]; !bad && page < 1 {
		f.add("page", "page must be 1 or greater.")
	}
	if _, bad := f["pageSize"]; !bad && (size < 1 || size > 100) {
		f.add("pageSize", "pageSize must be between 1 and 100.")
	}
	if len(f) > 0 {
		writeValidation(w, f)
		return
	}
	s.mu.Lock()
	var active []*Debt
	for _, d := range s.debts {
		if d.IsActive {
			active = append(active, d)
		}
	}
	items := []debtJSON{}
	if start := (page - 1) * size; start < len(active) && start >= 0 {
		for _, d := range active[start:min(start+size, len(active))] {
			items = append(items, toJSON(d))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, successEnvelope{Result: pageJSON{Items: items, Page: page, PageSize: size, TotalCount: len(active)}, Status: "success", Message: ""})
}

func intParam(f fieldErrors, q map[string][]string, name string, def int) int {
	vs, ok := q[name]
	if !ok || strings.TrimSpace(vs[0]) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
	if err != nil || n > 1_000_000 {
		f.add(name, "The value '%s' is not valid for %s.", clip(vs[0]), name)
	}
	return n
}

// handleNotify "sends" a notification for every debt Finrota's FAQ rule
// selects (CONTRACTS §1.5): active, PaidAmount ≤ Amount (a fully paid debt
// is included), DueDate < now (the due date's midnight in Istanbul, so a
// debt due today is included once the day has begun), with an active
// current account and agent. Each one is recorded.
func (s *Server) handleNotify(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.mu.Lock()
	for _, d := range s.debts {
		acc, agent := s.accounts[d.CurrentAccountErpCode], s.agents[d.AgentErpCode]
		if !d.IsActive || d.PaidAmount.GreaterThan(d.Amount) || !dueBefore(d.DueDate, now) ||
			acc == nil || !acc.Active || agent == nil || !agent.Active {
			continue
		}
		s.notifications = append(s.notifications, Notification{
			At:                    now,
			DebtErpCode:           d.ErpCode,
			DocumentNo:            d.DocumentNo,
			AgentErpCode:          d.AgentErpCode,
			CurrentAccountErpCode: d.CurrentAccountErpCode,
			CurrentAccountName:    acc.Name,
			Recipient:             acc.Email,
			Outstanding:           d.Amount.Sub(d.PaidAmount),
			Currency:              d.CurrencyID,
			DueDate:               d.DueDate,
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, successEnvelope{Status: "success", Message: "Debt notification contents have been sent"})
}

// dueBefore reports whether a due date (YYYY-MM-DD) is before now: its
// midnight in Istanbul, where Finrota keeps business dates, has passed.
func dueBefore(due string, now time.Time) bool {
	t, err := time.ParseInLocation(time.DateOnly, due, tz.Istanbul)
	return err == nil && t.Before(now)
}
