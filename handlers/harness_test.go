package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"kasa/app"
	"kasa/clocktest"
	"kasa/connect"
	"kasa/eventually"
	"kasa/providers/apicall"
	"kasa/queue"
	"kasa/sandbox"
	"kasa/static"
	"kasa/store"
	"kasa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testEnv is the product's handler over a real database, with the provider
// fakes on loopback (sandbox mode) and a job runner.
type testEnv struct {
	t        *testing.T
	st       *store.Store
	sessions *store.SessionStore
	h        *Handler
	srv      *httptest.Server
	sandbox  *sandbox.Sandbox
	conn     *connect.Connector
	metrics  *Metrics
	now      *clocktest.Clock
	// dbURL is the test's database; sessionKey signs the session cookie.
	// A second instance of the product (instance) shares both.
	dbURL      string
	sessionKey []byte
}

// envOption adjusts the configuration of a test environment.
type envOption func(*Config)

// withShortJobWait makes the handler give up waiting for a queued provider
// call at once, so a test sees the pending answer and then waits, with the
// eventually package, for the outcome the page shows later.
func withShortJobWait(c *Config) { c.JobWait = time.Millisecond }

// quiet drops the logs of the handlers under test.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dbURL: storetest.URL(t), now: &clocktest.Clock{}, metrics: NewMetrics()}
	e.st = storetest.Open(t, e.dbURL)
	e.st.SetClock(e.now.Now)
	e.sessionKey = make([]byte, 32)
	rand.Read(e.sessionKey)
	var err error
	e.sessions, err = e.st.Sessions(store.SessionConfig{Keys: [][]byte{e.sessionKey}, Idle: time.Hour, Absolute: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.sandbox, err = sandbox.Start(context.Background(), e.st, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.sandbox.Close(); err != nil {
			t.Error(err)
		}
	})

	var handler http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &apicall.Transport{Recorder: CallRecorder(e.st, e.metrics, nil)}}
	e.conn = connect.New(e.st, hc, e.srv.URL)

	kasa, err := app.New(app.Deps{Store: e.st, Sessions: e.sessions, Connect: e.conn, Logger: quiet, APILogRetention: time.Hour, Now: e.now.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Scheduled work is not started in handler tests; tests insert what they need.
	work, err := kasa.Start(context.Background(), app.WorkOptions{
		Options: queue.Options{Workers: 2, ListenURL: e.dbURL, PollInterval: 100 * time.Millisecond, Logger: quiet},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := work.Stop(ctx); err != nil {
			t.Errorf("stop jobs: %v", err)
		}
	})

	u, _ := url.Parse(e.srv.URL)
	// The handler waits for a queued provider call as long as a test would
	// wait for the state it asserts: how fast the job runs on a busy
	// machine must not decide what the answer shows. A test of the pending
	// answer sets a short JobWait of its own (see withShortJobWait).
	cfg := Config{PublicURL: u, Sandbox: true, JobWait: eventually.Timeout}
	for _, o := range opts {
		o(&cfg)
	}
	e.h = New(cfg, Deps{
		Store: e.st, Sessions: e.sessions, Assets: static.New(), Metrics: e.metrics,
		Now: e.now.Now, Connect: e.conn, App: kasa,
		Logger: quiet,
	})
	handler = e.h
	return e
}

// instance starts a second instance of the product on the database at
// dbURL (the test's own, or a route to it), as a second server behind a
// load balancer would run: the same configuration and session key, its own
// store, handler and process memory. Its testEnv shares the clock, the
// fakes and the job runner of e.
func (e *testEnv) instance(dbURL string) *testEnv {
	e.t.Helper()
	i := *e
	i.st = storetest.Open(e.t, dbURL)
	i.st.SetClock(e.now.Now)
	var err error
	i.sessions, err = i.st.Sessions(store.SessionConfig{Keys: [][]byte{e.sessionKey}, Idle: time.Hour, Absolute: 12 * time.Hour})
	if err != nil {
		e.t.Fatal(err)
	}
	i.metrics = NewMetrics()
	kasa, err := app.New(app.Deps{Store: i.st, Sessions: i.sessions, Connect: e.conn, Logger: quiet, APILogRetention: time.Hour, Now: e.now.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	i.h = New(e.h.cfg, Deps{
		Store: i.st, Sessions: i.sessions, Assets: static.New(), Metrics: i.metrics,
		Now: e.now.Now, Connect: e.conn, Logger: quiet, App: kasa,
	})
	i.srv = httptest.NewServer(i.h)
	e.t.Cleanup(i.srv.Close)
	return &i
}

// client returns a browser-like client with its own cookie jar that does
// not follow redirects, so tests see each 303.
func (e *testEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar: jar,
		// Longer than the handler's own wait for a job (eventually.Timeout),
		// so a page that waits out a slow job on a busy machine still answers.
		Timeout:       eventually.Timeout + 30*time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

const testPassword = "a long enough password"

// createUser adds an active user with testPassword.
func (e *testEnv) createUser(email string, role store.Role) store.User {
	e.t.Helper()
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	u, err := e.st.CreateUser(context.Background(), store.NewUser{Email: email, Name: strings.Split(email, "@")[0], PasswordHash: string(hash), Role: role})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login creates a user with role and returns a client signed in as it.
func (e *testEnv) login(role store.Role) (*http.Client, store.User) {
	e.t.Helper()
	u := e.createUser(string(role)+"-"+randomSuffix()+"@kasa.test", role)
	c := e.client()
	resp, _ := e.postForm(c, "/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login as %s: status %d", role, resp.StatusCode)
	}
	return c, u
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	const hex = "0123456789abcdef"
	out := make([]byte, 8)
	for i, v := range b {
		out[2*i], out[2*i+1] = hex[v>>4], hex[v&15]
	}
	return string(out)
}

// do sends a request and parses an HTML answer.
func (e *testEnv) do(c *http.Client, req *http.Request) (*http.Response, *goquery.Document) {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer closeOrFail(e.t, resp.Body)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, doc
}

// get fetches path.
func (e *testEnv) get(c *http.Client, path string, header ...string) (*http.Response, *goquery.Document) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(c, req)
}

// postForm posts a form to path; header holds extra name, value pairs.
func (e *testEnv) postForm(c *http.Client, path string, form url.Values, header ...string) (*http.Response, *goquery.Document) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(c, req)
}

// testID returns the trimmed text of the element with data-testid id.
func testID(doc *goquery.Document, id string) string {
	return strings.TrimSpace(doc.Find(`[data-testid="` + id + `"]`).First().Text())
}

// fieldError returns the inline error shown under a form field.
func fieldError(doc *goquery.Document, field string) string {
	return testID(doc, "error-"+field)
}

var errNoLocation = errors.New("no Location header")

// location returns the redirect target of a 3xx answer.
func location(resp *http.Response) (string, error) {
	l := resp.Header.Get("Location")
	if l == "" {
		return "", errNoLocation
	}
	return l, nil
}
