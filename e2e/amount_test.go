package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kasa/i18n"
)

// TestDebtAmountEchoedAsTyped: in the Turkish debt form the amount is read
// back next to the field while it is typed (htmx asks the server): 1,555
// is refused for its three decimals, 1.555 is one thousand five hundred
// and fifty-five lira, and the currency chosen shows in the echo.
func TestDebtAmountEchoedAsTyped(t *testing.T) {
	a := startApp(t)
	ctx := tab(t)
	signIn(t, ctx, a, adminEmail, adminPassword)
	do(t, ctx,
		click(`[data-testid=lang-tr]`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=tr] [data-testid=nav-debts]`)),
		chromedp.Navigate(a.URL+"/debts/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=debt-form]`)),
	)
	// Empty the field the way select-all and delete would, without the
	// events: the typing that follows is what asks for the echo.
	clearAmount := chromedp.Action[chromedp.Void](chromedp.Evaluate[chromedp.Void](`document.querySelector('#f-amount').value = ''`))
	echo := func(want string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector('#echo-amount') || {}).textContent?.trim() === %q`, want), chromedp.WithPollingInterval(100*time.Millisecond))
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#f-amount`), "1,555"),
		echo(i18n.TR.T("amount.decimals")),
	)
	do(t, ctx,
		clearAmount,
		chromedp.SendKeys(chromedp.CSS(`#f-amount`), "1.555"),
		echo("= 1.555,00 ₺"),
	)
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`#f-currencyId`), "USD"),
		clearAmount,
		chromedp.SendKeys(chromedp.CSS(`#f-amount`), "1555,5"),
		echo("= 1.555,50 $"),
	)
}
