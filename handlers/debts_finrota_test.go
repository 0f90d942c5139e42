package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/i18n"
	"kasa/providers/finrota"
	"kasa/store"
)

// portalDebt books a debt at the fake Finrota directly, as someone using
// the portal would; the product learns of it by syncing.
func portalDebt(t *testing.T, e *testEnv, erp, amount, paid string, dueDaysAgo int) {
	t.Helper()
	ctx := context.Background()
	client, err := e.conn.Finrota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(e.now.Now())
	if _, err := client.Create(ctx, finrota.Debt{
		AgentErpCode: e.sandbox.Finrota.ActiveAgentCodes()[0], CurrentAccountErpCode: e.sandbox.Finrota.ActiveCurrentAccountCodes()[0],
		Amount: mustDec(amount), PaidAmount: mustDec(paid), DocumentNo: "DOC-" + erp, DocumentType: "Fatura", CurrencyID: "TRY",
		ErpCode: erp, DueDate: today.AddDate(0, 0, -dueDaysAgo), TransactionDate: today.AddDate(0, 0, -dueDaysAgo-30),
	}); err != nil {
		t.Fatalf("portal debt %s: %v", erp, err)
	}
}

// TestDebtOverdueRuleIsFinrotas: Finrota's FAQ rule (PaidAmount ≤ Amount,
// DueDate < now) selects a fully paid overdue debt and a debt due today.
// The overdue page, the list's overdue filter and the send confirmation
// count exactly what Finrota then notifies, and the fully paid ones are
// flagged before anyone confirms.
func TestDebtOverdueRuleIsFinrotas(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	portalDebt(t, e, "RULE-PAID", "800.00", "800.00", 10)
	portalDebt(t, e, "RULE-TODAY", "120.00", "0", 0)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	sum, err := e.st.OverdueSummary(ctx, i18n.Today(e.now.Now()))
	if err != nil {
		t.Fatal(err)
	}

	_, page := e.get(c, "/debts/overdue?q=RULE-", "Accept-Language", "en")
	rows := map[string]bool{}
	page.Find(`[data-testid=debt-row]`).Each(func(_ int, s *goquery.Selection) { rows[s.AttrOr("data-erp", "")] = true })
	if !rows["RULE-PAID"] || !rows["RULE-TODAY"] {
		t.Fatalf("overdue page lists %v; want the fully paid debt and the one due today", rows)
	}
	if page.Find(`[data-testid=debt-row][data-erp=RULE-PAID] [data-testid=paid-notified-badge]`).Length() != 1 ||
		page.Find(`[data-testid=debt-row][data-erp=RULE-TODAY] [data-testid=paid-notified-badge]`).Length() != 0 {
		t.Error("the fully paid debt is not flagged (or the unpaid one is)")
	}

	// One rule, one count: the list's overdue filter agrees with the page.
	_, page = e.get(c, "/debts/overdue", "Accept-Language", "en")
	_, list := e.get(c, "/debts?overdue=1", "Accept-Language", "en")
	if got, want := testID(list, "debts-count"), i18n.EN.T("debts.count", i18n.EN.Int(int64(sum.Debts))); got != want || testID(page, "overdue-debts") != i18n.EN.Int(int64(sum.Debts)) {
		t.Errorf("list's overdue filter %q, overdue page %q; want both %d", got, testID(page, "overdue-debts"), sum.Debts)
	}
	if testID(list, "overdue-filter-rule") == "" {
		t.Error("the list's overdue filter does not say which rule it applies")
	}

	_, confirm := e.get(c, "/debts/overdue/send", "Accept-Language", "en")
	if sum.FullyPaid == 0 || testID(confirm, "overdue-fully-paid") != i18n.EN.T("debts.overdue.fullypaid", sum.FullyPaid, sum.Debts) {
		t.Fatalf("confirmation does not flag the %d fully paid debts: %q", sum.FullyPaid, testID(confirm, "overdue-fully-paid"))
	}
	resp, _ := e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	notified, paid := map[string]bool{}, 0
	for _, n := range e.sandbox.Finrota.Notifications() {
		notified[n.DebtErpCode] = true
		if n.Outstanding.IsZero() {
			paid++
		}
	}
	if len(notified) != sum.Debts || paid != sum.FullyPaid || !notified["RULE-PAID"] || !notified["RULE-TODAY"] {
		t.Fatalf("confirmation counted %d debts (%d fully paid); Finrota notified %d (%d fully paid): %v",
			sum.Debts, sum.FullyPaid, len(notified), paid, strings.Join(keys(notified), ","))
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
