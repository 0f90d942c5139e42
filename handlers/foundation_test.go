package handlers

import (
	"context"
	"fmt"
	"github.com/riverqueue/river"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kasa/eventually"
	"kasa/queue"
	"kasa/store"
)

func TestHealthReadinessAndMetrics(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createUser("someone@kasa.test", store.RoleViewer)
	c := e.client()
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, _ := e.get(c, p); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	e.get(c, "/login")
	metrics := httptest.NewServer(e.h.MetricsHandler()) // the METRICS_ADDR listener
	t.Cleanup(metrics.Close)
	resp, err := c.Get(metrics.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	for _, want := range []string{
		`kasa_http_requests_total{route="GET /login",status="200"}`,
		`kasa_http_request_duration_seconds_bucket{route="GET /login"`,
		`kasa_jobs{state="failed"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Not ready once the database is gone.
	closeOrFail(t, e.st)
	if resp, _ := e.get(c, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz without a database: %d", resp.StatusCode)
	}
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	resp, _ := e.get(e.client(), "/login", "X-Request-ID", "abc-123")
	h := resp.Header
	if h.Get("X-Request-ID") != "abc-123" {
		t.Errorf("request id not honoured: %q", h.Get("X-Request-ID"))
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Error("CSP allows inline code")
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", h)
	}
	// A request id that could forge log lines is replaced.
	resp, _ = e.get(e.client(), "/login", "X-Request-ID", "bad id <script>")
	if got := resp.Header.Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " <>") {
		t.Errorf("unsafe request id echoed: %q", got)
	}
}

func TestPanicShowsGenericPage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	h := e.h.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret internal detail") }))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/x", nil)
	h.ServeHTTP(w, r)
	body := w.Body.String()
	if w.Code != http.StatusInternalServerError || strings.Contains(body, "secret internal detail") || !strings.Contains(body, `data-testid="error-page"`) {
		t.Fatalf("panic page: %d %q", w.Code, body)
	}
}

func TestSetupOnlyWhileNoUserExists(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.client()
	if resp, _ := e.get(c, "/login"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("with no user, /login should lead to setup: %d", resp.StatusCode)
	}
	resp, doc := e.postForm(c, "/setup", url.Values{"name": {""}, "email": {"not-an-email"}, "password": {"short"}, "password_confirm": {"short"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid setup: %d", resp.StatusCode)
	}
	for field, want := range map[string]string{"name": "Enter a name.", "email": "Enter a valid email address.", "password": "The password must be at least 10 characters."} {
		if got := fieldError(doc, field); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if doc.Find("#f-email").AttrOr("value", "") != "not-an-email" {
		t.Error("typed email lost")
	}
	resp, _ = e.postForm(c, "/setup", url.Values{"name": {"Ada"}, "email": {"ada@kasa.test"}, "password": {"long enough pw"}, "password_confirm": {"long enough pw"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	u, err := e.st.UserByEmail(context.Background(), "ada@kasa.test")
	if err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("first user %v, %v", u, err)
	}
	// Signed in at once; the setup page is gone for everyone.
	if resp, doc := e.get(c, "/"); resp.StatusCode != http.StatusOK || testID(doc, "current-user") != "ada@kasa.test" {
		t.Fatalf("after setup: %d", resp.StatusCode)
	}
	for _, cl := range []*http.Client{c, e.client()} {
		if resp, _ := e.get(cl, "/setup"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("setup page after setup: %d", resp.StatusCode)
		}
		if resp, _ := e.postForm(cl, "/setup", url.Values{"name": {"M"}, "email": {"m@kasa.test"}, "password": {"long enough pw"}, "password_confirm": {"long enough pw"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("second setup: %d", resp.StatusCode)
		}
	}
}

func TestSettingsKeepSecretsWriteOnly(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	form := url.Values{"finrota.base_url": {"https://prodtest_gw.finrota.com/"}, "finrota.api_key": {"key-1"}, "finrota.secret_key": {"TOP-SECRET-1"}}
	if resp, _ := e.postForm(admin, "/settings", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	resp, doc := e.get(admin, "/settings")
	html, _ := doc.Html()
	if resp.StatusCode != http.StatusOK || strings.Contains(html, "TOP-SECRET-1") {
		t.Fatal("the settings page shows a secret")
	}
	if v := doc.Find(`[name="finrota.base_url"]`).AttrOr("value", ""); v != "https://prodtest_gw.finrota.com" {
		t.Errorf("base url shown as %q", v)
	}
	// An empty secret field keeps the stored secret.
	form.Set("finrota.secret_key", "")
	form.Set("finrota.api_key", "key-2")
	e.postForm(admin, "/settings", form)
	s, _ := e.st.Settings(context.Background())
	if s["finrota.secret_key"] != "TOP-SECRET-1" || s["finrota.api_key"] != "key-2" {
		t.Fatalf("settings after second save: secret kept=%v key=%q", s["finrota.secret_key"] == "TOP-SECRET-1", s["finrota.api_key"])
	}
	// New credentials drop the token cached under the old ones.
	if _, _, err := e.st.RenewToken(context.Background(), "finrota", "", time.Minute, func(context.Context) (string, time.Time, error) {
		return "old-token", time.Now().Add(time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.RenewToken(context.Background(), "vakifbank:c1", "", time.Minute, func(context.Context) (string, time.Time, error) {
		return "bank-token", time.Now().Add(time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	form.Set("finrota.api_key", "key-3")
	e.postForm(admin, "/settings", form)
	if v, _, _ := e.st.LoadToken(context.Background(), "finrota"); v != "" {
		t.Errorf("the token from the old credentials is still cached")
	}
	if v, _, _ := e.st.LoadToken(context.Background(), "vakifbank:c1"); v != "bank-token" {
		t.Errorf("another provider's token was dropped")
	}

	// A bad URL is refused with a message and nothing is saved.
	resp, doc = e.postForm(admin, "/settings", url.Values{"garanti.base_url": {"ftp://bank"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(doc, "garanti.base_url"), "valid address") {
		t.Fatalf("bad url: %d %q", resp.StatusCode, fieldError(doc, "garanti.base_url"))
	}
	if v := doc.Find(`[name="garanti.base_url"]`).AttrOr("value", ""); v != "ftp://bank" {
		t.Errorf("typed url lost: %q", v)
	}
	// A secret typed with that mistake is not echoed back, nor dropped silently.
	_, doc = e.postForm(admin, "/settings", url.Values{"garanti.base_url": {"ftp://bank"}, "garanti.client_secret": {"NEW-SECRET"}}, "Accept-Language", "en")
	if html, _ := doc.Html(); strings.Contains(html, "NEW-SECRET") || !strings.Contains(fieldError(doc, "garanti.client_secret"), "type it again") {
		t.Errorf("secret typed with another error: %q", fieldError(doc, "garanti.client_secret"))
	}
	// The audit names the keys, never the values.
	trail, _ := e.st.AuditTrail(context.Background(), "settings", 10)
	if len(trail) == 0 || strings.Contains(string(trail[0].Details), "TOP-SECRET") {
		t.Fatalf("audit %v", trail)
	}
}

func TestAPILogRecordsProviderCalls(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	client, err := e.conn.Finrota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.List(ctx, 1, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := client.List(ctx, 1, 500); err == nil {
		t.Fatal("pageSize 500 accepted")
	}
	e.sandbox.Finrota.Faults.FailNext(1, http.StatusServiceUnavailable)
	_ = client.SendOverdueNotifications(ctx) // made to fail: the call log below must show it

	viewer, _ := e.login(store.RoleViewer)
	resp, doc := e.get(viewer, "/apilog?provider=finrota")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("api log: %d", resp.StatusCode)
	}
	rows := doc.Find(`[data-testid=apilog-row]`)
	text := rows.Text()
	for _, want := range []string{"token", "list_debts", "send_overdue_notifications", "503"} {
		if !strings.Contains(text, want) {
			t.Errorf("api log lacks %q:\n%s", want, text)
		}
	}
	calls, _, _ := e.st.APICalls(ctx, store.APICallFilter{Provider: "finrota"})
	for _, c := range calls {
		if c.RequestID == "" || c.DurationMS < 0 {
			t.Errorf("call %+v lacks a request id or duration", c)
		}
	}
	_, doc = e.get(viewer, "/apilog?errors=1")
	if n := doc.Find(`[data-testid=apilog-row]`).Length(); n != 1 {
		t.Errorf("errors only: %d rows, want the one 503", n)
	}
	resp, doc = e.get(viewer, "/apilog?from=31.02.2026", "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "from") == "" {
		t.Errorf("bad date: %d %q", resp.StatusCode, fieldError(doc, "from"))
	}
}

func TestUserAdministration(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, me := e.login(store.RoleAdmin)
	ctx := context.Background()

	resp, doc := e.postForm(admin, "/users", url.Values{"name": {"Op"}, "email": {"op@kasa.test"}, "role": {"operator"}})
	temp := testID(doc, "temp-password")
	if resp.StatusCode != http.StatusOK || len(temp) != 16 {
		t.Fatalf("create: %d, temp %q", resp.StatusCode, temp)
	}
	resp, doc = e.postForm(admin, "/users", url.Values{"name": {"Op"}, "email": {"OP@kasa.test"}, "role": {"operator"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "email") != "A user with this email address already exists." {
		t.Fatalf("duplicate: %d %q", resp.StatusCode, fieldError(doc, "email"))
	}
	op, _ := e.st.UserByEmail(ctx, "op@kasa.test")
	if !op.MustChangePassword {
		t.Error("a created user must change the temporary password")
	}

	// The operator signs in and works.
	opClient := e.client()
	e.postForm(opClient, "/login", url.Values{"email": {"op@kasa.test"}, "password": {temp}})
	if resp, _ := e.get(opClient, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("must-change user reached the dashboard: %d", resp.StatusCode)
	}

	id := "/users/" + itoa64(op.ID)
	e.postForm(admin, id+"/role", url.Values{"role": {"viewer"}})
	if u, _ := e.st.UserByID(ctx, op.ID); u.Role != store.RoleViewer {
		t.Errorf("role change: %s", u.Role)
	}
	e.postForm(admin, id+"/disable", nil)
	if resp, _ := e.get(opClient, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled user's session still works: %d", resp.StatusCode)
	}
	// An admin cannot lock themselves out.
	e.postForm(admin, "/users/"+itoa64(me.ID)+"/disable", nil)
	if u, _ := e.st.UserByID(ctx, me.ID); !u.Active() {
		t.Fatal("admin disabled themselves")
	}
	_, doc = e.get(admin, "/users/"+itoa64(me.ID))
	if testID(doc, "flash-error") == "" {
		t.Error("no message when disabling oneself")
	}
	// Reset gives a new temporary password.
	e.postForm(admin, id+"/enable", nil)
	_, doc = e.postForm(admin, id+"/reset", nil)
	if tp := testID(doc, "temp-password"); len(tp) != 16 || tp == temp {
		t.Errorf("reset password %q", tp)
	}
	trail, _ := e.st.AuditTrail(ctx, store.UserSubject(op.ID), 10)
	if len(trail) < 4 {
		t.Errorf("audit trail has %d entries", len(trail))
	}
}

func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, u := e.login(store.RoleViewer)
	other := e.client()
	e.postForm(other, "/login", url.Values{"email": {u.Email}, "password": {testPassword}})

	resp, doc := e.postForm(c, "/account/password", url.Values{"current_password": {"wrong"}, "new_password": {"short"}, "new_password_confirm": {"short"}}, "Accept-Language", "tr")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "current_password") != "Mevcut parola hatalı." || fieldError(doc, "new_password") == "" {
		t.Fatalf("invalid change: %d %q %q", resp.StatusCode, fieldError(doc, "current_password"), fieldError(doc, "new_password"))
	}
	resp, _ = e.postForm(c, "/account/password", url.Values{"current_password": {testPassword}, "new_password": {"brand new password"}, "new_password_confirm": {"brand new password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, _ := e.get(c, "/account"); resp.StatusCode != http.StatusOK {
		t.Error("the session that changed the password was signed out")
	}
	if resp, _ := e.get(other, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Error("the other session survived a password change")
	}
}

// unknownKind is a job no worker knows: River fails it.
type unknownKind struct {
	N int `json:"n"`
}

func (unknownKind) Kind() string { return "no.such.kind" }

func TestJobsPageRetryAndCancel(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := e.login(store.RoleAdmin)
	ctx := context.Background()
	res, err := e.h.app.Jobs.Insert(ctx, unknownKind{N: 1}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Job.ID
	eventually.That(t, "the job of an unknown kind failed", func() error {
		j, err := queue.Get(ctx, e.st.DB(), id)
		if err != nil {
			return err
		}
		if j.State != queue.StateFailed {
			return fmt.Errorf("state %s", j.State)
		}
		return nil
	})
	_, doc := e.get(admin, "/jobs?state=failed")
	if !strings.Contains(doc.Find(`[data-testid=job-row]`).Text(), "no.such.kind") {
		t.Fatal("failed job not listed")
	}
	_, doc = e.get(admin, "/jobs")
	if !strings.Contains(doc.Find(`[data-testid=job-row]`).Text(), "no.such.kind") {
		t.Fatal("the unfiltered list leaves out the failed job")
	}
	e.postForm(admin, "/jobs/"+itoa64(id)+"/cancel", nil)
	_, doc = e.get(admin, "/jobs")
	if testID(doc, "flash-error") == "" {
		t.Error("cancelling a failed job should explain why not")
	}
	res, err = e.h.app.Jobs.Insert(ctx, unknownKind{}, &river.InsertOpts{ScheduledAt: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	later := res.Job.ID
	e.postForm(admin, "/jobs/"+itoa64(later)+"/cancel", nil)
	if j, _ := queue.Get(ctx, e.st.DB(), later); j.State != queue.StateCancelled {
		t.Errorf("cancel: %s", j.State)
	}
	e.postForm(admin, "/jobs/"+itoa64(later)+"/retry", nil)
	if j, _ := queue.Get(ctx, e.st.DB(), later); j.State == queue.StateCancelled {
		t.Error("retry left the job cancelled")
	}
	for _, c := range []struct{ action, subject string }{{"job.cancel", "job:" + itoa64(later)}, {"job.retry", "job:" + itoa64(later)}} {
		trail, err := e.st.AuditTrail(ctx, c.subject, 10)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range trail {
			found = found || a.Action == c.action
		}
		if !found {
			t.Errorf("no %s entry in the audit trail of %s", c.action, c.subject)
		}
	}
	if trail, _ := e.st.AuditTrail(ctx, "job:"+itoa64(id), 10); len(trail) != 0 {
		t.Errorf("a refused cancel left an audit entry: %+v", trail)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestLanguageSwitchReturnsToAFetchablePage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleViewer)
	cases := map[string]string{"/apilog?provider=finrota&errors=1": "/apilog?provider=finrota&errors=1"}
	for page, want := range cases {
		_, doc := e.get(c, page)
		if got := doc.Find(`form[action="/lang"] input[name=next]`).AttrOr("value", ""); got != want {
			t.Errorf("GET %s: the switch returns to %q, want %q", page, got, want)
		}
	}
	// A form re-rendered in reply to a POST: back to the page that holds it.
	_, doc := e.postForm(c, "/account/password", url.Values{"current_password": {"wrong"}})
	if got := doc.Find(`form[action="/lang"] input[name=next]`).AttrOr("value", ""); got != "/account" {
		t.Errorf("after POST /account/password the switch returns to %q, want /account", got)
	}
}
