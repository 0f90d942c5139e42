package handlers

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kasa/store"
)

// throttleLimits are small limits for the sign-in throttling tests: the
// account waits after 3 failures, 2 s doubling up to 16 s; a pair (account,
// address) locks after 3 failures for 15 minutes.
func throttleLimits(c *Config) {
	c.TrustProxy = true
	c.LoginBurst, c.LoginEvery = 100, time.Second
	c.LockAfter, c.LockFor = 3, 15*time.Minute
	c.DelayAfter, c.DelayBase, c.DelayMax = 3, 2*time.Second, 16*time.Second
}

// signIn posts the sign-in form from addr (the proxy's X-Forwarded-For).
func signIn(e *testEnv, addr, email, password string) (*http.Response, string) {
	e.t.Helper()
	resp, doc := e.postForm(e.client(), "/login", url.Values{"email": {email}, "password": {password}},
		"X-Forwarded-For", addr, "Accept-Language", "en")
	return resp, testID(doc, "login-error")
}

// retryAfterSeconds reads a 429's Retry-After.
func retryAfterSeconds(t *testing.T, resp *http.Response) int {
	t.Helper()
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil {
		t.Fatalf("Retry-After %q: %v", resp.Header.Get("Retry-After"), err)
	}
	return n
}

// TestGuessesFromManyAddressesDelayButDoNotLockTheAccount spreads wrong
// passwords over many addresses, as an attacker keeping an admin out
// would: the account is not locked; each attempt after a few failures
// waits, longer with each failure up to a ceiling, and after the wait the
// right password gets in from the user's own address.
func TestGuessesFromManyAddressesDelayButDoNotLockTheAccount(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, throttleLimits)
	admin := e.createUser("admin@kasa.test", store.RoleAdmin)
	var waits []int
	for i := range 8 {
		addr := "203.0.113." + strconv.Itoa(i+1)
		resp, msg := signIn(e, addr, admin.Email, "guess "+strconv.Itoa(i))
		if resp.StatusCode == http.StatusTooManyRequests {
			wait := retryAfterSeconds(t, resp)
			if !strings.Contains(msg, "Wait "+strconv.Itoa(wait)+" seconds") {
				t.Errorf("delay message %q should say the wait", msg)
			}
			waits = append(waits, wait)
			e.now.Advance(time.Duration(wait) * time.Second)
			resp, msg = signIn(e, addr, admin.Email, "guess "+strconv.Itoa(i))
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d from %s: status %d %q, want 401", i+1, addr, resp.StatusCode, msg)
		}
	}
	// Failures 3..7 imposed 2, 4, 8, 16, 16 seconds.
	if want := []int{2, 4, 8, 16, 16}; len(waits) != len(want) || waits[0] != 2 || waits[len(waits)-1] != 16 || waits[2] != 8 {
		t.Errorf("waits %v, want %v: the delay grows with failures up to its ceiling", waits, want)
	}

	// The admin, from the office: asked to wait (the 8th failure's delay),
	// then let in, although eight wrong passwords were tried.
	resp, msg := signIn(e, "198.51.100.7", admin.Email, testPassword)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(msg, "Wait 16 seconds") {
		t.Fatalf("right password during the delay: status %d %q, want 429 saying the wait", resp.StatusCode, msg)
	}
	e.now.Advance(16 * time.Second)
	if resp, msg := signIn(e, "198.51.100.7", admin.Email, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the delay: status %d %q, want 303", resp.StatusCode, msg)
	}
	// The success cleared the delay.
	if resp, _ := signIn(e, "198.51.100.7", admin.Email, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: status %d", resp.StatusCode)
	}
}

// TestRepeatedFailuresLockTheAccountFromThatAddressOnly: wrong passwords
// from one address lock that (account, address) pair outright, the right
// password included, while the account stays open from other addresses.
func TestRepeatedFailuresLockTheAccountFromThatAddressOnly(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, throttleLimits)
	u := e.createUser("zeynep@kasa.test", store.RoleViewer)
	const attacker, office = "203.0.113.9", "198.51.100.7"
	for i := range 3 {
		if resp, msg := signIn(e, attacker, u.Email, "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d %q", i+1, resp.StatusCode, msg)
		}
	}
	e.now.Advance(2 * time.Second) // the account's delay after 3 failures
	resp, msg := signIn(e, attacker, u.Email, testPassword)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(msg, "15 minutes") || !strings.Contains(msg, "from your address") {
		t.Fatalf("locked pair, right password: status %d %q, want 429 for 15 minutes from this address", resp.StatusCode, msg)
	}
	if resp, msg := signIn(e, office, u.Email, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("other address, right password: status %d %q, want 303", resp.StatusCode, msg)
	}
	// A success elsewhere does not unlock the attacker's pair.
	if resp, _ := signIn(e, attacker, u.Email, testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("locked pair after a success elsewhere: status %d", resp.StatusCode)
	}
	e.now.Advance(15 * time.Minute)
	if resp, msg := signIn(e, attacker, u.Email, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the lock: status %d %q", resp.StatusCode, msg)
	}

	// An email with no account is throttled the same way, so the answers
	// do not tell which emails exist.
	for i := range 3 {
		if resp, msg := signIn(e, attacker, "nobody@kasa.test", "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown email, failure %d: status %d %q", i+1, resp.StatusCode, msg)
		}
	}
	e.now.Advance(2 * time.Second)
	if resp, msg := signIn(e, attacker, "nobody@kasa.test", "wrong password"); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(msg, "15 minutes") {
		t.Fatalf("unknown email after the failures: status %d %q", resp.StatusCode, msg)
	}
}

// TestSignInLimitsHoldAcrossInstances runs two instances of the product on
// one database, as behind a load balancer: the per-address limit, the
// account's delay and the pair's lock count the attempts made on either.
func TestSignInLimitsHoldAcrossInstances(t *testing.T) {
	t.Parallel()
	a := newTestEnv(t, throttleLimits)
	b := a.instance(a.dbURL)
	u := a.createUser("deniz@kasa.test", store.RoleViewer)

	// The pair: failures alternate between the instances.
	for i, e := range []*testEnv{a, b, a} {
		if resp, msg := signIn(e, "203.0.113.5", u.Email, "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d %q", i+1, resp.StatusCode, msg)
		}
	}
	a.now.Advance(2 * time.Second)
	if resp, msg := signIn(b, "203.0.113.5", u.Email, testPassword); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(msg, "15 minutes") {
		t.Fatalf("pair locked on the other instance: status %d %q", resp.StatusCode, msg)
	}
	// The account's delay, set by failures on a, holds on b.
	if resp, msg := signIn(a, "203.0.113.6", u.Email, "wrong password"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("4th failure: status %d %q", resp.StatusCode, msg)
	}
	if resp, msg := signIn(b, "198.51.100.7", u.Email, testPassword); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(msg, "Wait 4 seconds") {
		t.Fatalf("account delay on the other instance: status %d %q", resp.StatusCode, msg)
	}

}

// TestAddressLimitHoldsAcrossInstances spreads one address's attempts over
// two instances on one database: the burst is counted once.
func TestAddressLimitHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	a := newTestEnv(t, throttleLimits, func(c *Config) { c.LoginBurst, c.LoginEvery = 3, time.Minute })
	b := a.instance(a.dbURL)
	for i, e := range []*testEnv{a, b, a} {
		if resp, msg := signIn(e, "192.0.2.1", "x"+strconv.Itoa(i)+"@kasa.test", "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d %q", i+1, resp.StatusCode, msg)
		}
	}
	resp, msg := signIn(b, "192.0.2.1", "x9@kasa.test", "wrong password")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(msg, "Try again in") {
		t.Fatalf("4th attempt from the address, on the other instance: status %d %q, want 429", resp.StatusCode, msg)
	}
	if wait := retryAfterSeconds(t, resp); wait < 1 || wait > 60 {
		t.Errorf("Retry-After %d, want the time to the next token (at most a minute)", wait)
	}
	a.now.Advance(time.Minute)
	if resp, msg := signIn(b, "192.0.2.1", "x9@kasa.test", "wrong password"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after a minute: status %d %q", resp.StatusCode, msg)
	}
}

// TestOverlongEmailIsWrongNotAnError: a 60 KB email fits in a form but is
// no one's; it is answered like any wrong email, not with a database error.
func TestOverlongEmailIsWrongNotAnError(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, throttleLimits)
	local := make([]byte, 60<<10)
	rnd := rand.New(rand.NewPCG(1, 2)) // letters that do not compress
	for i := range local {
		local[i] = byte('a' + rnd.IntN(26))
	}
	resp, msg := signIn(e, "203.0.113.1", string(local)+"@kasa.test", "wrong password")
	if resp.StatusCode != http.StatusUnauthorized || msg != "Wrong email or password." {
		t.Fatalf("status %d %q, want 401", resp.StatusCode, msg)
	}
}
