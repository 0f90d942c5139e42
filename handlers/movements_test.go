package handlers

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/i18n"
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
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	a, err := e.st.CreateBankAccount(t.Context(), store.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
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
		}
	}
	// Rejected forms never ask the bank.
	if runs, _ := e.st.MovementSyncs(t.Context(), a.ID, 5); len(runs) != 0 {
		t.Fatalf("%d syncs after invalid forms", len(runs))
	}
}

// TestMovementsPageFetchesAndTotals asks for a custom range of 400 days,
// longer than the bank's one-year limit: the page fetches it in windows and
// shows the fake's totals; the filters, paging and CSV export follow.
func TestMovementsPageFetchesAndTotals(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	a, err := e.st.CreateBankAccount(t.Context(), store.NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Ana", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(time.Now())
	from := today.AddDate(0, 0, -400)
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"custom"}, "from": {from.Format("02.01.2006")}, "to": {today.Format(time.DateOnly)}}
	resp, doc := e.get(c, "/movements?"+q.Encode(), "Accept-Language", "en")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, testID(doc, "form-errors"))
	}
	if testID(doc, "movements-pending") != "" {
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
	// The page again: stored, so no new call.
	e.get(c, "/movements?"+q.Encode())
	if calls, _, _ := e.st.APICalls(t.Context(), store.APICallFilter{Provider: "vakifbank", Operation: "account_transactions"}); len(calls) != 2 {
		t.Errorf("reloading called the bank: %d calls", len(calls))
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
	resp.Body.Close()
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

// TestMovementsBalanceBreakFlagged stores a chain with a break the fake
// injected and shows it with the expected and the actual balance.
func TestMovementsBalanceBreakFlagged(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	fake := e.sandbox.VakifBank
	ms := fake.Movements(vakifbanktest.SandboxAccountEUR)
	idx := len(ms) - 5
	if err := fake.InjectBalanceBreak(vakifbanktest.SandboxAccountEUR, idx, decimal.RequireFromString("-125.40")); err != nil {
		t.Fatal(err)
	}
	a, err := e.st.CreateBankAccount(t.Context(), store.NewBankAccount{Number: vakifbanktest.SandboxAccountEUR, Name: "Euro", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_year"}}
	_, doc := e.get(c, "/movements?"+q.Encode(), "Accept-Language", "en")
	if doc.Find(`[data-testid=balance-break]`).Length() != 1 {
		t.Fatalf("breaks shown: %d", doc.Find(`[data-testid=balance-break]`).Length())
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

// TestMovementsPendingThenRefresh makes the bank slower than the page's
// wait: the page shows the pending state with its polling, and the status
// fragment asks for a refresh once the fetch is done.
func TestMovementsPendingThenRefresh(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.JobWait = 200 * time.Millisecond })
	c, _ := e.login(store.RoleViewer)
	e.sandbox.VakifBank.Faults.SetLatency(time.Second)
	a, err := e.st.CreateBankAccount(t.Context(), store.NewBankAccount{Number: vakifbanktest.SandboxAccountUSD, Name: "Dolar", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"this_month"}}
	_, doc := e.get(c, "/movements?"+q.Encode(), "Accept-Language", "tr")
	pending := doc.Find(`[data-testid=movements-pending]`)
	poll := pending.AttrOr("hx-get", "")
	if pending.Length() != 1 || !strings.HasPrefix(poll, "/movements/sync/") || pending.AttrOr("hx-trigger", "") != "every 2s" {
		t.Fatalf("pending state: %d, hx-get %q", pending.Length(), poll)
	}
	if !strings.Contains(pending.Text(), "Hareketler bankadan alınıyor") {
		t.Errorf("pending text %q", pending.Text())
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, _ := e.get(c, poll, "HX-Request", "true")
		if resp.Header.Get("HX-Refresh") == "true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the status fragment never asked for a refresh")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Without htmx the status link sends the browser back to the page.
	resp, _ := e.get(c, poll)
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(l, "/movements?") {
		t.Errorf("plain status request: %d to %q", resp.StatusCode, l)
	}
	_, doc = e.get(c, "/movements?"+q.Encode())
	if doc.Find(`[data-testid=movements-pending]`).Length() != 0 || testID(doc, "total-count") == "" {
		t.Fatal("after the fetch the page still waits")
	}
}

// TestMovementsBankRefusalExplained shows the ACBH code of a failed fetch
// with its explanation in the user's language.
func TestMovementsBankRefusalExplained(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	a, err := e.st.CreateBankAccount(t.Context(), store.NewBankAccount{Number: vakifbanktest.OtherAccount, Name: "Yabancı", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		q := url.Values{"account": {fmt.Sprint(a.ID)}, "period": {"last_30_days"}}
		_, doc := e.get(c, "/movements?"+q.Encode(), "Accept-Language", string(lang))
		if !strings.Contains(testID(doc, "sync-failed"), "ACBH000104") || testID(doc, "sync-problem") != lang.T("acbh.ACBH000104") {
			t.Errorf("%s: failure shown as %q", lang, testID(doc, "sync-failed"))
		}
	}
}
