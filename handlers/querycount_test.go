package handlers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"kasa/connect"
	"kasa/static"
	"kasa/store"
	"kasa/store/storetest"
)

// statements counts what the product sends to Postgres through the
// "postgres-counting" driver.
var statements atomic.Int64

var registerCounting sync.Once

type countingDriver struct{}

func (countingDriver) Open(name string) (driver.Conn, error) {
	c, err := pq.Driver{}.Open(name)
	if err != nil {
		return nil, err
	}
	return countingConn{c.(pqConn)}, nil
}

// pqConn is what lib/pq's connection offers beyond driver.Conn.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.ConnPrepareContext
}

type countingConn struct{ pqConn }

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	statements.Add(1)
	return c.pqConn.QueryContext(ctx, q, args)
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	statements.Add(1)
	return c.pqConn.ExecContext(ctx, q, args)
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	statements.Add(1)
	return c.pqConn.PrepareContext(ctx, q)
}

// TestSignedInPagesCostTwoQueries: a signed-in page costs the session query
// (which brings the user along) and its own data. The handler runs without
// a job runner, so only the request's statements are counted.
func TestSignedInPagesCostTwoQueries(t *testing.T) {
	registerCounting.Do(func() { sql.Register("postgres-counting", countingDriver{}) })
	ctx := context.Background()
	st, err := store.OpenDriver(ctx, "postgres-counting", storetest.URL(t), storetest.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, st)
	sessions, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Idle: time.Hour, Absolute: time.Hour})
	conn := connect.New(st, http.DefaultClient, "http://kasa.test")
	h := New(Config{PublicURL: &url.URL{Scheme: "http", Host: "kasa.test"}}, Deps{Store: st, Sessions: sessions, Assets: static.New(), Logger: quiet, Connect: conn})
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &testEnv{t: t, st: st, srv: srv}
	admin, _ := e.login(store.RoleAdmin)
	noErr(t, st.InsertAPICall(ctx, store.APICall{At: time.Now(), Provider: "finrota", Operation: "list_debts", Method: "GET", Status: 200}))

	pages := []struct {
		path   string
		budget bool // asserted; the others are measured and logged
	}{
		{"/", true}, {"/apilog", true}, {"/jobs", true}, {"/users", true}, {"/settings", true}, {"/account", true},
		{"/movements", true}, {"/movements/accounts", true},
		{"/consents", true}, {"/hgs", true}, {"/debts", true}, {"/debts/overdue", true},
	}
	for _, p := range pages {
		e.get(admin, p.path) // warm: a first visit may touch the session's last use
		before := statements.Load()
		resp, _ := e.get(admin, p.path)
		n := statements.Load() - before
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p.path, resp.StatusCode)
		}
		t.Logf("%s: %d statements", p.path, n)
		if p.budget && n > 2 {
			t.Errorf("%s cost %d statements, want at most 2 (session + page data)", p.path, n)
		}
	}
}
