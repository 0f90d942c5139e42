package handlers

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/i18n"
	"kasa/providers/finrota"
	"kasa/store"
	"kasa/views"
)

// TestDebtCheckShowsValuesAsTheDebtPageDoes: the comparison writes both
// sides in the user's language (money, dates, Yes/No, the document type's
// label), decides the differences on the raw values, and marks the rows
// that differ with the class the stylesheet colours.
func TestDebtCheckShowsValuesAsTheDebtPageDoes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	syncDebtsNow(t, e, c)
	var code string
	for _, r := range e.sandbox.Finrota.Debts() {
		if r.IsActive && r.PaidAmount.IsZero() {
			code = r.ErpCode
			break
		}
	}
	d, err := e.h.app.Debts.DebtByErpCode(ctx, code)
	if err != nil || d.FinrotaID == nil {
		t.Fatalf("synced debt %s: %+v %v", code, d, err)
	}
	client, err := e.conn.Finrota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := client.GetByErpCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	remote.PaidAmount = mustDec("1234.50")
	if _, err := client.Update(ctx, finrota.Ref{UpdateErpCode: code}, remote); err != nil {
		t.Fatal(err)
	}

	css, err := os.ReadFile("../static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
		resp, doc := e.postForm(c, debtPath(d.ID)+"/check", url.Values{}, "Accept-Language", string(l))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: check: %d", l, resp.StatusCode)
		}
		if got, want := testID(doc, "check-by"), l.T("debts.check.by", l.T("debts.check.ref.Id", *d.FinrotaID)); got != want {
			t.Errorf("%s: read by %q, want %q", l, got, want)
		}
		if strings.Contains(testID(doc, "check-by"), "=") {
			t.Errorf("%s: the reference is written as a query: %q", l, testID(doc, "check-by"))
		}
		cell := func(field, side string) string {
			return strings.TrimSpace(doc.Find(`[data-testid=check-row][data-field=` + field + `] [data-testid=check-` + side + `]`).Text())
		}
		want := map[string][2]string{
			"amount":          {l.Money(d.Amount, d.CurrencyID), l.Money(d.Amount, d.CurrencyID)},
			"paidAmount":      {l.Money(d.PaidAmount, d.CurrencyID), l.Money(mustDec("1234.50"), d.CurrencyID)},
			"dueDate":         {l.Date(d.DueDate), l.Date(d.DueDate)},
			"transactionDate": {l.Date(d.TransactionDate), l.Date(d.TransactionDate)},
			"isActive":        {l.T("common.yes"), l.T("common.yes")},
			"documentType":    {views.DocTypeLabel(l, d.DocumentType), views.DocTypeLabel(l, d.DocumentType)},
			"erpCode":         {d.ErpCode, d.ErpCode},
		}
		for field, w := range want {
			if got := cell(field, "ours"); got != w[0] {
				t.Errorf("%s: %s in Kasa %q, want %q", l, field, got, w[0])
			}
			if got := cell(field, "theirs"); got != w[1] {
				t.Errorf("%s: %s at Finrota %q, want %q", l, field, got, w[1])
			}
		}
		// Only the paid amount differs; the differing row carries the class
		// the stylesheet colours, the others do not.
		doc.Find(`[data-testid=check-row]`).Each(func(_ int, row *goquery.Selection) {
			differs := row.AttrOr("data-field", "") == "paidAmount"
			if row.HasClass("differs") != differs || (row.AttrOr("data-differs", "") == "true") != differs {
				t.Errorf("%s: row %s marked %q (class %q), differs %v", l, row.AttrOr("data-field", ""),
					row.AttrOr("data-differs", ""), row.AttrOr("class", ""), differs)
			}
		})
		if !strings.Contains(string(css), "tr.differs") {
			t.Error("the stylesheet does not colour tr.differs")
		}
		// On a narrow screen the comparison keeps its columns inside its card.
		table := doc.Find(`[data-testid=check-table]`)
		if !table.Parent().HasClass("table-wrap") || !table.HasClass("table-compare") || !strings.Contains(string(css), "table.table-compare td") {
			t.Errorf("%s: the comparison table is not wrapped to fit: %q", l, table.AttrOr("class", ""))
		}
	}
}

// TestDebtCheckFailureSaysCheckAgain: a check Finrota refuses explains the
// refusal with the 403 checklist and this page's own next step (check
// again, with a button), never the sync's.
func TestDebtCheckFailureSaysCheckAgain(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	syncDebtsNow(t, e, c)
	d, err := e.h.app.Debts.DebtByErpCode(ctx, e.sandbox.Finrota.Debts()[0].ErpCode)
	if err != nil {
		t.Fatal(err)
	}
	e.sandbox.Finrota.Faults.FailNext(-1, http.StatusForbidden)
	defer e.sandbox.Finrota.Faults.Reset()
	for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
		resp, doc := e.postForm(c, debtPath(d.ID)+"/check", url.Values{}, "Accept-Language", string(l))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: check: %d", l, resp.StatusCode)
		}
		got := testID(doc, "check-error")
		if want := l.T("debts.check.failed", l.T("debts.check.err.forbidden")); got != want {
			t.Errorf("%s: error %q, want %q", l, got, want)
		}
		if strings.Contains(got, l.T("debts.sync.err.forbidden")) {
			t.Errorf("%s: the check's error tells to sync again: %q", l, got)
		}
		again := doc.Find(`[data-testid=check-again]`)
		if again.Length() != 1 || again.Closest("form").AttrOr("action", "") != debtPath(d.ID)+"/check" {
			t.Errorf("%s: no way to check again", l)
		}
	}
	// Every reason a read can fail for ends with checking again.
	for _, code := range []string{"not_configured", "credentials", "forbidden", "throttled", "malformed", "unavailable", "unreachable", "refused", "internal"} {
		for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
			if got := views.CheckFailure(l, code); strings.Contains(got, l.T("debts.sync.again")) || got == l.T("debts.check.failed", views.SyncFailure(l, code)) {
				t.Errorf("%s %s: %q reads as the sync's", l, code, got)
			}
		}
	}
}
