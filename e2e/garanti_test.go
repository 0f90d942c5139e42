package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kasa/providers/garanti/garantitest"
)

// TestGarantiConsentAndHGS registers the application, takes a consent
// through the fake bank's login and approval pages, sees the HGS movements,
// revokes one vehicle and sees its next sync fail with E052's explanation.
func TestGarantiConsentAndHGS(t *testing.T) {
	a := startApp(t)
	ctx := tab(t)
	signIn(t, ctx, a, adminEmail, adminPassword)
	// The admin reads English: the switcher stores it on the account.
	do(t, ctx,
		click(`[data-testid=lang-en]`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=nav-consents]`)),
	)

	// Register the application once.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/consents/setup"),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=register-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-company_name`), "Kasa Lojistik A.Ş."),
		click(`[data-testid=register-submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
	)
	if got := text(t, ctx, `[data-testid=redirect-uri]`); got != a.URL+"/oauth/garanti/callback" {
		t.Fatalf("redirect URI shown: %q", got)
	}

	// Ask for a consent with the proposed values; the browser goes to the bank.
	do(t, ctx,
		click(`[data-testid=nav-consents]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-consent]`)),
		click(`[data-testid=new-consent]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=consent-form]`)),
		click(`[data-testid=consent-submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#login-form`)),
		chromedp.SendKeys(chromedp.CSS(`#customer_no`), garantitest.SandboxCustomerNo),
		chromedp.SendKeys(chromedp.CSS(`#password`), garantitest.SandboxPassword),
		chromedp.SendKeys(chromedp.CSS(`#otp`), garantitest.SandboxOTP),
		click(`#login`),
		chromedp.WaitVisible(chromedp.CSS(`#approve-form`)),
	)
	shot(t, ctx, "bank-approval")
	do(t, ctx,
		click(`#approve`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=consent-status][data-status=active]`)),
	)
	if got := text(t, ctx, `[data-testid=flash-success]`); !strings.Contains(got, "approved and is active") {
		t.Fatalf("back from the bank the page says %q", got)
	}
	consentURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}

	// The movements arrive (the page refreshes itself while the sync runs).
	do(t, ctx,
		click(`[data-testid=nav-hgs]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=hgs-txn]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=hgs-main][data-syncing=false]`)),
	)
	shot(t, ctx, "hgs")
	if n := count(t, ctx, `[data-testid=hgs-vehicle]`); n != 3 {
		t.Fatalf("%d vehicle cards", n)
	}
	if n := count(t, ctx, `[data-testid=hgs-vehicle-error]`); n != 0 {
		t.Fatalf("%d cards show an error before the revoke", n)
	}
	victim, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll("[data-testid=hgs-vehicle]")[1].dataset.product`))
	if err != nil || victim == "" {
		t.Fatalf("second vehicle: %q %v", victim, err)
	}

	// Revoke that vehicle, with a confirmation step.
	do(t, ctx,
		chromedp.Navigate(consentURL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=revoke-form]`)),
		chromedp.SetValue(chromedp.CSS(`#f-mode`), "product"),
		chromedp.SetValue(chromedp.CSS(`#f-product`), victim),
		click(`[data-testid=revoke-start]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=revoke-confirm]`)),
	)
	if got := text(t, ctx, `[data-testid=revoke-summary]`); !strings.Contains(got, victim) {
		t.Fatalf("confirmation says %q", got)
	}
	do(t, ctx,
		click(`[data-testid=revoke-confirm]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=grant-revoked]`)),
	)

	// No active consent covers it any more: its card says so with the way
	// out, and the refresh makes no call for it.
	do(t, ctx,
		click(`[data-testid=nav-hgs]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=hgs-refresh]`)),
		click(`[data-testid=hgs-refresh]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=hgs-vehicle][data-product="`+victim+`"] [data-testid=hgs-vehicle-uncovered]`)),
	)
	shot(t, ctx, "hgs-uncovered")
	got := text(t, ctx, `[data-testid=hgs-vehicle][data-product="`+victim+`"] [data-testid=hgs-vehicle-uncovered]`)
	if !strings.Contains(got, "No active consent covers this vehicle") {
		t.Fatalf("card explains %q", got)
	}
	if n := count(t, ctx, `[data-testid=hgs-vehicle-error]`); n != 0 {
		t.Fatalf("%d cards show an error, want none", n)
	}
}
