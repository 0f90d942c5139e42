package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/providers/tokens"
	"kasa/providers/vakifbank"
	"kasa/providers/vakifbank/vakifbanktest"
)

// TestMovementsTwoYears: an admin registers the sandbox TRY account,
// chooses the last two years (more than the bank's one-year limit), is told
// which days are not stored yet, fetches them, sees the movements with the
// totals the bank's own data gives, and downloads the CSV, whose rows are
// exactly those movements.
func TestMovementsTwoYears(t *testing.T) {
	a := startApp(t)
	ctx := tab(t)
	signIn(t, ctx, a, adminEmail, adminPassword)

	// Register the account, typed the way people copy it.
	do(t, ctx,
		click(`[data-testid=lang-en]`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=nav-movements]`)),
		click(`[data-testid=nav-movements]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=accounts-link]`)),
		click(`[data-testid=accounts-link]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-account]`)),
		click(`[data-testid=new-account]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=account-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-number`), "00158 0000 0000 0001"),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ana TL hesabı"),
		chromedp.SetValue(chromedp.CSS(`#f-currency`), "TRY"),
		click(`[data-testid=account-submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=account-row][data-number="`+vakifbanktest.SandboxAccountTRY+`"]`)),
	)
	if got := text(t, ctx, `[data-testid=flash-success]`); !strings.Contains(got, "Ana TL hesabı has been saved") {
		t.Fatalf("after registering the page says %q", got)
	}

	// The last two years, as a custom range.
	today := i18n.Today(time.Now())
	from := today.AddDate(-2, 0, 0)
	do(t, ctx,
		click(`[data-testid=account-movements]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=movements-form]`)),
		chromedp.SetValue(chromedp.CSS(`#f-period`), "custom"),
		chromedp.SetValue(chromedp.CSS(`#f-from`), from.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.CSS(`#f-to`), today.Format(time.DateOnly)),
		click(`[data-testid=movements-submit]`),
		// Showing the period asks the bank for nothing: the page says which
		// days are missing (after waiting for the account's first sync, if
		// it is still running) and offers to fetch them.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=movements-gap][data-from="`+from.Format(time.DateOnly)+`"]`)),
		click(`[data-testid=fetch-period]`),
		// A slow fetch shows the pending state, which reloads the page when
		// done; only the complete period has data-complete=true.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=movements-summary][data-complete=true][data-from="`+from.Format(time.DateOnly)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=balance-chart] polyline`)),
	)
	if n := count(t, ctx, `[data-testid=movements-gaps]`); n != 0 {
		t.Fatal("after the fetch the page still says days are missing")
	}
	shot(t, ctx, "movements")

	// What the bank itself says about the same range, asked directly.
	fakeURL := attr(t, ctx, `[data-testid=sandbox-vakifbank-faults]`, "href")
	client := vakifbank.New(strings.TrimSuffix(fakeURL, "/_fake/faults"), &http.Client{Timeout: 30 * time.Second},
		vakifbank.Credentials{ClientID: vakifbanktest.SandboxClientID, ClientSecret: vakifbanktest.SandboxClientSecret,
			ConsentID: vakifbanktest.SandboxConsentID, Resource: vakifbanktest.SandboxResource}, &tokens.Memory{})
	txns, err := client.Range(ctx, vakifbanktest.SandboxAccountTRY, from, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in, out := decimal.Zero, decimal.Zero
	ids := map[string]bool{}
	for _, tx := range txns {
		ids[tx.ID] = true
		if tx.Amount.IsNegative() {
			out = out.Sub(tx.Amount)
		} else {
			in = in.Add(tx.Amount)
		}
	}
	if len(txns) < 20000 {
		t.Fatalf("the bank has only %d movements in two years", len(txns))
	}
	en := i18n.EN
	want := map[string]string{
		"total-count": en.Int(int64(len(txns))), "total-in": en.Money(in, "TRY"), "total-out": en.Money(out, "TRY"),
		"total-net":       en.Money(in.Sub(out), "TRY"),
		"opening-balance": en.Money(txns[0].Balance.Sub(txns[0].Amount), "TRY"),
		"closing-balance": en.Money(txns[len(txns)-1].Balance, "TRY"),
	}
	for id, w := range want {
		if got := text(t, ctx, `[data-testid=`+id+`]`); got != w {
			t.Errorf("%s shows %q, the bank's data gives %q", id, got, w)
		}
	}
	if n := count(t, ctx, `[data-testid=balance-breaks]`); n != 0 {
		t.Error("a consistent chain is flagged as broken")
	}
	if n := count(t, ctx, `[data-testid=movement-row]`); n != 50 {
		t.Errorf("%d rows on the first page", n)
	}

	// The CSV with a decimal point: BOM, a header, every movement once.
	href := attr(t, ctx, `[data-testid=export-dot]`, "href")
	type download struct {
		BOM  []int  `json:"bom"`
		Text string `json:"text"`
	}
	dl, err := chromedp.Run(ctx, chromedp.Evaluate[download](fmt.Sprintf(`fetch(%q).then(r => r.arrayBuffer()).then(b => {
		const a = new Uint8Array(b);
		return {bom: [a[0], a[1], a[2]], text: new TextDecoder("utf-8", {ignoreBOM: true}).decode(a)};
	})`, href), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dl.BOM) != "[239 187 191]" {
		t.Fatalf("the CSV starts with %v, not the UTF-8 BOM", dl.BOM)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(dl.Text, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], "|") != "Date|Transaction ID|Direction|Amount|Balance|Currency|Code|Transaction|Description" {
		t.Errorf("CSV header %v", recs[0])
	}
	if len(recs)-1 != len(txns) {
		t.Fatalf("the CSV has %d movements, the bank %d", len(recs)-1, len(txns))
	}
	csvIn, csvOut := decimal.Zero, decimal.Zero
	for _, rec := range recs[1:] {
		if !ids[rec[1]] {
			t.Fatalf("CSV row %v is not one of the bank's movements", rec)
		}
		delete(ids, rec[1])
		d, err := decimal.NewFromString(rec[3])
		if err != nil {
			t.Fatalf("CSV amount %q: %v", rec[3], err)
		}
		if d.IsNegative() {
			csvOut = csvOut.Sub(d)
		} else {
			csvIn = csvIn.Add(d)
		}
	}
	if !csvIn.Equal(in) || !csvOut.Equal(out) {
		t.Errorf("CSV sums in %s out %s; the page shows %s and %s", csvIn, csvOut, in, out)
	}
}

// attr reads an attribute of the first element matching sel.
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil || !v.Exists {
		t.Fatalf("%s of %s: %v", name, sel, err)
	}
	return v.Value
}
