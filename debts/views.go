package debts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"kasa/store"
	"kasa/tz"
)

// The debts area's pages read what they show with a few plain queries each
// (the page, its count, the references, ...), none of which repeats per
// row: a page costs the same number of statements whatever it lists.

// DebtListPage is what the debts list shows: a page of debts, every known
// reference for the filters' choices, and the latest sync.
type DebtListPage struct {
	Page DebtPage
	// Refs are every agent, current account and currency, by kind and code.
	Refs []DebtRef
	// LastSync is nil before the first sync.
	LastSync *DebtSync
}

// DebtListView reads the debts list's page of f with the filters' choices
// and the latest sync.
func (s *Service) DebtListView(ctx context.Context, f DebtFilter) (DebtListPage, error) {
	var v DebtListPage
	var err error
	if v.Page, err = s.ListDebts(ctx, f); err != nil {
		return DebtListPage{}, fmt.Errorf("debts: debt list view: %w", err)
	}
	if v.Refs, err = s.AllDebtRefs(ctx); err != nil {
		return DebtListPage{}, fmt.Errorf("debts: debt list view: %w", err)
	}
	if v.LastSync, err = s.lastDebtSync(ctx); err != nil {
		return DebtListPage{}, fmt.Errorf("debts: debt list view: %w", err)
	}
	return v, nil
}

// lastDebtSync is LatestDebtSync with nil before the first sync.
func (s *Service) lastDebtSync(ctx context.Context) (*DebtSync, error) {
	ds, err := s.LatestDebtSync(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest debt sync: %w", err)
	}
	return &ds, nil
}

// DebtOverduePage is what the overdue page shows: its list (the overdue
// rule with the user's filters), the totals of what a notification would
// reach today, the latest sends and whether they go out daily.
type DebtOverduePage struct {
	List          DebtListPage
	Summary       OverdueSummary
	Notifications []DebtNotification
	DailyNotify   bool
}

// DebtOverdueView reads the overdue page: the list page of f (the caller
// applies the overdue rule to it), the summary of OverdueFilter(f.Today),
// and the latest notifications sends.
func (s *Service) DebtOverdueView(ctx context.Context, f DebtFilter, notifications int) (DebtOverduePage, error) {
	var v DebtOverduePage
	var err error
	if v.List, err = s.DebtListView(ctx, f); err != nil {
		return DebtOverduePage{}, fmt.Errorf("debts: debt overdue view: %w", err)
	}
	if v.Summary, err = s.OverdueSummary(ctx, f.Today); err != nil {
		return DebtOverduePage{}, fmt.Errorf("debts: debt overdue view: %w", err)
	}
	if v.Notifications, err = s.DebtNotifications(ctx, notifications); err != nil {
		return DebtOverduePage{}, fmt.Errorf("debts: debt overdue view: %w", err)
	}
	if v.DailyNotify, err = s.DebtDailyNotify(ctx); err != nil {
		return DebtOverduePage{}, fmt.Errorf("debts: debt overdue view: %w", err)
	}
	return v, nil
}

// DebtDetail is what a debt's page shows: the debt, its history from the
// audit log and the intents sent for it with their API calls.
type DebtDetail struct {
	Debt       Debt
	Trail      []store.AuditEntry
	Deliveries []DebtDelivery
}

// DebtDetailView reads debt id with its latest history (trail entries at
// most), its latest 50 deliveries and their latest 200 API calls;
// store.ErrNotFound when there is no such debt.
func (s *Service) DebtDetailView(ctx context.Context, id int64, trail int) (DebtDetail, error) {
	var v DebtDetail
	var err error
	if v.Debt, err = s.Debt(ctx, id); err != nil {
		return DebtDetail{}, fmt.Errorf("debts: debt detail view: %w", err)
	}
	if v.Trail, err = s.st.AuditTrail(ctx, DebtSubject(id), trail); err != nil {
		return DebtDetail{}, fmt.Errorf("debts: debt detail view: %w", err)
	}
	if v.Deliveries, err = s.DebtDeliveries(ctx, id); err != nil {
		return DebtDetail{}, fmt.Errorf("debts: debt detail view: %w", err)
	}
	return v, nil
}

// NewErpCode proposes an ERP code no debt has used: a date and a random
// part, short enough to read over the phone.
func (s *Service) NewErpCode(ctx context.Context) (string, error) {
	var codes []string
	err := s.st.DB().SelectContext(ctx, &codes, `SELECT c FROM unnest($1::text[]) WITH ORDINALITY AS t (c, i)
		WHERE NOT EXISTS (SELECT 1 FROM debt_erp_codes WHERE code = c) AND NOT EXISTS (SELECT 1 FROM debts WHERE erp_code = c)
		ORDER BY i LIMIT 1`, pq.Array(s.erpCodeCandidates()))
	if err != nil {
		return "", fmt.Errorf("debts: new erp code: %w", err)
	}
	if len(codes) == 0 {
		return "", fmt.Errorf("debts: new erp code: no free erp code found")
	}
	return codes[0], nil
}

// erpCodeCandidates proposes five ERP codes: a date and a random part,
// short enough to read over the phone.
func (s *Service) erpCodeCandidates() []string {
	day := s.now().In(tz.Istanbul).Format("20060102")
	codes := make([]string, 5)
	for i := range codes {
		codes[i] = "CAT-" + day + "-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:6])
	}
	return codes
}
