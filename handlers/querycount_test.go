package handlers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"kasa/app"
	"kasa/connect"
	"kasa/static"
	"kasa/store"
	"kasa/store/storetest"
)

// statementCounts holds, per database URL, how many statements the
// "postgres-counting" driver sent there. Each test has a database of its
// own, so tests that count can run in parallel without seeing each other's
// statements.
var statementCounts sync.Map // string → *atomic.Int64

var registerCounting sync.Once

// countingDriver is lib/pq counting every statement sent on its
// connections, under the connection's URL.
type countingDriver struct{}

func (countingDriver) Open(name string) (driver.Conn, error) {
	c, err := pq.Driver{}.Open(name)
	if err != nil {
		return nil, err
	}
	n, _ := statementCounts.LoadOrStore(name, new(atomic.Int64))
	return countingConn{c.(pqConn), n.(*atomic.Int64)}, nil
}

// pqConn is what lib/pq's connection offers beyond driver.Conn.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.ConnPrepareContext
}

type countingConn struct {
	pqConn
	n *atomic.Int64
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.pqConn.QueryContext(ctx, q, args)
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.pqConn.ExecContext(ctx, q, args)
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.n.Add(1)
	return c.pqConn.PrepareContext(ctx, q)
}

// countStatements starts counting the statements sent to the database at
// dsn through the "postgres-counting" driver, and returns the count so far.
func countStatements(t *testing.T, dsn string) func() int64 {
	t.Helper()
	registerCounting.Do(func() { sql.Register("postgres-counting", countingDriver{}) })
	n := new(atomic.Int64)
	if _, loaded := statementCounts.LoadOrStore(dsn, n); loaded {
		t.Fatalf("statements to %s are counted already", dsn)
	}
	t.Cleanup(func() { statementCounts.Delete(dsn) })
	return n.Load
}

// countingEnv serves the product, without a job runner, over a database of
// its own whose statements are counted, so only the requests' statements
// are.
func countingEnv(t *testing.T) (*testEnv, func() int64) {
	t.Helper()
	dsn := storetest.URL(t)
	count := countStatements(t, dsn)
	st, err := store.OpenDriver(context.Background(), "postgres-counting", dsn, storetest.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, st) })
	sessions, err := st.Sessions(store.SessionConfig{Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Idle: time.Hour, Absolute: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	conn := connect.New(st, http.DefaultClient, "http://kasa.test")
	// No job is worked here: only the requests' statements are counted.
	kasa, err := app.New(app.Deps{Store: st, Sessions: sessions, Connect: conn, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{PublicURL: &url.URL{Scheme: "http", Host: "kasa.test"}}, Deps{Store: st, Sessions: sessions, Assets: static.New(), Logger: quiet, Connect: conn, App: kasa})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testEnv{t: t, st: st, srv: srv}, count
}

// pageStatements fetches each page as c and returns how many statements
// each cost; a page must answer with one of ok (200 when none is given).
func pageStatements(e *testEnv, count func() int64, c *http.Client, pages []string, ok ...int) map[string]int64 {
	e.t.Helper()
	if len(ok) == 0 {
		ok = []int{http.StatusOK}
	}
	out := map[string]int64{}
	for _, p := range pages {
		e.get(c, p) // warm: a first visit may touch the session's last use
		before := count()
		resp, _ := e.get(c, p)
		out[p] = count() - before
		good := false
		for _, s := range ok {
			good = good || resp.StatusCode == s
		}
		if !good {
			e.t.Fatalf("%s: status %d", p, resp.StatusCode)
		}
	}
	return out
}

// sameStatements fails the test unless every page cost as many statements
// with many rows as with few: no statement is repeated per row.
func sameStatements(t *testing.T, few, many map[string]int64) {
	t.Helper()
	for _, p := range slices.Sorted(maps.Keys(few)) {
		n := few[p]
		t.Logf("%s: %d statements", p, n)
		if many[p] != n {
			t.Errorf("%s cost %d statements with few rows and %d with many: a statement is repeated per row", p, n, many[p])
		}
	}
}

// TestSignedInPagesCostNoStatementPerRow: a signed-in page's statements
// (the session's, which brings the user along, and the page's own data) do
// not grow with the rows it shows: API calls, jobs, users, the audit log,
// bank accounts and their movements.
func TestSignedInPagesCostNoStatementPerRow(t *testing.T) {
	t.Parallel()
	e, count := countingEnv(t)
	ctx := context.Background()
	admin, _ := e.login(store.RoleAdmin)
	pages := []string{"/", "/apilog", "/jobs", "/users", "/settings", "/account", "/movements", "/movements/accounts",
		"/consents", "/hgs", "/debts", "/debts/overdue"}

	// Few rows: one of each.
	noErr(t, e.st.InsertAPICall(ctx, store.APICall{At: time.Now(), Provider: "finrota", Operation: "list_debts", Method: "GET", Status: 200}))
	var account int64
	noErr(t, e.st.DB().Get(&account, `INSERT INTO bank_accounts (number, name, currency) VALUES ('00000000000000001', 'Vadesiz', 'TRY') RETURNING id`))
	seedRows(t, e, account, 1)
	few := pageStatements(e, count, admin, pages)

	// Many rows of each.
	for i := range 60 {
		noErr(t, e.st.InsertAPICall(ctx, store.APICall{At: time.Now(), Provider: "vakifbank", Operation: "movements", Method: "POST",
			Status: 200 + i%2*300, RequestID: "rq-" + randomSuffix()}))
	}
	for range 10 {
		e.createUser("user-"+randomSuffix()+"@kasa.test", store.RoleViewer)
	}
	e.st.DB().MustExec(`INSERT INTO bank_accounts (number, name, currency) VALUES ('00000000000000002', 'Döviz', 'USD'), ('00000000000000003', 'Euro', 'EUR')`)
	seedRows(t, e, account, 200)
	sameStatements(t, few, pageStatements(e, count, admin, pages))
}

// seedRows adds n movements to the bank account, n jobs and n audit entries.
func seedRows(t *testing.T, e *testEnv, account int64, n int) {
	t.Helper()
	e.st.DB().MustExec(`INSERT INTO account_movements (account_id, transaction_id, booked_at, direction, amount, balance, currency, description)
		SELECT $1, 'tx-' || $2::int || '-' || i, now() - i * interval '1 minute', CASE WHEN i % 2 = 0 THEN 'in' ELSE 'out' END,
			10 + i, 1000 + i, 'TRY', 'movement ' || i
		FROM generate_series(1, $2::int) AS i`, account, n)
	e.st.DB().MustExec(`INSERT INTO river_job (kind, args, state, attempt, max_attempts, attempted_at, finalized_at)
		SELECT 'test.kind', '{}', 'completed', 1, 1, now(), now() FROM generate_series(1, $1::int)`, n)
	e.st.DB().MustExec(`INSERT INTO audit_log (action, subject, details) SELECT 'test.action', 'test:' || i, '{}' FROM generate_series(1, $1::int) AS i`, n)
}
