package handlers

import (
	"context"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/i18n"
	"kasa/store"
)

// TestDebtOverdueFullyPaidInView: the "Paid, still notified" marker sits in
// the first column, next to the ERP code (always on screen), and the
// warning links to the overdue list narrowed to the fully paid debts, by
// the same rule, so the person about to send sees exactly which they are.
func TestDebtOverdueFullyPaidInView(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	portalDebt(t, e, "SHOWN-PAID", "800.00", "800.00", 10)
	portalDebt(t, e, "SHOWN-OPEN", "120.00", "20.00", 3)
	syncDebtsNow(t, e, c)
	sum, err := e.h.app.Debts.OverdueSummary(context.Background(), i18n.Today(e.now.Now()))
	if err != nil || sum.FullyPaid == 0 {
		t.Fatalf("summary %+v %v", sum, err)
	}

	for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
		_, page := e.get(c, "/debts/overdue?q=SHOWN-", "Accept-Language", string(l))
		if page.Find(`[data-testid=debt-row][data-erp=SHOWN-PAID] td:first-child [data-testid=paid-notified-badge]`).Length() != 1 {
			t.Errorf("%s: the fully paid debt's marker is not next to its ERP code", l)
		}
		if page.Find(`[data-testid=debt-row][data-erp=SHOWN-OPEN] [data-testid=paid-notified-badge]`).Length() != 0 {
			t.Errorf("%s: a debt with something left to pay is marked paid", l)
		}
		if got := testID(page, "overdue-paid-link"); got != l.T("debts.overdue.paid.link", sum.FullyPaid) {
			t.Errorf("%s: link to the fully paid %q", l, got)
		}
	}

	_, page := e.get(c, "/debts/overdue", "Accept-Language", "en")
	href, ok := page.Find(`[data-testid=overdue-paid-link]`).Attr("href")
	if !ok {
		t.Fatal("the warning does not link to the fully paid debts")
	}
	_, paid := e.get(c, href, "Accept-Language", "en")
	if got, want := testID(paid, "debts-count"), i18n.EN.T("debts.count", i18n.EN.Int(int64(sum.FullyPaid))); got != want {
		t.Errorf("fully paid view counts %q, want %q", got, want)
	}
	rows := paid.Find(`[data-testid=debt-row]`)
	if rows.Length() == 0 || rows.Length() != rows.Find(`[data-testid=paid-notified-badge]`).Length() {
		t.Errorf("fully paid view lists %d rows, %d marked", rows.Length(), rows.Find(`[data-testid=paid-notified-badge]`).Length())
	}
	erps := map[string]bool{}
	rows.Each(func(_ int, s *goquery.Selection) { erps[s.AttrOr("data-erp", "")] = true })
	if !erps["SHOWN-PAID"] || erps["SHOWN-OPEN"] {
		t.Errorf("fully paid view lists %v", keys(erps))
	}
	// The totals stay those of the whole send, and the narrowed view says
	// so, with the way back.
	if testID(paid, "overdue-debts") != i18n.EN.Int(int64(sum.Debts)) {
		t.Errorf("fully paid view totals %q, want the send's %d", testID(paid, "overdue-debts"), sum.Debts)
	}
	if testID(paid, "overdue-paid-only") == "" || paid.Find(`[data-testid=overdue-show-all]`).Length() != 1 ||
		paid.Find(`[data-testid=overdue-paid-link]`).Length() != 0 {
		t.Error("the fully paid view does not say it is narrowed, or offers itself again")
	}
	// Sorting keeps the narrowing.
	sort, _ := paid.Find(`th a.sort`).First().Attr("href")
	if u, err := url.Parse(sort); err != nil || sort == "" || u.Query().Get("paid") != "1" {
		t.Errorf("sort link %q drops the fully paid view", sort)
	}

	_, confirm := e.get(c, "/debts/overdue/send", "Accept-Language", "en")
	if confirm.Find(`[data-testid=overdue-paid-link]`).AttrOr("href", "") != href {
		t.Error("the send confirmation does not link to the fully paid debts")
	}
}
