package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kasa/eventually"
)

// TestDebtsCreateRenameDuplicateOverdueNotify walks the debts area in a
// browser: sync from the fake, create a debt and see it delivered, rename
// its ERP code, meet the duplicate-code error, filter it as overdue, send
// the overdue notifications and find it on the fake's notification page.
func TestDebtsCreateRenameDuplicateOverdueNotify(t *testing.T) {
	a := startApp(t)
	ctx := tab(t)
	signIn(t, ctx, a, adminEmail, adminPassword)
	do(t, ctx,
		click(`[data-testid=lang-en]`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=nav-debts]`)),
	)

	// Sync (the schedule may already be at it) until the mirror is filled.
	do(t, ctx,
		click(`[data-testid=nav-debts]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=debts-sync]`)),
		click(`[data-testid=debts-sync]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flashes]`)),
	)
	eventually.That(t, "the debt sync to finish", func() error {
		if got := text(t, ctx, `[data-testid=debts-last-sync]`); !strings.HasPrefix(got, "Last sync") {
			do(t, ctx, chromedp.Navigate(a.URL+"/debts"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=debts-last-sync]`)))
			return fmt.Errorf("/debts says %q", got)
		}
		return nil
	})

	// Create: an unpaid debt that fell due in January, so it is overdue.
	fill := func(erp string) {
		do(t, ctx,
			chromedp.Navigate(a.URL+"/debts/new"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=debt-form]`)),
			chromedp.SetValue(chromedp.CSS(`#f-erpCode`), erp),
			chromedp.SetValue(chromedp.CSS(`#f-documentNo`), "E2E-FTR-1"),
			chromedp.SetValue(chromedp.CSS(`#f-documentType`), "Fatura"),
			chromedp.SetValue(chromedp.CSS(`#f-agentErpCode`), "NT26822394"),
			chromedp.SetValue(chromedp.CSS(`#f-currentAccountErpCode`), "441B3BF1-8F5F-4CCD-A116-7CD90D3E4C04"),
			chromedp.SetValue(chromedp.CSS(`#f-amount`), "1.550,00"),
			chromedp.SetValue(chromedp.CSS(`#f-currencyId`), "TRY"),
			chromedp.SetValue(chromedp.CSS(`#f-transactionDate`), "02.01.2026"),
			chromedp.SetValue(chromedp.CSS(`#f-dueDate`), "15.01.2026"),
			click(`[data-testid=debt-submit]`),
		)
	}
	fill("E2E-1")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=debt-status] [data-state=delivered]`)))
	if got := text(t, ctx, `[data-testid=debt-amount]`); got != "₺1,550.00" {
		t.Fatalf("amount shown as %q", got)
	}
	shot(t, ctx, "created")

	// Rename its ERP code.
	do(t, ctx,
		click(`[data-testid=edit-debt]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=debt-form]`)),
		chromedp.SetValue(chromedp.CSS(`#f-erpCode`), "E2E-1-RENAMED"),
		click(`[data-testid=debt-submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=debt-status] [data-state=delivered]`)),
	)
	if got := text(t, ctx, `[data-testid=debt-erp]`); got != "E2E-1-RENAMED" {
		t.Fatalf("after rename the page shows %q", got)
	}

	// The old code can never be used again.
	fill("E2E-1")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-erpCode]`)))
	if got := text(t, ctx, `[data-testid=error-erpCode]`); !strings.Contains(got, "used before") {
		t.Fatalf("duplicate code message %q", got)
	}
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#f-documentNo').value`)); err != nil || v != "E2E-FTR-1" {
		t.Fatalf("the form lost the document no: %q %v", v, err)
	}

	// Filter: overdue, by its code.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/debts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=debts-filter]`)),
		click(`[data-testid=filter-overdue]`),
		chromedp.SetValue(chromedp.CSS(`#f-q`), "e2e-1"),
		click(`[data-testid=filter-submit]`),
		// The value attribute is rendered by the server, so only the
		// filtered page has it: the unfiltered one may already show the row.
		chromedp.WaitVisible(chromedp.CSS(`#f-q[value="e2e-1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=debt-row][data-erp="E2E-1-RENAMED"] [data-testid=overdue-badge]`)),
	)
	if n := count(t, ctx, `[data-testid=debt-row]`); n != 1 {
		t.Fatalf("overdue filter shows %d rows", n)
	}

	// Send the overdue notifications after the confirmation.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/debts/overdue"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=notify-start]`)),
		click(`[data-testid=notify-start]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=notify-reach]`)),
	)
	if got := text(t, ctx, `[data-testid=notify-reach]`); !strings.Contains(got, "agents") {
		t.Fatalf("confirmation says %q", got)
	}
	do(t, ctx,
		click(`[data-testid=notify-confirm]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=notify-row][data-state=sent]`)),
	)

	// The fake's own page lists what it "sent", our debt among them.
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`[data-testid=sandbox-finrota-notifications]`), "href"))
	if err != nil || !link.Exists {
		t.Fatalf("notifications link: %v", err)
	}
	do(t, ctx,
		chromedp.Navigate(link.Value),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=notifications]`)),
	)
	if got := text(t, ctx, `[data-testid=notifications]`); !strings.Contains(got, "E2E-1-RENAMED") {
		t.Fatal("the fake's notification page does not list the new debt")
	}
	shot(t, ctx, "notifications")
}
