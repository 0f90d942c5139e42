package e2e

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"kasa/eventually"
)

// TestSignInLanguageRolesAndSignOut walks the frame: an admin signs in,
// switches the language both ways, creates a viewer and signs out; the
// viewer signs in with the temporary password, must change it, and is
// refused the Users page.
func TestSignInLanguageRolesAndSignOut(t *testing.T) {
	a := startApp(t)
	ctx := tab(t)

	signIn(t, ctx, a, adminEmail, adminPassword)
	if got := text(t, ctx, `[data-testid=current-user]`); got != adminEmail {
		t.Fatalf("signed in as %q", got)
	}
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=sandbox-banner]`)))
	shot(t, ctx, "dashboard")

	// The admin's saved language is Turkish: switch to English and back.
	// Each wait names the language the new page must carry, so it cannot
	// match the page being replaced.
	do(t, ctx,
		click(`[data-testid=lang-en]`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=nav-debts]`)),
	)
	if got := text(t, ctx, `html[lang=en] [data-testid=nav-debts]`); got != "Debts" {
		t.Fatalf("English navigation shows %q", got)
	}
	do(t, ctx,
		click(`[data-testid=lang-tr]`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=tr] [data-testid=nav-debts]`)),
	)
	if got := text(t, ctx, `html[lang=tr] [data-testid=nav-debts]`); got != "Borçlar" {
		t.Fatalf("Turkish navigation shows %q", got)
	}
	do(t, ctx,
		click(`[data-testid=lang-en]`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=nav-users]`)),
	)

	// The admin creates a viewer and reads the temporary password.
	do(t, ctx,
		click(`[data-testid=nav-users]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=users-table]`)),
		click(`[data-testid=new-user]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=user-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Vera Viewer"),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "viewer@kasa.test"),
		chromedp.SetValue(chromedp.CSS(`#f-role`), "viewer"),
		click(`[data-testid=user-form] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=temp-password]`)),
	)
	temp := text(t, ctx, `[data-testid=temp-password]`)
	if len(temp) != 16 {
		t.Fatalf("temporary password %q", temp)
	}

	// Sign out: back at the sign-in page with a goodbye.
	do(t, ctx,
		click(`[data-testid=logout]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
	)
	if got := text(t, ctx, `[data-testid=flash-info]`); !strings.Contains(got, "signed out") {
		t.Fatalf("after sign-out the page says %q", got)
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(a.URL+"/users"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.URL, "/login") {
		t.Fatalf("signed out, /users ended at %s", resp.URL)
	}

	// The viewer must change the temporary password first.
	signIn(t, ctx, a, "viewer@kasa.test", temp)
	do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=must-change]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-current_password`), temp),
		chromedp.SendKeys(chromedp.CSS(`#f-new_password`), "a new long password"),
		chromedp.SendKeys(chromedp.CSS(`#f-new_password_confirm`), "a new long password"),
		click(`[data-testid=password-form] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
	)
	if n := count(t, ctx, `[data-testid=nav-users]`); n != 0 {
		t.Fatalf("a viewer sees %d Users links", n)
	}
	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(a.URL+"/users"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 403 {
		t.Fatalf("a viewer opening /users got %d", resp.Status)
	}
	if got := text(t, ctx, `[data-testid=error-message]`); !strings.Contains(got, "permission") {
		t.Fatalf("403 page says %q", got)
	}
}

// TestGracefulShutdown sends SIGTERM while a request is in flight: the
// request (which waits on a slow provider) completes, then the server exits
// cleanly and stops serving.
func TestGracefulShutdown(t *testing.T) {
	a := startApp(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(a.URL+"/login", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	closeOrFail(t, resp.Body)
	// The fake bank answers slowly, so registering the app takes seconds.
	resp, err = c.Get(a.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	closeOrFail(t, resp.Body)
	faults := doc.Find(`[data-testid=sandbox-garanti-faults]`).AttrOr("href", "")
	if faults == "" {
		t.Fatal("no link to the fake bank's fault switches")
	}
	if resp, err := c.PostForm(faults, url.Values{"latency_ms": {"2000"}, "status": {"0"}}); err != nil {
		t.Fatal(err)
	} else {
		closeOrFail(t, resp.Body)
	}

	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := c.PostForm(a.URL+"/consents/setup/register", url.Values{"company_name": {"Kasa Lojistik A.Ş."}})
		if err != nil {
			done <- result{err: err}
			return
		}
		closeOrFail(t, resp.Body)
		done <- result{status: resp.StatusCode}
	}()
	// Stop the server once the request is waiting on the bank.
	eventually.That(t, "the register request to reach the fake bank", func() error {
		resp, err := c.Get(faults)
		if err != nil {
			return err
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		closeOrFail(t, resp.Body)
		if err != nil {
			return err
		}
		if n := doc.Find(`[data-testid=fault-delayed]`).Text(); n != "1" {
			return fmt.Errorf("%q requests delayed", n)
		}
		return nil
	})
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.status != http.StatusSeeOther {
			t.Fatalf("the in-flight request was cut: status %d, %v\n%s", r.status, r.err, a.logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight request never finished")
	}
	exited := make(chan error, 1)
	go func() { exited <- a.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, a.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop within 30s of SIGTERM")
	}
	if _, err := http.Get(a.URL + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
