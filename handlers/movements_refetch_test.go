package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/movements"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
)

// formValues collects the inputs of the form matched by sel.
func formValues(doc *goquery.Document, sel string) url.Values {
	form := url.Values{}
	doc.Find(sel + ` input`).Each(func(_ int, s *goquery.Selection) {
		if name, ok := s.Attr("name"); ok {
			form.Add(name, s.AttrOr("value", ""))
		}
	})
	return form
}

// TestMovementsBreakRefetchRepairs reproduces a balance break the bank
// caused by listing a movement late: the page's advice carries a re-fetch
// preset to the break's days (a viewer may not use it, dates in the wrong
// order are refused); pressing it adds the movement, so the chain is
// whole, the movement the bank corrected meanwhile is listed with its
// stored and its new version, and one the bank no longer lists stays stored
// and is flagged.
func TestMovementsBreakRefetchRepairs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	fake := e.sandbox.VakifBank
	number := vakifbanktest.SandboxAccountEUR
	ms := fake.Movements(number)
	cut := time.Now().AddDate(0, 0, -10)
	idx := 0
	for i, m := range ms {
		if m.Date.Before(cut) {
			idx = i
		}
	}
	late, err := fake.RemoveMovement(number, ms[idx].ID) // not listed by the bank yet
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: number, Name: "Euro", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_30_days"}}
	en := i18n.EN
	page := e.awaitSyncs(e.fetchPeriod(c, q))
	viewer, _ := e.login(store.RoleViewer)
	if _, doc := e.get(viewer, page, "Accept-Language", "en"); testID(doc, "refetch-viewer") != en.T("mov.refetch.viewer") ||
		doc.Find(`[data-testid=refetch-break-form], [data-testid=refetch-form]`).Length() != 0 {
		t.Errorf("a viewer is told %q and offered %d re-fetch forms", testID(doc, "refetch-viewer"),
			doc.Find(`[data-testid=refetch-break-form], [data-testid=refetch-form]`).Length())
	}
	_, doc := e.get(c, page, "Accept-Language", "en")
	if n := doc.Find(`[data-testid=balance-break]`).Length(); n != 1 || testID(doc, "movements-pending") != "" {
		t.Fatalf("%d breaks shown (pending %q); want the one after the missing movement", n, testID(doc, "movements-pending"))
	}
	if got := testID(doc, "balance-breaks-count"); got != en.T("mov.breaks.body", 1) {
		t.Errorf("break advice %q", got)
	}
	form := formValues(doc, `[data-testid=refetch-break-form]`)
	day := func(t time.Time) string { return t.In(i18n.Istanbul).Format(time.DateOnly) }
	if form.Get("account") != q.Get("account") || form.Get("refetch_from") != day(ms[idx-1].Date) || form.Get("refetch_to") != day(ms[idx+1].Date) {
		t.Fatalf("the break's re-fetch carries %v; want %s to %s", form, day(ms[idx-1].Date), day(ms[idx+1].Date))
	}
	general := formValues(doc, `[data-testid=refetch-form]`)
	summary := doc.Find(`[data-testid=movements-summary]`)
	if general.Get("refetch_from") != summary.AttrOr("data-from", "?") || general.Get("refetch_to") != summary.AttrOr("data-to", "?") {
		t.Errorf("the re-fetch form is preset to %s..%s, not the period shown", general.Get("refetch_from"), general.Get("refetch_to"))
	}

	// The bank now lists the movement, and has corrected the next one's text.
	if err := fake.AddMovement(number, late); err != nil {
		t.Fatal(err)
	}
	corrected := ms[idx+1]
	corrected.Description += " (düzeltme)"
	if err := fake.CorrectMovement(number, corrected); err != nil {
		t.Fatal(err)
	}
	gone, err := fake.RemoveMovement(number, ms[idx-1].ID) // reversed by the bank
	if err != nil {
		t.Fatal(err)
	}

	if resp, _ := e.postForm(viewer, "/movements/refetch", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's re-fetch: %d", resp.StatusCode)
	}
	before := e.counts()
	wrong := url.Values{}
	for k, vs := range form {
		wrong[k] = vs
	}
	wrong.Set("refetch_from", form.Get("refetch_to"))
	wrong.Set("refetch_to", day(ms[idx-1].Date.AddDate(0, 0, -1)))
	resp, _ := e.postForm(c, "/movements/refetch", wrong, "Accept-Language", "en")
	back, _ := location(resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, "/movements?") || e.counts() != before {
		t.Fatalf("a reversed range: %d to %q, counts %v → %v", resp.StatusCode, back, before, e.counts())
	}
	if _, doc := e.get(c, back, "Accept-Language", "en"); testID(doc, "flash-error") != en.T("valid.mov.order") {
		t.Errorf("a reversed range says %q", testID(doc, "flash-error"))
	}

	resp, _ = e.postForm(c, "/movements/refetch", form, "Accept-Language", "en")
	page, _ = location(resp)
	u, err := url.Parse(page)
	if resp.StatusCode != http.StatusSeeOther || err != nil || u.Path != "/movements" || u.Query().Get("period") != "last_30_days" || u.Query().Get("sync") == "" {
		t.Fatalf("re-fetch: %d to %q", resp.StatusCode, page)
	}
	if run, err := e.h.app.Movements.MovementSync(t.Context(), mustInt(t, u.Query().Get("sync"))); err != nil || run.Reason != movements.ReasonRefetch {
		t.Fatalf("the re-fetch run %+v, %v", run, err)
	}
	e.awaitSyncs(page)

	_, doc = e.get(c, page, "Accept-Language", "en")
	if doc.Find(`[data-testid=balance-breaks]`).Length() != 0 {
		t.Fatalf("the chain still breaks after the re-fetch: %s", testID(doc, "balance-breaks"))
	}
	done := doc.Find(`[data-testid=refetch-done]`)
	if done.AttrOr("data-inserted", "") != "1" || done.AttrOr("data-changed", "") != "2" {
		t.Errorf("re-fetch outcome %q (inserted %s, changed %s)", strings.TrimSpace(done.Text()), done.AttrOr("data-inserted", ""), done.AttrOr("data-changed", ""))
	}
	vanished := doc.Find(`[data-testid=movement-difference]:has([data-testid=difference-vanished])`)
	if vanished.Length() != 1 || vanished.AttrOr("data-id", "") != gone.ID ||
		strings.TrimSpace(vanished.Find(`[data-testid=difference-vanished]`).Text()) != en.T("mov.diff.vanished") {
		t.Errorf("%d movements flagged as no longer listed (%q), want %s", vanished.Length(), vanished.AttrOr("data-id", ""), gone.ID)
	}
	diffs := doc.Find(`[data-testid=movement-difference]:not(:has([data-testid=difference-vanished]))`)
	if diffs.Length() != 1 || diffs.AttrOr("data-id", "") != corrected.ID {
		t.Fatalf("%d differences listed (%q)", diffs.Length(), diffs.AttrOr("data-id", ""))
	}
	if got := strings.TrimSpace(diffs.Find(`[data-testid=difference-old-description]`).Text()); got != ms[idx+1].Description {
		t.Errorf("stored version %q, want %q", got, ms[idx+1].Description)
	}
	if got := strings.TrimSpace(diffs.Find(`[data-testid=difference-new-description]`).Text()); got != corrected.Description {
		t.Errorf("bank's version %q, want %q", got, corrected.Description)
	}
	today := i18n.Today(time.Now())
	if n, _, _ := fakeTotals(e, number, today.AddDate(0, 0, -29), today); testID(doc, "total-count") != en.Int(int64(n+1)) {
		t.Errorf("%s movements listed; want the bank's %d and the one it no longer lists", testID(doc, "total-count"), n)
	}
}

// TestMovementsRefetchRefusedOffersRetry: a re-fetch the bank refuses shows
// the bank's reason, and its "try again" repeats the same re-fetch (not the
// fetch of missing days, which has nothing to do for a stored period).
func TestMovementsRefetchRefusedOffersRetry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.OtherAccount, Name: "Yabancı", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(time.Now())
	form := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_30_days"},
		"refetch_from": {today.AddDate(0, 0, -3).Format(time.DateOnly)}, "refetch_to": {today.AddDate(0, 0, -1).Format(time.DateOnly)}}
	resp, _ := e.postForm(c, "/movements/refetch", form, "Accept-Language", "en")
	page, err := location(resp)
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.Contains(page, "sync=") {
		t.Fatalf("re-fetch: %d to %q", resp.StatusCode, page)
	}
	_, doc := e.get(c, e.awaitSyncs(page), "Accept-Language", "en")
	if !strings.Contains(testID(doc, "sync-failed"), "ACBH000104") {
		t.Fatalf("failure shown as %q", testID(doc, "sync-failed"))
	}
	retry := formValues(doc, `[data-testid=refetch-retry-form]`)
	if retry.Get("refetch_from") != form.Get("refetch_from") || retry.Get("refetch_to") != form.Get("refetch_to") || retry.Get("account") != form.Get("account") {
		t.Errorf("the retry carries %v; want the same re-fetch as %v", retry, form)
	}
	if doc.Find(`[data-testid=sync-retry-form]`).Length() != 0 {
		t.Error("a failed re-fetch offers the fetch of missing days as its retry")
	}
}

// TestMovementsRefetchTwiceJoins: pressing the re-fetch again while the
// first is under way follows the same run instead of starting another.
func TestMovementsRefetchTwiceJoins(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *Config) { c.JobWait = 50 * time.Millisecond })
	c, _ := e.login(store.RoleOperator)
	e.sandbox.VakifBank.Faults.SetLatency(2 * time.Second)
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: vakifbanktest.SandboxAccountUSD, Name: "Dolar", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(time.Now())
	form := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"this_month"},
		"refetch_from": {today.AddDate(0, 0, -5).Format(time.DateOnly)}, "refetch_to": {today.Format(time.DateOnly)}}
	e.now.Set(time.Now())
	var pages []string
	for range 2 {
		e.now.Advance(2 * time.Minute) // each press has its own "now"
		resp, _ := e.postForm(c, "/movements/refetch", form, "Accept-Language", "en")
		page, err := location(resp)
		if resp.StatusCode != http.StatusSeeOther || err != nil {
			t.Fatalf("re-fetch: %d, %v", resp.StatusCode, err)
		}
		pages = append(pages, page)
	}
	if pages[0] != pages[1] {
		t.Errorf("a second press started another run: %q, then %q", pages[0], pages[1])
	}
	e.awaitSyncs(pages[1])
	if runs, err := e.h.app.Movements.MovementSyncs(t.Context(), a.ID, 5); err != nil || len(runs) != 1 || runs[0].State != movements.SyncDone {
		t.Fatalf("runs %+v, %v; want one, done", runs, err)
	}
}

// TestMovementsBankReportedBreakIsNotOfferedAgain: the bank shifts the
// balances from one movement on (its own data breaks there, as the fake's
// balance-break hook does). Re-fetching only the break's days stores the
// bank's balances for those days, so the break stays, now confirmed by the
// bank, and a second one appears where the re-fetched days end (the stored
// days after them still carry the old balances). The page then says the
// first is the bank's own and offers no repair for it, and for the second
// offers a re-fetch that reaches to the end of the period rather than one
// more day; after it only the bank's break is left, with no button.
func TestMovementsBankReportedBreakIsNotOfferedAgain(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	fake := e.sandbox.VakifBank
	number := vakifbanktest.SandboxAccountEUR
	a, err := e.h.app.Movements.CreateBankAccount(t.Context(), movements.NewBankAccount{Number: number, Name: "Euro", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_30_days"}}
	page := e.awaitSyncs(e.fetchPeriod(c, q))
	en, tr := i18n.EN, i18n.TR
	if _, doc := e.get(c, page, "Accept-Language", "en"); doc.Find(`[data-testid=balance-breaks]`).Length() != 0 {
		t.Fatalf("the sandbox account breaks before any fault: %s", testID(doc, "balance-breaks"))
	}

	day := func(t time.Time) string { return t.In(i18n.Istanbul).Format(time.DateOnly) }
	ms := fake.Movements(number)
	cut := time.Now().AddDate(0, 0, -10)
	idx := slices.IndexFunc(ms, func(m vakifbanktest.Movement) bool { return !m.Date.Before(cut) })
	if idx < 1 {
		t.Fatalf("no movement before and after %s", cut)
	}
	if err := fake.InjectBalanceBreak(number, idx, decimal.RequireFromString("100.00")); err != nil {
		t.Fatal(err)
	}
	// The first stored movement after the re-fetched days: the second break.
	next := slices.IndexFunc(ms, func(m vakifbanktest.Movement) bool { return day(m.Date) > day(ms[idx].Date) })
	if next < 0 || ms[next].Date.After(time.Now().Add(-time.Hour)) {
		t.Fatalf("no stored movement after %s", day(ms[idx].Date))
	}

	_, doc := e.get(c, page, "Accept-Language", "en")
	form := formValues(doc, `[data-testid=refetch-form]`)
	form.Set("refetch_from", day(ms[idx-1].Date))
	form.Set("refetch_to", day(ms[idx].Date))
	resp, _ := e.postForm(c, "/movements/refetch", form, "Accept-Language", "en")
	page, _ = location(resp)
	e.awaitSyncs(page)

	_, doc = e.get(c, page, "Accept-Language", "en")
	rows := doc.Find(`[data-testid=balance-break]`)
	if rows.Length() != 2 {
		t.Fatalf("%d breaks after re-fetching the break's days; want the bank's and the one where the days end", rows.Length())
	}
	checkStacked(t, doc, `[data-testid=balance-breaks-table]`)
	checkStacked(t, doc, `[data-testid=movement-differences-table]`)
	first, second := rows.Eq(0), rows.Eq(1)
	if first.AttrOr("data-bank-reported", "") != "true" || !strings.Contains(first.Text(), ms[idx].ID) ||
		strings.TrimSpace(first.Find(`[data-testid=break-bank-reported]`).Text()) != en.T("mov.breaks.bank.badge") {
		t.Errorf("the bank's own break is shown as %q (bank-reported %s)", strings.Join(strings.Fields(first.Text()), " "), first.AttrOr("data-bank-reported", ""))
	}
	if second.AttrOr("data-bank-reported", "") != "false" || !strings.Contains(second.Text(), ms[next].ID) {
		t.Errorf("the second break is %q", strings.Join(strings.Fields(second.Text()), " "))
	}
	if got := testID(doc, "breaks-bank-reported"); got != en.T("mov.breaks.bank") {
		t.Errorf("the bank's break is explained as %q", got)
	}
	offer := formValues(doc, `[data-testid=refetch-break-form]`)
	to := doc.Find(`[data-testid=movements-summary]`).AttrOr("data-to", "?")
	if offer.Get("refetch_from") != day(ms[next-1].Date) || offer.Get("refetch_to") != to {
		t.Fatalf("the repair offered covers %s..%s; want %s..%s (the rest of the period)", offer.Get("refetch_from"), offer.Get("refetch_to"), day(ms[next-1].Date), to)
	}

	resp, _ = e.postForm(c, "/movements/refetch", offer, "Accept-Language", "en")
	page, _ = location(resp)
	e.awaitSyncs(page)
	for _, lang := range []i18n.Lang{en, tr} {
		_, doc = e.get(c, page, "Accept-Language", string(lang))
		rows = doc.Find(`[data-testid=balance-break]`)
		if rows.Length() != 1 || rows.AttrOr("data-bank-reported", "") != "true" || !strings.Contains(rows.Text(), ms[idx].ID) {
			t.Fatalf("%s: %d breaks left (%q)", lang, rows.Length(), strings.Join(strings.Fields(rows.Text()), " "))
		}
		if got := testID(doc, "breaks-bank-reported"); got != lang.T("mov.breaks.bank") {
			t.Errorf("%s: the bank's break is explained as %q", lang, got)
		}
		if n := doc.Find(`[data-testid=refetch-break-form]`).Length(); n != 0 || testID(doc, "balance-breaks-advice") != "" {
			t.Errorf("%s: the same repair is offered again (%d forms, advice %q)", lang, n, testID(doc, "balance-breaks-advice"))
		}
	}
}
