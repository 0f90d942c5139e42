package handlers

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/debts"
	"kasa/i18n"
	"kasa/store"
)

func rowCodes(doc *goquery.Document) []string {
	var codes []string
	doc.Find(`[data-testid=debt-row]`).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.AttrOr("data-erp", "")) })
	return codes
}

// TestDebtListPagesSortsAndFilters walks the synced mirror by cursor in
// amount order and checks each filter against the fake's own data.
func TestDebtListPagesSortsAndFilters(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	op, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, op)
	remote := e.sandbox.Finrota.Debts()
	active := 0
	for _, r := range remote {
		if r.IsActive {
			active++
		}
	}

	seen := map[string]bool{}
	path := "/debts?sort=amount&dir=asc"
	var pages []string
	last := mustDec("-1")
	for path != "" {
		_, doc := e.get(c, path, "Accept-Language", "en")
		pages = append(pages, path)
		doc.Find(`[data-testid=debt-row]`).Each(func(_ int, s *goquery.Selection) {
			code := s.AttrOr("data-erp", "")
			if seen[code] {
				t.Errorf("%s shown twice", code)
			}
			seen[code] = true
			r, _ := e.sandbox.Finrota.Debt(code)
			if r.Amount.LessThan(last) {
				t.Errorf("amount order broken at %s: %s after %s", code, r.Amount, last)
			}
			last = r.Amount
		})
		if got := testID(doc, "debts-count"); got != i18n.EN.T("debts.count", i18n.EN.Int(int64(active))) {
			t.Fatalf("count %q, want %d", got, active)
		}
		path = doc.Find(`[data-testid=page-next]`).AttrOr("href", "")
	}
	if len(seen) != active || len(pages) != (active+99)/100 {
		t.Fatalf("walked %d debts over %d pages, want %d", len(seen), len(pages), active)
	}
	// Back from page 2 is page 1.
	_, p1 := e.get(c, pages[0])
	_, p2 := e.get(c, pages[1])
	_, back := e.get(c, p2.Find(`[data-testid=page-prev]`).AttrOr("href", ""))
	if strings.Join(rowCodes(back), ",") != strings.Join(rowCodes(p1), ",") {
		t.Fatal("previous page of page 2 differs from page 1")
	}

	// The overdue filter is the overdue page's rule (OverdueFilter).
	rule, err := e.h.app.Debts.ListDebts(context.Background(), func() debts.DebtFilter {
		f := debts.OverdueFilter(i18n.Today(e.now.Now()))
		f.Limit = 500
		return f
	}())
	if err != nil {
		t.Fatal(err)
	}
	overdue := map[int64]bool{}
	for _, d := range rule.Items {
		overdue[d.ID] = d.Overdue(i18n.Today(e.now.Now()))
	}
	agent := remote[0].AgentErpCode
	cases := []struct {
		query string
		match func(r debts.Debt) bool
	}{
		{"agent=" + url.QueryEscape(agent), func(d debts.Debt) bool { return d.AgentErpCode == agent }},
		{"currency=USD", func(d debts.Debt) bool { return d.CurrencyID == "USD" }},
		{"type=Invoice", func(d debts.Debt) bool { return d.DocumentType == "Fatura" }},
		{"overdue=1", func(d debts.Debt) bool { return overdue[d.ID] }},
		{"q=" + url.QueryEscape(strings.ToLower(remote[5].ErpCode)), func(d debts.Debt) bool { return d.ErpCode == remote[5].ErpCode }},
		{"q=" + url.QueryEscape(remote[7].DocumentNo), func(d debts.Debt) bool { return strings.HasPrefix(d.DocumentNo, remote[7].DocumentNo) }},
		{"state=failed", func(d debts.Debt) bool { return false }},
	}
	all, err := e.h.app.Debts.ListDebts(context.Background(), debts.DebtFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		want := 0
		for _, d := range all.Items {
			if tc.match(d) {
				want++
			}
		}
		got := 0
		for path := "/debts?" + tc.query; path != ""; {
			_, doc := e.get(c, path)
			for _, code := range rowCodes(doc) {
				d, _ := e.h.app.Debts.DebtByErpCode(context.Background(), code)
				if !tc.match(d) {
					t.Errorf("%s: %s does not match", tc.query, code)
				}
				got++
			}
			path = doc.Find(`[data-testid=page-next]`).AttrOr("href", "")
		}
		if got != want || (want == 0 && tc.query != "state=failed") {
			t.Errorf("%s: %d rows, want %d", tc.query, got, want)
		}
	}
}

// TestDebtExportCSV checks the BOM, both decimal styles and that the
// export follows the filters.
func TestDebtExportCSV(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	form := validDebtForm(e, "=T-CSV")
	form.Set("description", "Çağrı; \"tırnak\"")
	e.postForm(c, "/debts", form)
	for _, tc := range []struct {
		query, amount string
		sep           rune
	}{{"decimal=comma", "1550,00", ';'}, {"decimal=dot", "1550.00", ','}, {"", "1550,00", ';'}} { // a Turkish user gets the comma by default
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/debts/export.csv?q=%3DT-CSV&"+tc.query, nil)
		req.Header.Set("Accept-Language", "tr")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		closeOrFail(t, resp.Body)
		if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		if !strings.HasPrefix(string(body), "\uFEFF") {
			t.Fatal("no BOM")
		}
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\uFEFF")))
		r.Comma = tc.sep
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.query, err, body)
		}
		if len(rows) != 2 || rows[0][0] != i18n.TR.T("debts.f.erpCode") {
			t.Fatalf("%s: rows %q", tc.query, rows)
		}
		if rows[1][0] != "'=T-CSV" || rows[1][6] != tc.amount || rows[1][14] != "Çağrı; \"tırnak\"" || rows[1][10] != "2026-04-01" {
			t.Errorf("%s: row %q", tc.query, rows[1])
		}
	}
}

// TestDebtOverdueNotifications: the overdue page matches Finrota's rule,
// the confirmation says whom the send reaches, a second send the same day
// needs force, and the fake records what went out.
func TestDebtOverdueNotifications(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	sum, err := e.h.app.Debts.OverdueSummary(ctx, i18n.Today(e.now.Now()))
	if err != nil || sum.Debts == 0 || sum.Agents == 0 {
		t.Fatalf("seeded data has nothing overdue: %+v %v", sum, err)
	}
	_, doc := e.get(c, "/debts/overdue", "Accept-Language", "en")
	if got := testID(doc, "overdue-debts"); got != i18n.EN.Int(int64(sum.Debts)) {
		t.Errorf("overdue count %q, want %d", got, sum.Debts)
	}
	if doc.Find(`[data-testid=agent-total]`).Length() != len(sum.ByAgent) {
		t.Errorf("per-agent totals: %d rows, want %d", doc.Find(`[data-testid=agent-total]`).Length(), len(sum.ByAgent))
	}
	if n := doc.Find(`[data-testid=debt-row] [data-testid=overdue-badge]`).Length(); n != doc.Find(`[data-testid=debt-row]`).Length() {
		t.Errorf("%d of the listed rows carry the overdue badge", n)
	}
	if testID(doc, "overdue-upper-bound") != "" {
		t.Error("the sandbox lists every agent and account: the counts are exact, not an upper bound")
	}
	shownDebts, shownAgents := testID(doc, "overdue-debts"), testID(doc, "overdue-agents")
	if n := doc.Find(`[data-testid=debt-row]`).Length(); n != min(sum.Debts, 100) {
		t.Errorf("%d overdue rows listed, want %d", n, min(sum.Debts, 100))
	}

	_, doc = e.get(c, "/debts/overdue/send", "Accept-Language", "en")
	if got := testID(doc, "notify-reach"); got != i18n.EN.T("debts.notify.reach", sum.Debts, sum.Agents) {
		t.Fatalf("confirmation says %q", got)
	}
	if resp, doc := e.postForm(c, "/debts/overdue/send", url.Values{}, "Accept-Language", "en"); resp.StatusCode != http.StatusUnprocessableEntity || testID(doc, "notify-error") == "" {
		t.Fatalf("unconfirmed send: %d", resp.StatusCode)
	}
	if len(e.sandbox.Finrota.Notifications()) != 0 {
		t.Fatal("an unconfirmed send went out")
	}
	resp, _ := e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	first := len(e.sandbox.Finrota.Notifications())
	if first == 0 {
		t.Fatal("Finrota sent nothing")
	}
	// What the page promised is what Finrota notified: the same debts and
	// the same agents (its rule skips inactive agents and accounts).
	notified, agents := map[string]bool{}, map[string]bool{}
	for _, n := range e.sandbox.Finrota.Notifications() {
		notified[n.DebtErpCode], agents[n.AgentErpCode] = true, true
	}
	if shownDebts != i18n.EN.Int(int64(len(notified))) || shownAgents != i18n.EN.Int(int64(len(agents))) || len(notified) != first {
		t.Fatalf("the page said %s debts and %s agents; Finrota notified %d debts (%d notifications) of %d agents",
			shownDebts, shownAgents, len(notified), first, len(agents))
	}
	all, _ := e.h.app.Debts.ListDebts(ctx, debts.DebtFilter{Overdue: true, Today: i18n.Today(e.now.Now()), AtFinrota: true, Reachable: true, Limit: 500})
	for _, d := range all.Items {
		if !notified[d.ErpCode] {
			t.Errorf("%s is listed as overdue but Finrota did not notify it", d.ErpCode)
		}
	}
	_, doc = e.get(c, "/debts/overdue", "Accept-Language", "en")
	if testID(doc, "flash-success") != i18n.EN.T("debts.notify.sent") || doc.Find(`[data-testid=notify-row][data-state=sent]`).Length() != 1 {
		t.Fatalf("after send: flash %q, history %d", testID(doc, "flash-success"), doc.Find(`[data-testid=notify-row]`).Length())
	}

	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		resp, doc = e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}}, "Accept-Language", string(lang))
		if resp.StatusCode != http.StatusConflict || testID(doc, "notify-error") != lang.T("debts.notify.duplicate") || doc.Find(`[data-testid=notify-force]`).Length() != 1 {
			t.Fatalf("second send the same day: %d %q", resp.StatusCode, testID(doc, "notify-error"))
		}
	}
	if len(e.sandbox.Finrota.Notifications()) != first {
		t.Fatal("a second send went out without force")
	}
	resp, _ = e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}, "force": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || len(e.sandbox.Finrota.Notifications()) != 2*first {
		t.Fatalf("forced send: %d, %d notifications (want %d)", resp.StatusCode, len(e.sandbox.Finrota.Notifications()), 2*first)
	}
	ns, _ := e.h.app.Debts.DebtNotifications(ctx, 10)
	if len(ns) != 2 || !ns[0].Forced || ns[1].Forced || ns[0].Debts != sum.Debts {
		t.Fatalf("history %+v", ns)
	}
}

// TestDebtOverdueAfterAForcedSend: after a forced send, a normal send the
// same day shows the forced one on the confirmation and needs force again.
func TestDebtOverdueAfterAForcedSend(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	resp, _ := e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}, "force": {"1"}})
	first := len(e.sandbox.Finrota.Notifications())
	if resp.StatusCode != http.StatusSeeOther || first == 0 {
		t.Fatalf("forced send: %d, %d notified", resp.StatusCode, first)
	}
	_, doc := e.get(c, "/debts/overdue/send", "Accept-Language", "en")
	if testID(doc, "notify-already") == "" || doc.Find(`[data-testid=notify-force]`).Length() != 1 {
		t.Fatal("the confirmation does not show the forced send of today")
	}
	resp, doc = e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusConflict || testID(doc, "notify-error") != i18n.EN.T("debts.notify.duplicate") {
		t.Fatalf("normal send after a forced one: %d %q", resp.StatusCode, testID(doc, "notify-error"))
	}
	if len(e.sandbox.Finrota.Notifications()) != first {
		t.Fatal("a second send went out the same day without force")
	}
}

// TestDebtHistoryAndExportGaps: an edit records old → new for every field
// that changed, and every text cell of the CSV is guarded against formulas.
func TestDebtHistoryAndExportGaps(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	e.postForm(c, "/debts", validDebtForm(e, "T-HIST"))
	d, err := e.h.app.Debts.DebtByErpCode(ctx, "T-HIST")
	if err != nil || d.State != debts.DebtDelivered {
		t.Fatalf("create: %v %v", d.State, err)
	}
	form := validDebtForm(e, "T-HIST")
	form.Set("agentErpCode", e.sandbox.Finrota.ActiveAgentCodes()[2])
	form.Set("documentNo", "FTR-NEW")
	form.Set("documentType", "Senet")
	form.Set("transactionDate", "02.03.2026")
	form.Set("description", "yeni")
	e.postForm(c, debtPath(d.ID), form)
	_, doc := e.get(c, debtPath(d.ID), "Accept-Language", "en")
	edit := doc.Find(`[data-testid=history-row][data-action="debt.edit"] [data-testid=history-details]`).Text()
	for _, want := range []string{
		"Agent code: " + d.AgentErpCode + " → " + form.Get("agentErpCode"),
		"Document no: FTR-2026-001 → FTR-NEW", "Document type: Fatura → Senet",
		"Transaction date: 2026-03-01 → 2026-03-02", "Description: Mart faturası → yeni",
	} {
		if !strings.Contains(edit, want) {
			t.Errorf("history %q lacks %q", edit, want)
		}
	}
	if strings.Contains(edit, "Amount") {
		t.Errorf("unchanged fields listed: %q", edit)
	}

	e.st.DB().MustExec(`UPDATE debts SET currency_id = '=1+2', finrota_id = '@SUM(A1)' WHERE id = $1`, d.ID)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/debts/export.csv?q=T-HIST&decimal=dot", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv %v %q", err, body)
	}
	if rows[1][5] != "'=1+2" || rows[1][13] != "'@SUM(A1)" {
		t.Errorf("unguarded cells: currency %q, finrota id %q", rows[1][5], rows[1][13])
	}
}
