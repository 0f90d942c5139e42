package vakifbank

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/tz"
)

// postControl submits one of the fake gateway's own pages, as a person does
// in the sandbox.
func (e *env) postControl(t *testing.T, path string, form url.Values) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(e.client.baseURL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, resp.Body)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: %d", path, resp.StatusCode)
	}
}

// Every documented ACBH code injected on the control page reaches the client
// as the typed error with that code; ACBH000202 stays "no movements".
func TestControlPageInjectsEveryACBHCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	from, to := testNow.AddDate(0, 0, -3), testNow
	// A first call fetches the token, so the injected answer meets the
	// movements call.
	if _, err := e.client.Transactions(ctx, vakifbanktest.SandboxAccountTRY, from, to); err != nil {
		t.Fatal(err)
	}
	for _, c := range KnownCodes() {
		e.postControl(t, "/_fake/faults", url.Values{"answer": {c.Code}, "answer_count": {"1"}})
		txns, err := e.client.Transactions(ctx, vakifbanktest.SandboxAccountTRY, from, to)
		if c.Code == CodeNoMovements {
			if err != nil || len(txns) != 0 {
				t.Errorf("%s injected: %d movements, %v; want none and no error", c.Code, len(txns), err)
			}
			continue
		}
		var ve *Error
		if !errors.As(err, &ve) || ve.Code != c.Code {
			t.Errorf("%s injected: client got %v", c.Code, err)
		}
	}
}

// The control page breaks the balance chain where asked, and the client's
// check finds exactly that break.
func TestControlPageBreaksTheBalanceChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	day := testNow.AddDate(0, 0, -10)
	e.postControl(t, "/_fake/balance-break", url.Values{
		"account": {vakifbanktest.SandboxAccountTRY}, "date": {day.Format("2006-01-02")}, "delta": {"250.00"}})
	txns, err := e.client.Transactions(ctx, vakifbanktest.SandboxAccountTRY, testNow.AddDate(0, 0, -30), testNow)
	if err != nil {
		t.Fatal(err)
	}
	breaks := balanceBreaks(txns)
	if len(breaks) != 1 {
		t.Fatalf("%d breaks, want 1: %+v", len(breaks), breaks)
	}
	b := breaks[0]
	if !b.Difference().Equal(decimal.RequireFromString("250")) {
		t.Errorf("break of %s, want 250", b.Difference())
	}
	y, m, d := day.In(tz.Istanbul).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, tz.Istanbul)
	if txns[b.Index].Date.Before(midnight) || !txns[b.Index-1].Date.Before(midnight) {
		t.Errorf("the break is at %s after %s, want the first movement on or after %s",
			txns[b.Index].Date, txns[b.Index-1].Date, midnight)
	}
}
