package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/debts"
	"kasa/eventually"
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
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	portalDebt(t, e, "RULE-PAID", "800.00", "800.00", 10)
	portalDebt(t, e, "RULE-TODAY", "120.00", "0", 0)
	syncDebtsNow(t, e, c)
	ctx := context.Background()
	sum, err := e.h.app.Debts.OverdueSummary(ctx, i18n.Today(e.now.Now()))
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

// pendingWithFault saves a debt while the fake Finrota misbehaves as fault
// makes it, and waits until the outbox has recorded why it keeps retrying.
// The fault stays on (the debt stays pending) until the caller resets it.
func pendingWithFault(t *testing.T, e *testEnv, c *http.Client, fault func()) debts.Debt {
	t.Helper()
	fault()
	form := validDebtForm(e, "T-CLASS-"+randomSuffix())
	e.postForm(c, "/debts", form)
	var d debts.Debt
	eventually.That(t, "the outbox to record why it retries", func() error {
		var err error
		if d, err = e.h.app.Debts.DebtByErpCode(context.Background(), form.Get("erpCode")); err != nil {
			t.Fatal(err)
		}
		if d.State != debts.DebtPending || (d.LastErrorStatus == 0 && d.LastErrorCode == "") {
			return fmt.Errorf("no retry recorded: %+v", d)
		}
		return nil
	})
	return d
}

// TestDebtFinrotaErrorsEachSayWhatToDo: every kind of Finrota failure has
// its own message with the next step, in both languages: a 429 is not
// "not answering", a malformed reply is not a refusal, a 400 says how to
// correct it, a failed overdue send says what to check.
func TestDebtFinrotaErrorsEachSayWhatToDo(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	faults := &e.sandbox.Finrota.Faults
	syncDebtsNow(t, e, c)

	// While the outbox retries: the debt page says why, per kind.
	for _, tc := range []struct {
		name  string
		fault func()
		want  func(l i18n.Lang) string
	}{
		{"throttled", func() { faults.FailNext(-1, http.StatusTooManyRequests) }, func(l i18n.Lang) string { return l.T("debts.p.throttled", 1) }},
		{"malformed", func() { faults.Malformed(true) }, func(l i18n.Lang) string { return l.T("debts.p.malformed") }},
		{"unreachable", func() { faults.DropConnections(true) }, func(l i18n.Lang) string { return l.T("debts.p.unreachable") }},
		{"server error", faults.Down, func(l i18n.Lang) string { return l.T("debts.p.unavailable") }},
	} {
		d := pendingWithFault(t, e, c, tc.fault)
		for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
			_, doc := e.get(c, debtPath(d.ID), "Accept-Language", string(l))
			if got, want := testID(doc, "debt-retrying"), l.T("debts.retrying")+": "+tc.want(l); got != want {
				t.Errorf("%s (%s): retrying line %q, want %q", tc.name, l, got, want)
			}
		}
		faults.Reset()
	}

	// Once the outbox gave up, or Finrota refused: what to do next.
	for _, tc := range []struct {
		name string
		err  debts.DebtError
		want func(l i18n.Lang) string
	}{
		{"throttled", debts.DebtError{Status: 429, Code: "429", Message: "API calls quota exceeded!"}, func(l i18n.Lang) string { return l.T("debts.p.throttled.gaveup") }},
		{"malformed", debts.DebtError{Status: 200, Code: "malformed", Message: "malformed response"}, func(l i18n.Lang) string { return l.T("debts.p.malformed.gaveup") }},
		{"unreachable", debts.DebtError{Code: "unreachable", Message: "no answer from Finrota"}, func(l i18n.Lang) string { return l.T("debts.p.unreachable.gaveup") }},
		{"validation", debts.DebtError{Status: 400, Code: "400", Message: "One or more validation errors occurred."},
			func(l i18n.Lang) string {
				return l.T("debts.p.validation") + " " + l.T("debts.p.said", "One or more validation errors occurred.")
			}},
		{"other", debts.DebtError{Status: 415, Message: "Content-Type must be application/json."},
			func(l i18n.Lang) string {
				return l.T("debts.p.other", 415) + " " + l.T("debts.p.said", "Content-Type must be application/json.")
			}},
	} {
		d := pendingWithFault(t, e, c, faults.Down)
		ok, err := e.h.app.Debts.MarkDebtFailed(ctx, d.ID, d.Version, tc.err)
		faults.Reset()
		if !ok || err != nil {
			t.Fatalf("%s: mark failed: %v %v", tc.name, ok, err)
		}
		for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
			_, doc := e.get(c, debtPath(d.ID), "Accept-Language", string(l))
			if got, want := strings.TrimSpace(doc.Find(`[data-testid=debt-failure] span`).Text()), tc.want(l); got != want {
				t.Errorf("%s (%s): failure %q, want %q", tc.name, l, got, want)
			}
		}
	}

	// A refused overdue send names the checklist, not Finrota's raw text.
	faults.FailNext(-1, http.StatusForbidden)
	resp, _ := e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}}, "Accept-Language", "en")
	faults.Reset()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	_, doc := e.get(c, "/debts/overdue", "Accept-Language", "en")
	if got, want := testID(doc, "flash-error"), i18n.EN.T("debts.notify.failed", i18n.EN.T("debts.notify.err.forbidden")); got != want {
		t.Errorf("send refused with 403: flash %q, want %q", got, want)
	}
	if got := testID(doc, "notify-reason"); got != i18n.EN.T("debts.notify.err.forbidden") {
		t.Errorf("send history reason %q", got)
	}

	// A throttled send says it waits (nothing sent yet), then, once the
	// attempts ran out, that nothing was sent and how to send again.
	faults.FailNext(-1, http.StatusTooManyRequests)
	defer faults.Reset()
	resp, _ = e.postForm(c, "/debts/overdue/send", url.Values{"confirm": {"yes"}, "force": {"1"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("throttled send: %d", resp.StatusCode)
	}
	_, doc = e.get(c, "/debts/overdue", "Accept-Language", "en")
	if got := testID(doc, "flash-info"); got != i18n.EN.T("debts.notify.retrying.throttled") {
		t.Errorf("throttled send: flash %q", got)
	}
	eventually.That(t, "the throttled send to settle as failed", func() error {
		ns, err := e.h.app.Debts.DebtNotifications(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if ns[0].State != debts.NotifyFailed {
			return fmt.Errorf("throttled send: %+v", ns[0])
		}
		return nil
	})
	_, doc = e.get(c, "/debts/overdue", "Accept-Language", "en")
	if got := testID(doc, "notify-reason"); got != i18n.EN.T("debts.notify.err.throttled") {
		t.Errorf("throttled send history reason %q", got)
	}
	if len(e.sandbox.Finrota.Notifications()) != 0 {
		t.Error("a refused send notified someone")
	}
}

// TestDebtSyncDuringAnOutageSaysWhyAndWhen: while Finrota is down the sync
// waits between attempts; /debts and a second "Sync from Finrota" say why
// and when it tries again, not merely that a sync is running.
func TestDebtSyncDuringAnOutageSaysWhyAndWhen(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	e.sandbox.Finrota.Faults.Down()
	e.postForm(c, "/debts/sync", url.Values{})
	eventually.That(t, "the sync to record why it waits", func() error {
		s, err := e.h.app.Debts.LatestDebtSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Retrying() {
			return fmt.Errorf("sync %+v", s)
		}
		return nil
	})
	reason := i18n.EN.T("debts.sync.err.unavailable")
	_, doc := e.get(c, "/debts", "Accept-Language", "en")
	state := doc.Find(`[data-testid=debts-sync-state]`)
	if state.AttrOr("data-retrying", "") != "true" || !strings.Contains(state.Text(), reason) {
		t.Errorf("/debts during the outage says %q", strings.TrimSpace(state.Text()))
	}
	resp, _ := e.postForm(c, "/debts/sync", url.Values{}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sync: %d", resp.StatusCode)
	}
	_, doc = e.get(c, "/debts", "Accept-Language", "en")
	if got := testID(doc, "flash-info"); !strings.Contains(got, reason) {
		t.Errorf("starting a sync during the outage says %q; want the reason %q", got, reason)
	}
}

// TestDebtCheckAtFinrota: "Check at Finrota" reads the one record with
// Finrota's single query and shows how it differs from the mirror; an
// operator takes Finrota's values (audited) or sends ours again through
// the outbox; a viewer only sees the comparison.
func TestDebtCheckAtFinrota(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, op := e.login(store.RoleOperator)
	viewer, _ := e.login(store.RoleViewer)
	ctx := context.Background()
	syncDebtsNow(t, e, c)
	remote := e.sandbox.Finrota.Debts()
	var code string
	for _, r := range remote {
		if r.IsActive && r.PaidAmount.IsZero() {
			code = r.ErpCode
			break
		}
	}
	d, err := e.h.app.Debts.DebtByErpCode(ctx, code)
	if err != nil || d.FinrotaID == nil {
		t.Fatalf("synced debt %s: %+v %v", code, d, err)
	}
	check := func(c *http.Client) *goquery.Document {
		t.Helper()
		resp, doc := e.postForm(c, debtPath(d.ID)+"/check", url.Values{}, "Accept-Language", "en")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("check: %d", resp.StatusCode)
		}
		return doc
	}
	if _, doc := e.get(c, debtPath(d.ID)); doc.Find(`[data-testid=check-at-finrota]`).Length() != 1 {
		t.Fatal("the debt page offers no check at Finrota")
	}
	if doc := check(c); testID(doc, "check-same") != i18n.EN.T("debts.check.same") || testID(doc, "check-by") != i18n.EN.T("debts.check.by", i18n.EN.T("debts.check.ref.Id", *d.FinrotaID)) {
		t.Fatalf("unchanged record: %q %q", testID(doc, "check-same"), testID(doc, "check-by"))
	}

	// Someone changes the record at the portal.
	client, err := e.conn.Finrota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	portal := func(paid, desc string) {
		t.Helper()
		got, err := client.GetByErpCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		got.PaidAmount, got.Description = mustDec(paid), desc
		if _, err := client.Update(ctx, finrota.Ref{UpdateErpCode: code}, got); err != nil {
			t.Fatal(err)
		}
	}
	portal("10.00", "changed at the portal")
	for _, who := range []*http.Client{viewer, c} {
		doc := check(who)
		if testID(doc, "check-differs") != i18n.EN.T("debts.check.differs", 2) {
			t.Fatalf("differences: %q", testID(doc, "check-differs"))
		}
		row := doc.Find(`[data-testid=check-row][data-field=paidAmount]`)
		if row.AttrOr("data-differs", "") != "true" || testID(doc, "check-theirs") == "" ||
			strings.TrimSpace(row.Find(`[data-testid=check-theirs]`).Text()) != i18n.EN.Money(mustDec("10.00"), d.CurrencyID) ||
			doc.Find(`[data-testid=check-row][data-differs=true]`).Length() != 2 {
			t.Fatalf("paidAmount row: %q", row.Text())
		}
		if canAct := doc.Find(`[data-testid=check-take]`).Length() == 1 && doc.Find(`[data-testid=check-resend]`).Length() == 1; canAct != (who == c) {
			t.Fatalf("actions offered: %v (operator: %v)", canAct, who == c)
		}
	}
	if resp, _ := e.postForm(viewer, debtPath(d.ID)+"/take", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer took Finrota's values: %d", resp.StatusCode)
	}

	// Take Finrota's values: the mirror holds them, and the history says who.
	resp, _ := e.postForm(c, debtPath(d.ID)+"/take", url.Values{}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("take: %d", resp.StatusCode)
	}
	got, _ := e.h.app.Debts.Debt(ctx, d.ID)
	if !got.PaidAmount.Equal(mustDec("10.00")) || got.Description != "changed at the portal" || got.State != debts.DebtDelivered {
		t.Fatalf("after take: %s %q %s", got.PaidAmount, got.Description, got.State)
	}
	_, doc := e.get(c, debtPath(d.ID), "Accept-Language", "en")
	if testID(doc, "flash-success") != i18n.EN.T("debts.check.taken") {
		t.Errorf("take flash %q", testID(doc, "flash-success"))
	}
	entry := doc.Find(`[data-testid=history-row][data-action="debt.check.take"]`)
	if entry.Length() != 1 || !strings.Contains(entry.Text(), op.Email) || !strings.Contains(entry.Text(), "changed at the portal") {
		t.Fatalf("history of the take: %q", entry.Text())
	}
	if doc := check(c); testID(doc, "check-same") == "" {
		t.Fatal("after taking Finrota's values the records still differ")
	}

	// Send ours again: the outbox delivers the mirror's values to Finrota.
	portal("20.00", "changed again")
	resp, _ = e.postForm(c, debtPath(d.ID)+"/resend", url.Values{}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend: %d", resp.StatusCode)
	}
	waitDebtState(t, e, d.ID, debts.DebtDelivered)
	if r, _ := e.sandbox.Finrota.Debt(code); !r.PaidAmount.Equal(mustDec("10.00")) || r.Description != "changed at the portal" {
		t.Fatalf("Finrota holds %s %q after sending ours again", r.PaidAmount, r.Description)
	}

	// A record gone at Finrota is said to be gone.
	e.sandbox.Finrota.SetDebtActive(code, false)
	if doc := check(c); testID(doc, "check-notfound") != i18n.EN.T("debts.check.notfound", i18n.EN.T("debts.check.ref.Id", *d.FinrotaID)) {
		t.Fatalf("deleted record: %q", testID(doc, "check-notfound"))
	}
}

// dashboardFailedJobs reads the dashboard's failed-job count.
func dashboardFailedJobs(t *testing.T, e *testEnv, c *http.Client) string {
	t.Helper()
	_, doc := e.get(c, "/", "Accept-Language", "en")
	var got string
	doc.Find(`.stat`).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`.label`).Text()) == i18n.EN.T("dashboard.failedjobs") {
			got = strings.TrimSpace(s.Find(`.value`).Text())
		}
	})
	return got
}

// TestDashboardFailedJobsLeavesOutDeliveriesThatLaterLanded: a debt whose
// first delivery Finrota refused counts as a failed job until a retry
// delivers it; then the dashboard no longer counts it.
func TestDashboardFailedJobsLeavesOutDeliveriesThatLaterLanded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	syncDebtsNow(t, e, c)
	e.sandbox.Finrota.Faults.FailNext(1, http.StatusBadRequest)
	form := validDebtForm(e, "T-DASH-1")
	e.postForm(c, "/debts", form)
	d, err := e.h.app.Debts.DebtByErpCode(context.Background(), "T-DASH-1")
	if err != nil {
		t.Fatal(err)
	}
	d = waitDebtState(t, e, d.ID, debts.DebtFailed)
	if d.JobID == nil {
		t.Fatal("no delivery job")
	}
	eventually.That(t, "the dashboard to count the failed delivery", func() error {
		if got := dashboardFailedJobs(t, e, c); got != "1" {
			return fmt.Errorf("failed jobs %q", got)
		}
		return nil
	})
	e.postForm(c, debtPath(d.ID)+"/retry", url.Values{})
	waitDebtState(t, e, d.ID, debts.DebtDelivered)
	if got := dashboardFailedJobs(t, e, c); got != "0" {
		t.Fatalf("after the retry delivered the debt, the dashboard still counts %s failed jobs", got)
	}
}
