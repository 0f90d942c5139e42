package handlers

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"kasa/eventually"
	"kasa/i18n"
	"kasa/movements"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
)

// fakeTotals sums the fake's movements of account between two Istanbul
// days (inclusive).
func fakeTotals(e *testEnv, number string, from, to time.Time) (n int, in, out decimal.Decimal) {
	end := to.AddDate(0, 0, 1)
	for _, m := range e.sandbox.VakifBank.Movements(number) {
		if m.Date.Before(from) || !m.Date.Before(end) {
			continue
		}
		n++
		if m.Amount.IsNegative() {
			out = out.Sub(m.Amount)
		} else {
			in = in.Add(m.Amount)
		}
	}
	return n, in, out
}

func TestMovementsFormValidation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	tomorrow := i18n.Today(time.Now()).AddDate(0, 0, 1).Format(time.DateOnly)
	base := func(kv ...string) url.Values {
		q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"custom"}, "from": {"2025-01-10"}, "to": {"2025-01-20"}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	cases := []struct {
		name   string
		q      url.Values
		field  string
		tr, en string
	}{
		{"no such account", base("account", "999"), "account", "Bir hesap seçin.", "Choose an account."},
		{"unknown period", base("period", "forever"), "period", "Listeden bir dönem seçin.", "Choose a period from the list."},
		{"from missing", base("from", ""), "from", "Özel aralık için başlangıç tarihini girin.", "Enter the start date of the custom range."},
		{"to missing", base("to", ""), "to", "Özel aralık için bitiş tarihini girin.", "Enter the end date of the custom range."},
		{"not a date", base("from", "31.02.2025"), "from", "Tarihi GG.AA.YYYY biçiminde girin.", "Enter the date as DD.MM.YYYY."},
		{"from after to", base("from", "21.01.2025"), "from", "Başlangıç tarihi bitiş tarihinden sonra olamaz.", "The start date cannot be after the end date."},
		{"in the future", base("to", tomorrow), "to", "Gelecekteki bir tarih seçilemez; en geç bugünü seçin.", "A date in the future cannot be chosen; pick today at the latest."},
		{"before 2000", base("from", "1999-12-31"), "from", "2000 yılından önceki hareketler sorgulanamaz.", "Movements before the year 2000 cannot be queried."},
		{"amount not a number", base("min", "12a"), "min", "Tutarı 1.550,00 veya 1550.00 biçiminde girin.", "Enter the amount as 1,550.00 or 1550.00."},
		{"negative amount", base("max", "-5"), "max", "Tutar sıfır ya da pozitif olmalı; giren ya da çıkan para için Yön alanını kullanın.", "The amount must be zero or positive; use Direction for money in or out."},
		{"min above max", base("min", "1.550,00", "max", "1000.00"), "max", "En az tutar en çok tutardan büyük olamaz.", "The minimum amount cannot be larger than the maximum."},
		{"unknown direction", base("direction", "sideways"), "direction", "Yön olarak giren ya da çıkan parayı seçin.", "Choose money in or money out as the direction."},
		{"search text too long", base("q", strings.Repeat("ş", 101)), "q", "Arama metni en fazla 100 karakter olabilir; 101 karakter girdiniz.", "The search text can be at most 100 characters; you entered 101."},
	}
	for _, tc := range cases {
		for _, lang := range []struct{ header, want string }{{"tr", tc.tr}, {"en", tc.en}} {
			resp, doc := e.get(c, "/movements?"+tc.q.Encode(), "Accept-Language", lang.header)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): status %d", tc.name, lang.header, resp.StatusCode)
				continue
			}
			if got := fieldError(doc, tc.field); got != lang.want {
				t.Errorf("%s (%s): %q, want %q", tc.name, lang.header, got, lang.want)
			}
			if got := doc.Find("#f-min").AttrOr("value", ""); got != tc.q.Get("min") {
				t.Errorf("%s: min re-shown as %q", tc.name, got)
			}
			if got := doc.Find("#f-q").AttrOr("value", ""); got != tc.q.Get("q") {
				t.Errorf("%s: search text re-shown as %q", tc.name, got)
			}
		}
	}
	// Rejected forms never ask the bank.
	if runs, _ := e.h.app.Movements.MovementSyncs(t.Context(), a.ID, 5); len(runs) != 0 {
		t.Fatalf("%d syncs after invalid forms", len(runs))
	}
}

// counts is how many bank calls, sync runs and jobs exist: what a page
// view must never change.
func (e *testEnv) counts() [3]int {
	e.t.Helper()
	var c [3]int
	if err := e.st.DB().QueryRow(`SELECT (SELECT count(*) FROM api_calls WHERE provider = 'vakifbank'),
		(SELECT count(*) FROM movement_syncs), (SELECT count(*) FROM river_job)`).Scan(&c[0], &c[1], &c[2]); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// storedSync records a finished sync of [from, to] that stored n
// movements (already inserted), as the sync job records one: the run, and
// on an account never synced before the coverage and the latest balance.
func (e *testEnv) storedSync(accountID int64, from, to time.Time, n int) {
	e.t.Helper()
	from, to = from.Truncate(time.Second), to.Truncate(time.Second)
	if _, err := e.st.DB().Exec(`INSERT INTO movement_syncs (account_id, from_at, to_at, reason, state, fetched, inserted, started_at, finished_at)
		VALUES ($1, $2, $3, 'manual', 'done', $4, $4, now(), now())`, accountID, from, to, n); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE bank_accounts a SET synced_from = $2, synced_until = $3,
		last_sync_at = now(), last_sync_status = 'ok',
		balance = (SELECT balance FROM account_movements WHERE account_id = $1 ORDER BY booked_at DESC, id DESC LIMIT 1),
		balance_at = (SELECT booked_at FROM account_movements WHERE account_id = $1 ORDER BY booked_at DESC, id DESC LIMIT 1)
		WHERE a.id = $1`, accountID, from, to); err != nil {
		e.t.Fatal(err)
	}
}

// fetchPeriod presses "Fetch this period from the bank" on the page of q
// and returns where it sends the browser.
func (e *testEnv) fetchPeriod(c *http.Client, q url.Values) string {
	e.t.Helper()
	resp, _ := e.postForm(c, "/movements/fetch", q, "Accept-Language", "en")
	l, err := location(resp)
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(l, "/movements?") {
		e.t.Fatalf("fetch: %d to %q", resp.StatusCode, l)
	}
	return l
}

// awaitSyncs waits until the fetches a page follows (its ?sync= values)
// have ended, for tests about their outcome: on a busy machine a fetch may
// outlast the handler's short wait. It returns page.
func (e *testEnv) awaitSyncs(page string) string {
	e.t.Helper()
	u, err := url.Parse(page)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, id := range u.Query()["sync"] {
		eventually.That(e.t, "fetch "+id+" to end", func() error {
			run, err := e.h.app.Movements.MovementSync(e.t.Context(), mustInt(e.t, id))
			if err != nil {
				e.t.Fatal(err)
			}
			if !run.Finished() {
				return fmt.Errorf("run %d is %s", run.ID, run.State)
			}
			return nil
		})
	}
	return page
}

// TestMovementsPageNeverCallsTheBank: a page view changes nothing and never
// spends the bank's rate limit, whoever looks and however long the period
// (a cross-site link to /movements with 26 years ending today included):
// it says which days are missing, offers operators the fetch button and
// tells viewers that an operator can fetch them.
func TestMovementsPageNeverCallsTheBank(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(time.Now())
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"custom"}, "from": {"2000-01-01"}, "to": {today.Format(time.DateOnly)}}
	before := e.counts()
	for _, role := range []store.Role{store.RoleViewer, store.RoleOperator, store.RoleAdmin} {
		c, _ := e.login(role)
		for _, p := range []string{"/movements?" + q.Encode(), "/movements?account=" + fmt.Sprint(a.ID) + "&period=last_30_days"} {
			resp, doc := e.get(c, p, "Accept-Language", "en")
			if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid=movements-gaps]`).Length() != 1 || testID(doc, "movements-pending") != "" {
				t.Fatalf("%s %s: %d, gaps %q", role, p, resp.StatusCode, testID(doc, "movements-gaps"))
			}
			button := doc.Find(`[data-testid=fetch-period]`).Length()
			note := testID(doc, "fetch-viewer")
			if role == store.RoleViewer && (button != 0 || note != i18n.EN.T("mov.fetch.viewer")) {
				t.Errorf("viewer: fetch button %d, note %q", button, note)
			}
			if role != store.RoleViewer && (button != 1 || note != "") {
				t.Errorf("%s: fetch button %d, note %q", role, button, note)
			}
		}
	}
	e.get(e.client(), "/movements?"+q.Encode()) // signed out: to the login page
	if after := e.counts(); after != before {
		t.Fatalf("page views changed [bank calls, syncs, jobs] from %v to %v", before, after)
	}
	// The missing days are named.
	c, _ := e.login(store.RoleViewer)
	_, doc := e.get(c, "/movements?"+q.Encode())
	gap := doc.Find(`[data-testid=movements-gap]`)
	if gap.Length() != 1 || gap.AttrOr("data-from", "") != "2000-01-01" || gap.AttrOr("data-to", "") != today.Format(time.DateOnly) {
		t.Errorf("gaps shown: %d, %s..%s", gap.Length(), gap.AttrOr("data-from", ""), gap.AttrOr("data-to", ""))
	}
	// Viewers cannot fetch; a GET of the fetch address is no fetch either.
	if resp, _ := e.postForm(c, "/movements/fetch", q); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer's fetch: %d", resp.StatusCode)
	}
	if resp, _ := e.get(c, "/movements/fetch?"+q.Encode()); resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSeeOther {
		t.Errorf("GET /movements/fetch: %d", resp.StatusCode)
	}
	if after := e.counts(); after != before {
		t.Fatalf("refused fetches changed [bank calls, syncs, jobs] from %v to %v", before, after)
	}
}

// TestMovementsFetchThenTotals asks for a custom range of 400 days, longer
// than the bank's one-year limit: an operator's fetch takes it in windows,
// and the page then shows the fake's totals; the filters, paging and CSV
// export follow. An export before the fetch is refused with a message.
func TestMovementsFetchThenTotals(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(time.Now())
	from := today.AddDate(0, 0, -400)
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"custom"}, "from": {from.Format("02.01.2006")}, "to": {today.Format(time.DateOnly)}}

	// Exporting a period that is not stored goes back to the page with why.
	resp, _ := e.get(c, "/movements/export.csv?"+q.Encode()+"&decimal=dot", "Accept-Language", "en")
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(l, "/movements?") || strings.Contains(l, "decimal") {
		t.Fatalf("export of an unfetched period: %d to %q", resp.StatusCode, l)
	}
	_, doc := e.get(c, "/movements?"+q.Encode(), "Accept-Language", "en")
	if got := testID(doc, "flash-error"); got != i18n.EN.T("mov.export.incomplete") {
		t.Errorf("after the refused export the page says %q", got)
	}

	// The form the page offers carries the period to the fetch.
	form := url.Values{}
	doc.Find(`[data-testid=fetch-period-form] input[type=hidden]`).Each(func(_ int, s *goquery.Selection) {
		form.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	if form.Get("account") != q.Get("account") || form.Get("from") != q.Get("from") || form.Get("period") != "custom" {
		t.Fatalf("fetch form carries %v", form)
	}
	page := e.awaitSyncs(e.fetchPeriod(c, form))
	if !strings.Contains(page, "sync=") {
		t.Fatalf("the fetch sends the browser to %q, not to the fetch it started", page)
	}
	resp, doc = e.get(c, page, "Accept-Language", "en")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, testID(doc, "form-errors"))
	}
	if testID(doc, "movements-pending") != "" || testID(doc, "movements-gaps") != "" {
		t.Fatal("a 400-day fetch did not finish within the wait")
	}
	n, in, out := fakeTotals(e, a.Number, from, today)
	en := i18n.EN
	checks := map[string]string{
		"total-count": en.Int(int64(n)), "total-in": en.Money(in, "TRY"), "total-out": en.Money(out, "TRY"),
		"total-net": en.Money(in.Sub(out), "TRY"),
	}
	for id, want := range checks {
		if got := testID(doc, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if doc.Find(`[data-testid=balance-breaks]`).Length() != 0 {
		t.Error("the fake's consistent chain is flagged as broken")
	}
	if doc.Find(`[data-testid=balance-chart] polyline`).AttrOr("points", "") == "" {
		t.Error("no balance chart")
	}
	if got := doc.Find(`[data-testid=movement-row]`).Length(); got != movementsPageSize {
		t.Errorf("%d rows on the first page", got)
	}
	// Windows: a range over a year takes two requests to the bank.
	calls, _, err := e.st.APICalls(t.Context(), store.APICallFilter{Provider: "vakifbank", Operation: "account_transactions"})
	if err != nil || len(calls) != 2 {
		t.Errorf("%d account_transactions calls, %v; want 2", len(calls), err)
	}
	// Fetching again: stored, so no new call.
	e.fetchPeriod(c, q)
	if calls, _, _ := e.st.APICalls(t.Context(), store.APICallFilter{Provider: "vakifbank", Operation: "account_transactions"}); len(calls) != 2 {
		t.Errorf("fetching a stored period called the bank: %d calls", len(calls))
	}

	// Money in only, at least 1.000,00.
	fq := url.Values{}
	for k, v := range q {
		fq[k] = v
	}
	fq.Set("direction", "in")
	fq.Set("min", "1.000,00")
	_, doc = e.get(c, "/movements?"+fq.Encode(), "Accept-Language", "en")
	rows := doc.Find(`[data-testid=movement-row]`)
	if rows.Length() == 0 || rows.Filter(`[data-direction=in]`).Length() != rows.Length() || testID(doc, "total-out") != en.Money(decimal.Zero, "TRY") {
		t.Errorf("direction filter: %d rows, total out %q", rows.Length(), testID(doc, "total-out"))
	}

	// CSV of the filtered rows, decimal comma: BOM, header, one line per movement.
	resp, err = c.Get(e.srv.URL + "/movements/export.csv?" + fq.Encode() + "&decimal=comma")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "\ufeff") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s, starts %q", resp.StatusCode, resp.Header.Get("Content-Type"), body[:min(10, len(body))])
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sum := decimal.Zero
	for _, rec := range recs[1:] {
		d, err := decimal.NewFromString(strings.Replace(rec[3], ",", ".", 1))
		if err != nil || !strings.Contains(rec[3], ",") || d.LessThan(decimal.NewFromInt(1000)) {
			t.Fatalf("row %v: amount %q", rec, rec[3])
		}
		sum = sum.Add(d)
	}
	total := testID(doc, "total-count")
	if fmt.Sprint(len(recs)-1) != strings.ReplaceAll(total, ",", "") || en.Money(sum, "TRY") != testID(doc, "total-in") {
		t.Errorf("CSV has %d rows summing %s; page says %s rows, %s in", len(recs)-1, sum, total, testID(doc, "total-in"))
	}
}

// TestMovementsFetchOnlyTheMissingPieces: three years are stored up to two
// hours ago; a period one day longer, ending today, fetches that one day
// and the hours since, never the three stored years again.
func TestMovementsFetchOnlyTheMissingPieces(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountUSD, Name: "Dolar", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(time.Now())
	stored := today.AddDate(-3, 0, 0)
	until := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	e.storedSync(a.ID, stored, until, 0)
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"custom"}, "from": {stored.AddDate(0, 0, -1).Format(time.DateOnly)}, "to": {today.Format(time.DateOnly)}}
	_, doc := e.get(c, "/movements?"+q.Encode())
	if n := doc.Find(`[data-testid=movements-gap]`).Length(); n != 2 {
		t.Fatalf("%d gaps shown, want the day before and the hours since", n)
	}
	e.fetchPeriod(c, q)
	runs, err := e.h.app.Movements.MovementSyncs(t.Context(), a.ID, 10)
	if err != nil || len(runs) != 3 {
		t.Fatalf("%d runs, %v; want the setup and two pieces", len(runs), err)
	}
	for _, r := range runs[:2] {
		if r.To.Sub(r.From) > 2*24*time.Hour {
			t.Errorf("fetched %s..%s: more than the missing pieces", r.From, r.To)
		}
	}
	calls, _, _ := e.st.APICalls(t.Context(), store.APICallFilter{Provider: "vakifbank", Operation: "account_transactions"})
	if len(calls) != 2 {
		t.Errorf("%d calls to the bank; want one per missing piece", len(calls))
	}
}

// TestMovementsTwoVisitorsShareOneFetch: two operators asking for the same
// period ending now, seconds apart, wait for one fetch.
func TestMovementsTwoVisitorsShareOneFetch(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *Config) { c.JobWait = 50 * time.Millisecond })
	e.sandbox.VakifBank.Faults.SetLatency(2 * time.Second)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountEUR, Name: "Euro", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"this_month"}}
	first, _ := e.login(store.RoleOperator)
	second, _ := e.login(store.RoleAdmin)
	l1 := e.fetchPeriod(first, q)
	e.now.Advance(8 * time.Second)
	l2 := e.fetchPeriod(second, q)
	u1, _ := url.Parse(l1)
	u2, _ := url.Parse(l2)
	if s := u1.Query().Get("sync"); s == "" || s != u2.Query().Get("sync") {
		t.Fatalf("two fetches: %q and %q", l1, l2)
	}
	if runs, _ := e.h.app.Movements.MovementSyncs(t.Context(), a.ID, 10); len(runs) != 1 {
		t.Fatalf("%d runs for one period", len(runs))
	}
	// A viewer arriving meanwhile waits for the same fetch.
	viewer, _ := e.login(store.RoleViewer)
	_, doc := e.get(viewer, "/movements?"+q.Encode())
	if poll := doc.Find(`[data-testid=movements-pending]`).AttrOr("hx-get", ""); !strings.HasPrefix(poll, "/movements/sync/"+u1.Query().Get("sync")+"?") {
		t.Errorf("the viewer's page polls %q", poll)
	}
	e.waitIdle(a.ID)
}

// TestMovementsBalanceBreakFlagged stores a chain with a break the fake
// injected and shows it with the expected and the actual balance.
func TestMovementsBalanceBreakFlagged(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	fake := e.sandbox.VakifBank
	ms := fake.Movements(vakifbanktest.SandboxAccountEUR)
	idx := len(ms) - 5
	if err := fake.InjectBalanceBreak(vakifbanktest.SandboxAccountEUR, idx, decimal.RequireFromString("-125.40")); err != nil {
		t.Fatal(err)
	}
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountEUR, Name: "Euro", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_year"}}
	_, doc := e.get(c, e.awaitSyncs(e.fetchPeriod(c, q)), "Accept-Language", "en")
	if doc.Find(`[data-testid=balance-break]`).Length() != 1 {
		t.Fatalf("breaks shown: %d", doc.Find(`[data-testid=balance-break]`).Length())
	}
	if got := testID(doc, "balance-breaks-count"); got != i18n.EN.T("mov.breaks.body", 1) {
		t.Errorf("breaks message %q", got)
	}
	broken := fake.Movements(vakifbanktest.SandboxAccountEUR)[idx]
	expected := broken.Balance.Add(decimal.RequireFromString("125.40"))
	if got := testID(doc, "break-actual"); got != i18n.EN.Money(broken.Balance, "EUR") {
		t.Errorf("actual %q, want %s", got, broken.Balance)
	}
	if got := testID(doc, "break-expected"); got != i18n.EN.Money(expected, "EUR") {
		t.Errorf("expected %q, want %s", got, expected)
	}
}

// TestMovementsBreaksCountedBeyondTheList: with 75 breaks the page lists
// the first 50 and says there are 75.
func TestMovementsBreaksCountedBeyondTheList(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	start := i18n.Today(time.Now()).AddDate(0, 0, -20)
	var ms []movements.NewMovement
	balance := decimal.NewFromInt(1000)
	for i := range 300 {
		balance = balance.Add(decimal.NewFromInt(10))
		if i%4 == 2 {
			continue // never arrived: the next balance does not follow
		}
		ms = append(ms, movements.NewMovement{TransactionID: fmt.Sprint(900000 + i), BookedAt: start.Add(time.Duration(i) * time.Hour),
			Direction: "in", Amount: decimal.NewFromInt(10), Balance: balance, Currency: "TL"})
	}
	if _, err := e.h.app.Movements.InsertMovements(t.Context(), a.ID, ms); err != nil {
		t.Fatal(err)
	}
	e.storedSync(a.ID, start, time.Now(), len(ms))
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_30_days"}}
	_, doc := e.get(c, "/movements?"+q.Encode(), "Accept-Language", "en")
	if n := doc.Find(`[data-testid=balance-break]`).Length(); n != movementBreaksShown {
		t.Errorf("%d breaks listed", n)
	}
	if got := testID(doc, "balance-breaks-count"); got != i18n.EN.T("mov.breaks.body", 75) {
		t.Errorf("breaks message %q", got)
	}
	if !strings.Contains(testID(doc, "balance-breaks"), i18n.EN.T("mov.breaks.shown", movementBreaksShown)) {
		t.Error("the page does not say only the first breaks are listed")
	}
}

// TestMovementsPendingThenRefresh makes the bank slower than the fetch's
// wait: the page shows the pending state with its polling, which only
// reads, and the status fragment asks for a refresh once the fetch is done.
func TestMovementsPendingThenRefresh(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *Config) { c.JobWait = 200 * time.Millisecond })
	c, _ := e.login(store.RoleOperator)
	e.sandbox.VakifBank.Faults.SetLatency(time.Second)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountUSD, Name: "Dolar", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"this_month"}}
	page := e.fetchPeriod(c, q)
	_, doc := e.get(c, page, "Accept-Language", "tr")
	pending := doc.Find(`[data-testid=movements-pending]`)
	poll := pending.AttrOr("hx-get", "")
	if pending.Length() != 1 || !strings.HasPrefix(poll, "/movements/sync/") || pending.AttrOr("hx-trigger", "") != "every 2s" || !strings.Contains(poll, "sync=") {
		t.Fatalf("pending state: %d, hx-get %q", pending.Length(), poll)
	}
	if !strings.Contains(pending.Text(), "Hareketler bankadan alınıyor") {
		t.Errorf("pending text %q", pending.Text())
	}
	eventually.That(t, "the status fragment to ask for a refresh", func() error {
		resp, _ := e.get(c, poll, "HX-Request", "true")
		if resp.Header.Get("HX-Refresh") != "true" {
			return fmt.Errorf("status %d without HX-Refresh", resp.StatusCode)
		}
		return nil
	})
	// Without htmx the status link sends the browser back to the page.
	resp, _ := e.get(c, poll)
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || l != page {
		t.Errorf("plain status request: %d to %q, want %q", resp.StatusCode, l, page)
	}
	before := e.counts()
	_, doc = e.get(c, page)
	if doc.Find(`[data-testid=movements-pending]`).Length() != 0 || testID(doc, "total-count") == "" || testID(doc, "movements-gaps") != "" {
		t.Fatal("after the fetch the page still waits")
	}
	if after := e.counts(); after != before {
		t.Errorf("the page after the fetch changed [calls, syncs, jobs] from %v to %v", before, after)
	}
}

// TestMovementsBankRefusalExplained shows the ACBH code of a failed fetch
// with its explanation in the user's language, and a "try again" button.
func TestMovementsBankRefusalExplained(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.OtherAccount, Name: "Yabancı", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	page := e.awaitSyncs(e.fetchPeriod(c, url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_30_days"}}))
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		_, doc := e.get(c, page, "Accept-Language", string(lang))
		if !strings.Contains(testID(doc, "sync-failed"), "ACBH000104") || testID(doc, "sync-problem") != lang.T("acbh.ACBH000104") {
			t.Errorf("%s: failure shown as %q", lang, testID(doc, "sync-failed"))
		}
		if testID(doc, "sync-retry") != lang.T("mov.fetch.retry") || doc.Find(`[data-testid=fetch-period]`).Length() != 0 {
			t.Errorf("%s: retry button %q", lang, testID(doc, "sync-retry"))
		}
	}
}

// TestMovementsTemporaryFailureRunsOut: the bank stays down through every
// attempt of a fetch. The page then shows the failure explained, with a
// "try again" button, instead of starting another fetch and waiting again;
// pressing it once the bank is back fetches the period.
func TestMovementsTemporaryFailureRunsOut(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *Config) { c.JobWait = 100 * time.Millisecond })
	c, _ := e.login(store.RoleOperator)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountUSD, Name: "Dolar", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	e.sandbox.VakifBank.Faults.Down()
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_30_days"}}
	page := e.fetchPeriod(c, q)
	u, _ := url.Parse(page)
	run, err := e.h.app.Movements.MovementSync(t.Context(), mustInt(t, u.Query().Get("sync")))
	if err != nil {
		t.Fatal(err)
	}
	// While it retries, the page waits and says why.
	_, doc := e.get(c, page, "Accept-Language", "en")
	if doc.Find(`[data-testid=movements-pending]`).Length() != 1 {
		t.Fatalf("while retrying: %q", testID(doc, "sync-failed"))
	}
	// Skip the backoff between attempts until the fetch gives up.
	eventually.That(t, "the fetch to give up", func() error {
		if _, err := e.st.DB().Exec(`UPDATE river_job SET scheduled_at = now(),
			state = CASE WHEN state = 'retryable' THEN 'available'::river_job_state ELSE state END
			WHERE id = $1 AND state IN ('retryable', 'available', 'scheduled')`, *run.RiverJobID); err != nil {
			t.Fatal(err)
		}
		got, err := e.h.app.Movements.MovementSync(t.Context(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != movements.SyncFailed {
			return fmt.Errorf("the fetch is still %s (%q)", got.State, got.Error)
		}
		return nil
	})
	before := e.counts()
	poll := doc.Find(`[data-testid=movements-pending]`).AttrOr("hx-get", "")
	if resp, _ := e.get(c, poll, "HX-Request", "true"); resp.Header.Get("HX-Refresh") != "true" {
		t.Fatal("the finished fetch does not refresh the page")
	}
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		_, doc = e.get(c, page, "Accept-Language", string(lang))
		if doc.Find(`[data-testid=movements-pending]`).Length() != 0 || testID(doc, "sync-problem") != lang.T("acbh.unavailable") {
			t.Fatalf("%s: after the last attempt: pending %d, problem %q", lang, doc.Find(`[data-testid=movements-pending]`).Length(), testID(doc, "sync-problem"))
		}
		if testID(doc, "sync-retry") != lang.T("mov.fetch.retry") {
			t.Errorf("%s: no try-again button", lang)
		}
	}
	if after := e.counts(); after != before {
		t.Fatalf("showing the failure changed [calls, syncs, jobs] from %v to %v", before, after)
	}
	// The bank is back: try again.
	e.sandbox.VakifBank.Faults.Reset()
	form := url.Values{}
	doc.Find(`[data-testid=sync-retry-form] input[type=hidden]`).Each(func(_ int, s *goquery.Selection) {
		form.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	_, doc = e.get(c, e.awaitSyncs(e.fetchPeriod(c, form)), "Accept-Language", "en")
	if testID(doc, "sync-failed") != "" || testID(doc, "movements-gaps") != "" || testID(doc, "total-count") == "" {
		t.Fatalf("after trying again: failed %q, gaps %q", testID(doc, "sync-failed"), testID(doc, "movements-gaps"))
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
