package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"kasa/store"
)

func TestLoginSucceedsAndRenewsSessionID(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	u := e.createUser("ayse@kasa.test", store.RoleOperator)
	c := e.client()

	// An anonymous session exists before sign-in (the language choice).
	resp, _ := e.postForm(c, "/lang", url.Values{"lang": {"en"}, "next": {"/login"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set language: %d", resp.StatusCode)
	}
	before := sessionCookie(t, c, e)

	resp, _ = e.postForm(c, "/login", url.Values{"email": {"AYSE@kasa.test"}, "password": {testPassword}, "next": {"/apilog"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d", resp.StatusCode)
	}
	if l, _ := location(resp); l != "/apilog" {
		t.Errorf("login redirected to %q, want /apilog", l)
	}
	after := sessionCookie(t, c, e)
	if after == "" || after == before {
		t.Fatal("sign-in must issue a new session id")
	}
	resp, doc := e.get(c, "/")
	if resp.StatusCode != http.StatusOK || testID(doc, "current-user") != u.Email {
		t.Fatalf("dashboard after login: %d, user %q", resp.StatusCode, testID(doc, "current-user"))
	}
	if got := doc.Find("html").AttrOr("lang", ""); got != "en" {
		t.Errorf("language chosen before sign-in was lost: html lang=%q", got)
	}
}

func sessionCookie(t *testing.T, c *http.Client, e *testEnv) string {
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionName {
			return ck.Value
		}
	}
	return ""
}

func TestLoginRejectsWrongCredentialsWithOneMessage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createUser("mehmet@kasa.test", store.RoleViewer)
	disabled := e.createUser("gone@kasa.test", store.RoleViewer)
	if err := e.st.SetUserDisabled(context.Background(), 0, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	cases := map[string]url.Values{
		"wrong password": {"email": {"mehmet@kasa.test"}, "password": {"not the password"}},
		"unknown email":  {"email": {"nobody@kasa.test"}, "password": {testPassword}},
		"disabled user":  {"email": {"gone@kasa.test"}, "password": {testPassword}},
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			for _, lang := range []struct{ header, want string }{{"tr", "E-posta veya parola hatalı."}, {"en", "Wrong email or password."}} {
				resp, doc := e.postForm(e.client(), "/login", form, "Accept-Language", lang.header)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", resp.StatusCode)
				}
				if got := testID(doc, "login-error"); got != lang.want {
					t.Errorf("%s message %q, want %q", lang.header, got, lang.want)
				}
				if got := doc.Find("#f-email").AttrOr("value", ""); got != form.Get("email") {
					t.Errorf("typed email lost: %q", got)
				}
			}
		})
	}
}

func TestLoginValidatesEmptyFields(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	resp, doc := e.postForm(e.client(), "/login", url.Values{"email": {""}, "password": {""}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if fieldError(doc, "email") != "Enter your email address." || fieldError(doc, "password") != "Enter your password." {
		t.Errorf("field errors: %q, %q", fieldError(doc, "email"), fieldError(doc, "password"))
	}
}

func TestLoginThrottlesPerAddress(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *Config) { c.LoginBurst, c.LoginEvery = 3, time.Minute })
	form := url.Values{"email": {"x@kasa.test"}, "password": {"wrong password"}}
	for i := 0; i < 3; i++ {
		if resp, _ := e.postForm(e.client(), "/login", form); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, resp.StatusCode)
		}
	}
	resp, doc := e.postForm(e.client(), "/login", form, "Accept-Language", "en")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th attempt: status %d, want 429", resp.StatusCode)
	}
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(testID(doc, "login-error"), "Try again in") {
		t.Errorf("429 without a wait: Retry-After %q, message %q", resp.Header.Get("Retry-After"), testID(doc, "login-error"))
	}
	// Time passes; the address may try again.
	e.now.Advance(2 * time.Minute)
	if resp, _ := e.postForm(e.client(), "/login", form); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the wait: status %d", resp.StatusCode)
	}
}

func TestLoginLocksAccountAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *Config) { c.LockAfter, c.LockFor, c.LoginBurst = 3, 15*time.Minute, 100 })
	e.createUser("zeynep@kasa.test", store.RoleViewer)
	bad := url.Values{"email": {"zeynep@kasa.test"}, "password": {"wrong password"}}
	for i := 0; i < 3; i++ {
		e.postForm(e.client(), "/login", bad)
	}
	good := url.Values{"email": {"zeynep@kasa.test"}, "password": {testPassword}}
	resp, doc := e.postForm(e.client(), "/login", good, "Accept-Language", "tr")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("locked account: status %d, want 429", resp.StatusCode)
	}
	if got := testID(doc, "login-error"); !strings.Contains(got, "15 dakika") {
		t.Errorf("lock message %q should say when to try again", got)
	}
	e.now.Advance(16 * time.Minute)
	if resp, _ := e.postForm(e.client(), "/login", good); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the lock: status %d", resp.StatusCode)
	}

	// An email with no account answers exactly the same way, so the lock
	// does not tell which emails exist.
	ghost := url.Values{"email": {"nobody@kasa.test"}, "password": {"wrong password"}}
	for i := 0; i < 3; i++ {
		if resp, _ := e.postForm(e.client(), "/login", ghost); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown email, attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, doc = e.postForm(e.client(), "/login", ghost, "Accept-Language", "tr")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(testID(doc, "login-error"), "15 dakika") {
		t.Fatalf("unknown email after the failures: %d %q", resp.StatusCode, testID(doc, "login-error"))
	}
}

func TestRolesAreEnforcedInHandlers(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	viewer, _ := e.login(store.RoleViewer)
	operator, _ := e.login(store.RoleOperator)
	admin, _ := e.login(store.RoleAdmin)
	adminPages := []string{"/users", "/users/new", "/settings", "/jobs"}
	for _, p := range adminPages {
		for name, c := range map[string]*http.Client{"viewer": viewer, "operator": operator} {
			if resp, doc := e.get(c, p); resp.StatusCode != http.StatusForbidden || testID(doc, "error-page") == "" {
				t.Errorf("%s GET %s: %d, want the 403 page", name, p, resp.StatusCode)
			}
		}
		if resp, _ := e.get(admin, p); resp.StatusCode != http.StatusOK {
			t.Errorf("admin GET %s: %d", p, resp.StatusCode)
		}
	}
	// A hidden link is not the protection: posting is refused too.
	resp, _ := e.postForm(viewer, "/users", url.Values{"email": {"x@kasa.test"}, "name": {"X"}, "role": {"admin"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer POST /users: %d", resp.StatusCode)
	}
	if _, err := e.st.UserByEmail(context.Background(), "x@kasa.test"); err == nil {
		t.Error("a viewer created a user")
	}
	// Anonymous users are sent to sign in, and back afterwards.
	resp, _ = e.get(e.client(), "/jobs?state=failed")
	if l, _ := location(resp); resp.StatusCode != http.StatusSeeOther || l != "/login?next=%2Fjobs%3Fstate%3Dfailed" {
		t.Errorf("anonymous /jobs: %d → %q", resp.StatusCode, l)
	}
}

func TestCrossSitePostIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	form := url.Values{"email": {"evil@kasa.test"}, "name": {"Evil"}, "role": {"admin"}}
	resp, doc := e.postForm(admin, "/users", form, "Sec-Fetch-Site", "cross-site", "Accept-Language", "en")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", resp.StatusCode)
	}
	if !strings.Contains(testID(doc, "error-message"), "another site") {
		t.Errorf("message %q", testID(doc, "error-message"))
	}
	if _, err := e.st.UserByEmail(context.Background(), "evil@kasa.test"); err == nil {
		t.Fatal("the cross-site POST created a user")
	}
	// Also refused by Origin when the browser sends no Sec-Fetch-Site.
	resp, _ = e.postForm(admin, "/lang", url.Values{"lang": {"en"}}, "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin POST: %d", resp.StatusCode)
	}
	// The same form from our own pages works.
	resp, _ = e.postForm(admin, "/users", form, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("same-origin POST: %d", resp.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"/debts?page=2": "/debts?page=2", "": "/", "https://evil.example/": "/", "//evil.example": "/",
		"/\\evil.example": "/", "javascript:alert(1)": "/", "/ok\r\nSet-Cookie: x": "/",
	}
	for in, want := range cases {
		if got := safeNext(in, "/"); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientAddrBehindAProxy(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = "10.0.0.2:5555"
	r.Header.Add("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	if got := clientAddr(r, false); got != "10.0.0.2" {
		t.Errorf("without a trusted proxy: %q", got)
	}
	if got := clientAddr(r, true); got != "198.51.100.7" {
		t.Errorf("behind a trusted proxy: %q, want the address the proxy appended", got)
	}
	r.Header.Set("X-Forwarded-For", "not an address")
	if got := clientAddr(r, true); got != "10.0.0.2" {
		t.Errorf("garbage header: %q", got)
	}
}
