package debts

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/store"
	"kasa/tz"
)

// debtSearchColumns are the debts' searched text columns, in the order of
// the trigram index over them (migration 00008): a search must repeat the
// index's expression exactly for the index to serve it.
var debtSearchColumns = []string{"erp_code", "document_no", "description"}

// The sort keys of the debt list.
const (
	DebtSortCreated = "created" // newest first by default
	DebtSortDue     = "due"
	DebtSortAmount  = "amount"
)

// DebtCursor is a position in the debt list: the sort value and id of a row.
// Keyset pagination from a cursor costs the same on the last page as on the
// first, where OFFSET would read and discard every row before it.
type DebtCursor struct {
	Value string // due date (YYYY-MM-DD) or amount; empty for the created sort
	ID    int64
}

// String encodes the cursor for a URL.
func (c DebtCursor) String() string {
	if c.Value == "" {
		return strconv.FormatInt(c.ID, 10)
	}
	return c.Value + "_" + strconv.FormatInt(c.ID, 10)
}

// ParseDebtCursor reads a cursor made by String for the sort key; ok is
// false when it does not fit the key (a hand-edited URL).
func ParseDebtCursor(s, sort string) (DebtCursor, bool) {
	val, idText, found := strings.Cut(s, "_")
	if !found {
		val, idText = "", s
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return DebtCursor{}, false
	}
	switch sort {
	case DebtSortDue:
		if _, err := time.Parse(time.DateOnly, val); err != nil {
			return DebtCursor{}, false
		}
	case DebtSortAmount:
		if _, err := decimal.NewFromString(val); err != nil {
			return DebtCursor{}, false
		}
	default:
		if val != "" {
			return DebtCursor{}, false
		}
	}
	return DebtCursor{Value: val, ID: id}, true
}

// DebtFilter selects and orders debts for the list, its export and the
// overdue page. Empty fields match everything.
type DebtFilter struct {
	Agent, Account, Currency, DocumentType, State string
	// Overdue keeps only the debts Finrota's notification rule matches on
	// the Istanbul day Today (CONTRACTS §1.5): active, PaidAmount ≤ Amount
	// (fully paid ones included) and due on or before Today (DueDate < now:
	// the due day's midnight has passed). OverdueFilter adds the rest of the
	// rule (held by Finrota, agent and account not known inactive).
	Overdue bool
	Today   time.Time
	// AtFinrota keeps only debts Finrota holds (delivered at least once).
	AtFinrota bool
	// Reachable leaves out debts whose agent or current account is known
	// to be inactive: Finrota's notification skips them.
	Reachable bool
	// FullyPaid keeps only the debts with nothing left to pay (Debt.FullyPaid):
	// with Overdue, the ones Finrota's rule still notifies.
	FullyPaid bool
	// Q matches the start of the ERP code or the document number, ignoring case.
	Q    string
	Sort string // DebtSort*; DebtSortCreated when empty or unknown
	Desc bool
	// After or Before (not both) is the cursor of the neighbouring page.
	After, Before *DebtCursor
	Limit         int // default 100, at most 500
}

// DebtPage is one page of debts.
type DebtPage struct {
	Items []Debt
	// Next and Prev are the cursors of the neighbouring pages, nil at an end.
	Next, Prev *DebtCursor
	// Total is how many debts match, counted up to CountCap; Capped says
	// there are more.
	Total  int
	Capped bool
}

// CountCap bounds how far the list counts its matches: an exact count of
// 100,000 rows would cost more than the page itself, and past a thousand
// matches a person refines the filter rather than read on.
const CountCap = 1000

// sortColumn returns the column a sort key orders by ("" for the id only)
// and its SQL cast.
func sortColumn(key string) (col, cast string) {
	switch key {
	case DebtSortDue:
		return "due_date", "::date"
	case DebtSortAmount:
		return "amount", "::numeric"
	}
	return "", ""
}

// where builds the filter's conditions, numbering arguments after args.
func (f DebtFilter) where(args []any) (string, []any) {
	var conds []string
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Agent != "" {
		add("agent_erp_code = $?", f.Agent)
	}
	if f.Account != "" {
		add("current_account_erp_code = $?", f.Account)
	}
	if f.Currency != "" {
		add("currency_id = $?", f.Currency)
	}
	if f.DocumentType != "" {
		add("document_type = $?", f.DocumentType)
	}
	if f.State != "" {
		add("state = $?", f.State)
	}
	if f.Overdue {
		// Written as the partial index's predicate so the planner can use it.
		conds = append(conds, "is_active AND paid_amount <= amount")
		add("due_date <= $?::date", dayString(f.Today.In(tz.Istanbul)))
	}
	if f.FullyPaid {
		conds = append(conds, "paid_amount >= amount")
	}
	if f.AtFinrota {
		conds = append(conds, "remote_erp_code IS NOT NULL")
	}
	if f.Reachable {
		// Two lookups by the primary key (kind, code), each an anti-join.
		conds = append(conds, `NOT EXISTS (SELECT 1 FROM debt_refs r WHERE r.kind = 'agent' AND r.code = debts.agent_erp_code AND NOT r.active)`,
			`NOT EXISTS (SELECT 1 FROM debt_refs r WHERE r.kind = 'account' AND r.code = debts.current_account_erp_code AND NOT r.active)`)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		add(store.SearchMatch("", debtSearchColumns, "$?"), store.EscapeLike(q))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func cursorOf(d Debt, sort string) DebtCursor {
	switch sort {
	case DebtSortDue:
		return DebtCursor{Value: dayString(d.DueDate), ID: d.ID}
	case DebtSortAmount:
		return DebtCursor{Value: d.Amount.String(), ID: d.ID}
	}
	return DebtCursor{ID: d.ID}
}

// EachDebt calls fn for every debt matching f in the list's order (cursors
// and Limit are ignored), streaming rows so an export of any size runs in
// constant memory.
func (s *Service) EachDebt(ctx context.Context, f DebtFilter, fn func(Debt) error) error {
	f.After, f.Before = nil, nil
	col, _ := sortColumn(f.Sort)
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	order := "id " + dir
	if col != "" {
		order = col + " " + dir + ", id " + dir
	}
	where, args := f.where(nil)
	return store.EachRow(ctx, s.st.DB(), "export debts", fn, `SELECT `+debtColumns+` FROM debts`+where+` ORDER BY `+order, args...)
}

// OverdueTotal is the open balance of overdue debts in one currency, for
// one agent or (Agent empty) for all.
type OverdueTotal struct {
	Agent       string          `db:"agent" json:"agent"`
	Currency    string          `db:"currency" json:"currency"`
	Debts       int             `db:"debts" json:"debts"`
	Outstanding decimal.Decimal `db:"outstanding" json:"outstanding"`
}

// OverdueSummary is what an overdue-debt notification would reach.
type OverdueSummary struct {
	Debts, Agents, Accounts int
	// Unknown counts the debts among Debts whose agent's or current
	// account's activity is not known (Finrota has no list of them outside
	// the sandbox): Finrota skips inactive ones, so Debts is then an upper
	// bound.
	Unknown int
	// FullyPaid counts the debts among Debts with nothing left to pay:
	// Finrota's rule (PaidAmount ≤ Amount) still mails their debtors, so
	// the person confirming a send must see them.
	FullyPaid  int
	ByCurrency []OverdueTotal
	ByAgent    []OverdueTotal
}

// OverdueFilter selects what Finrota's overdue notification reaches on the
// Istanbul day of today: debts it holds, overdue, whose agent and current
// account are not known to be inactive. It is the one rule of the overdue
// page, its send confirmation and the list's overdue filter, so that all
// three count the same debts.
func OverdueFilter(today time.Time) DebtFilter {
	return DebtFilter{Overdue: true, Today: today, AtFinrota: true, Reachable: true}
}

// OverdueSummary totals the debts Finrota's overdue notification reaches on
// the Istanbul day of today, per currency and per agent. The overdue debts
// are grouped first, by agent, current account and currency in one pass,
// and the references looked up per group rather than per debt; the totals
// are then summed from the groups.
func (s *Service) OverdueSummary(ctx context.Context, today time.Time) (OverdueSummary, error) {
	f := OverdueFilter(today)
	f.Reachable = false // applied per group below
	where, args := f.where(nil)
	var groups []struct {
		Agent       string          `db:"agent"`
		Account     string          `db:"account"`
		Currency    string          `db:"currency"`
		Debts       int             `db:"debts"`
		Paid        int             `db:"paid"`
		Outstanding decimal.Decimal `db:"outstanding"`
		Known       bool            `db:"known"`
	}
	// A group is left out when its agent or account is known to be inactive
	// (DebtFilter.Reachable); its activity is known when both are listed.
	// (kind, code) is debt_refs' key, so each join matches at most once.
	if err := s.st.DB().SelectContext(ctx, &groups, `WITH overdue AS (
			SELECT agent_erp_code AS agent, current_account_erp_code AS account, currency_id AS currency, count(*) AS debts,
				count(*) FILTER (WHERE paid_amount >= amount) AS paid, sum(amount - paid_amount) AS outstanding
			FROM debts`+where+` GROUP BY agent_erp_code, current_account_erp_code, currency_id)
		SELECT o.agent, o.account, o.currency, o.debts, o.paid, o.outstanding, ra.code IS NOT NULL AND rc.code IS NOT NULL AS known
		FROM overdue o
		LEFT JOIN debt_refs ra ON ra.kind = 'agent' AND ra.code = o.agent AND ra.source <> 'seen'
		LEFT JOIN debt_refs rc ON rc.kind = 'account' AND rc.code = o.account AND rc.source <> 'seen'
		WHERE NOT EXISTS (SELECT 1 FROM debt_refs r WHERE r.kind = 'agent' AND r.code = o.agent AND NOT r.active)
			AND NOT EXISTS (SELECT 1 FROM debt_refs r WHERE r.kind = 'account' AND r.code = o.account AND NOT r.active)
		ORDER BY o.agent, o.currency`, args...); err != nil {
		return OverdueSummary{}, fmt.Errorf("debts: overdue summary: %w", err)
	}
	var sum OverdueSummary
	agents, accounts, byCurrency := map[string]bool{}, map[string]bool{}, map[string]int{}
	for _, g := range groups {
		sum.Debts += g.Debts
		sum.FullyPaid += g.Paid
		if !g.Known {
			sum.Unknown += g.Debts
		}
		agents[g.Agent], accounts[g.Account] = true, true
		// The groups come by agent and currency: one total per pair.
		if n := len(sum.ByAgent); n > 0 && sum.ByAgent[n-1].Agent == g.Agent && sum.ByAgent[n-1].Currency == g.Currency {
			sum.ByAgent[n-1].Debts += g.Debts
			sum.ByAgent[n-1].Outstanding = sum.ByAgent[n-1].Outstanding.Add(g.Outstanding)
		} else {
			sum.ByAgent = append(sum.ByAgent, OverdueTotal{Agent: g.Agent, Currency: g.Currency, Debts: g.Debts, Outstanding: g.Outstanding})
		}
		i, ok := byCurrency[g.Currency]
		if !ok {
			i = len(sum.ByCurrency)
			byCurrency[g.Currency] = i
			sum.ByCurrency = append(sum.ByCurrency, OverdueTotal{Currency: g.Currency})
		}
		sum.ByCurrency[i].Debts += g.Debts
		sum.ByCurrency[i].Outstanding = sum.ByCurrency[i].Outstanding.Add(g.Outstanding)
	}
	sum.Agents, sum.Accounts = len(agents), len(accounts)
	slices.SortFunc(sum.ByCurrency, func(a, b OverdueTotal) int { return strings.Compare(a.Currency, b.Currency) })
	return sum, nil
}
