package vakifbank

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"kasa/providers/vakifbank/vakifbanktest"
)

func TestTokenCachedAndRenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	call := func() {
		t.Helper()
		if _, err := e.client.Transactions(ctx, vakifbanktest.SandboxAccountEUR, dayStart, dayEnd); err != nil {
			t.Fatal(err)
		}
	}
	tokenRequests := func() int {
		n := 0
		for _, p := range e.paths() {
			if p == "/auth/oauth/v2/token" {
				n++
			}
		}
		return n
	}
	call()
	call()
	call()
	if n := tokenRequests(); n != 1 {
		t.Fatalf("%d token requests for three calls, want 1", n)
	}
	first, exp, _ := e.store.LoadToken(ctx, "vakifbank:"+vakifbanktest.SandboxConsentID)
	if first == "" || !exp.Equal(testNow.Add(time.Hour)) || exp.Location() != time.UTC {
		t.Fatalf("stored token %q expiring %v", first, exp)
	}

	e.clock.Advance(54*time.Minute + 59*time.Second) // 5m01s left: still good
	call()
	if n := tokenRequests(); n != 1 {
		t.Fatalf("renewed with more than 5 minutes left")
	}
	e.clock.Advance(time.Second) // exactly 5 minutes left: renew
	call()
	if n := tokenRequests(); n != 2 {
		t.Fatalf("%d token requests, want a renewal 5 minutes before expiry", n)
	}
	second, _, _ := e.store.LoadToken(ctx, e.client.TokenKey())
	if second == first {
		t.Error("the store still holds the old token")
	}
	if paths := e.paths(); paths[len(paths)-2] != "/auth/oauth/v2/token" || paths[len(paths)-1] != "/accountTransactions" {
		t.Errorf("renewal did not precede the call: %v", paths)
	}
}

func TestTokenExpiresInAsString(t *testing.T) {
	e := newEnv(t)
	e.fake.SetQuirks(vakifbanktest.Quirks{ExpiresInString: true})
	if _, err := e.client.Transactions(context.Background(), vakifbanktest.SandboxAccountEUR, dayStart, dayEnd); err != nil {
		t.Fatal(err)
	}
	if _, exp, _ := e.store.LoadToken(context.Background(), e.client.TokenKey()); !exp.Equal(testNow.Add(time.Hour)) {
		t.Errorf("expiry %v from expires_in \"3600\"", exp)
	}
}

func TestRenewOn401WithSameRequestID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.client.Transactions(ctx, vakifbanktest.SandboxAccountTRY, dayStart, dayEnd); err != nil {
		t.Fatal(err)
	}
	e.fake.RevokeTokens() // the cached token still looks valid for an hour
	e.reset()
	if _, err := e.client.Transactions(ctx, vakifbanktest.SandboxAccountTRY, dayStart, dayEnd); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	reqs := e.requests()
	if got := e.paths(); !slices.Equal(got, []string{"/accountTransactions", "/auth/oauth/v2/token", "/accountTransactions"}) {
		t.Fatalf("requests = %v", got)
	}
	if reqs[0].RequestID != reqs[2].RequestID {
		t.Errorf("retry X-Request-ID %q differs from %q", reqs[2].RequestID, reqs[0].RequestID)
	}
	if reqs[0].Authorization == reqs[2].Authorization {
		t.Error("retried with the rejected token")
	}
	calls := e.recorded()
	if len(calls) != 3 || calls[0].Status != 401 || calls[0].ErrorCode != "invalid_token" ||
		calls[1].Operation != "token" || calls[2].Status != 200 || calls[2].ErrorCode != "" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestPersistent401IsRetriedOnce(t *testing.T) {
	e := newEnv(t)
	e.before = func(*http.Request) { e.fake.RevokeTokens() }
	_, err := e.client.Transactions(context.Background(), vakifbanktest.SandboxAccountEUR, dayStart, dayEnd)
	var ve *Error
	if !errors.As(err, &ve) || ve.Status != 401 || ve.Code != "invalid_token" || IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	if got := e.paths(); !slices.Equal(got, []string{"/auth/oauth/v2/token", "/accountTransactions", "/auth/oauth/v2/token", "/accountTransactions"}) {
		t.Errorf("requests = %v", got)
	}
}

func TestTokenErrors(t *testing.T) {
	base := Credentials{vakifbanktest.SandboxClientID, vakifbanktest.SandboxClientSecret, vakifbanktest.SandboxConsentID, "sandbox"}
	tests := []struct {
		name   string
		change func(*Credentials)
		status int
		code   string
	}{
		{"wrong secret", func(c *Credentials) { c.ClientSecret = "guess" }, 401, "invalid_client"},
		{"wrong client", func(c *Credentials) { c.ClientID = "other" }, 401, "invalid_client"},
		{"unknown consent", func(c *Credentials) { c.ConsentID = "b2b-consent-9999" }, 400, "invalid_grant"},
		{"production resource", func(c *Credentials) { c.Resource = "production" }, 400, "invalid_request"},
		{"no resource", func(c *Credentials) { c.Resource = "" }, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := base
			tt.change(&creds)
			e := newEnvWith(t, creds)
			_, err := e.client.Transactions(context.Background(), vakifbanktest.SandboxAccountEUR, dayStart, dayEnd)
			var ve *Error
			if !errors.As(err, &ve) || ve.Status != tt.status || ve.Code != tt.code || ve.Message == "" || ve.RequestID == "" {
				t.Fatalf("err = %#v", err)
			}
			if IsRetryable(err) {
				t.Error("a credentials error is retryable")
			}
			if !strings.HasPrefix(err.Error(), "vakifbank: account transactions: token: "+tt.code) {
				t.Errorf("message %q", err)
			}
			if strings.Contains(err.Error(), creds.ClientSecret) && creds.ClientSecret != "" {
				t.Error("the error shows the client secret")
			}
			calls := e.recorded()
			if len(calls) != 1 || calls[0].Operation != "token" || calls[0].ErrorCode != tt.code {
				t.Errorf("calls = %+v", calls)
			}
			if v, _, _ := e.store.LoadToken(context.Background(), e.client.TokenKey()); v != "" {
				t.Errorf("a token was stored: %q", v)
			}
		})
	}
}
