package handlers

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"kasa/store"
)

// pgProxy stands between an instance of the product and Postgres, so a
// test can take the database away and bring it back as a restart does:
// down closes every connection and refuses new ones, up accepts again on
// the same address.
type pgProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	isDown bool
	conns  map[net.Conn]struct{}
}

// startPGProxy proxies to the server of dbURL and returns the proxy and the
// URL of the same database through it.
func startPGProxy(t *testing.T, dbURL string) (*pgProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{t: t, target: u.Host, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve(ln)
	t.Cleanup(p.down)
	u.Host = p.addr
	return p, u.String()
}

func (p *pgProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

// pipe copies between the product and the database until either side, or
// down, closes a connection. A close or copy then fails on a connection that
// is already gone, which is how a proxy stops, so those errors are dropped.
func (p *pgProxy) pipe(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.isDown {
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() {
		_, _ = io.Copy(server, client)
		_ = server.Close()
	}()
	_, _ = io.Copy(client, server)
	_ = client.Close()
}

// down stops the database as far as the product can tell.
func (p *pgProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isDown {
		return
	}
	p.isDown = true
	// Cutting the connections is the point; one may already be gone.
	_ = p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// up lets the product reach the database again.
func (p *pgProxy) up() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.ln, p.isDown = ln, false
	go p.serve(ln)
}

// TestDatabaseOutageIsNotASignOut takes the database away from a signed-in
// user: pages and forms answer 503 with a page that says the database is
// unreachable and to try again, the session cookie is kept, /readyz says
// not ready, and once the database is back the same session goes on.
func TestDatabaseOutageIsNotASignOut(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	proxy, viaProxy := startPGProxy(t, e.dbURL)
	inst := e.instance(viaProxy)
	c, u := inst.login(store.RoleViewer)
	cookie := sessionCookie(t, c, inst)

	proxy.down()
	const want = "database is not reachable"
	check := func(what string, resp *http.Response, msg string) {
		t.Helper()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: status %d (Location %q), want 503", what, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(msg, want) {
			t.Errorf("%s during the outage: message %q should say %q", what, msg, want)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: no Retry-After", what)
		}
		for _, sc := range resp.Cookies() {
			if sc.Name == sessionName {
				t.Errorf("%s during the outage touched the session cookie: %v", what, sc)
			}
		}
	}
	resp, doc := inst.get(c, "/", "Accept-Language", "en")
	check("a page", resp, testID(doc, "error-message"))
	resp, doc = inst.postForm(c, "/account/preferences", url.Values{"language": {"en"}}, "Accept-Language", "en")
	check("a form", resp, testID(doc, "error-message"))
	resp, doc = inst.postForm(inst.client(), "/login", url.Values{"email": {u.Email}, "password": {testPassword}}, "Accept-Language", "en")
	check("a sign-in", resp, testID(doc, "error-message"))
	if got := sessionCookie(t, c, inst); got != cookie {
		t.Errorf("the session cookie changed during the outage")
	}
	if resp, _ := inst.get(c, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d, want 503", resp.StatusCode)
	}

	proxy.up()
	resp, doc = inst.get(c, "/")
	if resp.StatusCode != http.StatusOK || testID(doc, "current-user") != u.Email {
		t.Fatalf("after the outage: status %d, user %q; the session should go on", resp.StatusCode, testID(doc, "current-user"))
	}
	if resp, _ := inst.get(c, "/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("readyz after the outage: %d", resp.StatusCode)
	}
}
