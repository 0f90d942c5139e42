package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"kasa/store"
	"kasa/store/storetest"
)

func newKey() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// roundTrip saves a session with values and returns the cookie the browser got.
func saveNew(t *testing.T, ss *store.SessionStore, values map[any]any) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	s, err := ss.Get(r, "kasa_session")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		s.Values[k] = v
	}
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies", len(cookies))
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie flags: HttpOnly=%v SameSite=%v Path=%q", c.HttpOnly, c.SameSite, c.Path)
	}
	return c
}

// mkUser adds a user for sessions to belong to.
func mkUser(t *testing.T, st *store.Store) int64 {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	u, err := st.CreateUser(context.Background(), store.NewUser{Email: fmt.Sprintf("u%x@kasa.test", b), PasswordHash: "x", Role: store.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func load(t *testing.T, ss *store.SessionStore, c *http.Cookie) map[any]any {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	s, err := ss.New(r, "kasa_session")
	if err != nil {
		t.Fatal(err)
	}
	if s.IsNew {
		return nil
	}
	return s.Values
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	clk := &fakeClock{t: time.Now()}
	st.SetClock(clk.now)
	ss, err := st.Sessions(store.SessionConfig{Keys: [][]byte{newKey()}, Idle: 30 * time.Minute, Absolute: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	uid := mkUser(t, st)
	c := saveNew(t, ss, map[any]any{store.SessionUserKey: uid, "lang": "en"})
	if v := load(t, ss, c); v[store.SessionUserKey] != uid || v["lang"] != "en" {
		t.Fatalf("loaded %v", v)
	}

	// Idle expiry: used every 20 minutes the session lives on…
	for i := 0; i < 5; i++ {
		clk.t = clk.t.Add(20 * time.Minute)
		if load(t, ss, c) == nil {
			t.Fatalf("session ended after %d active periods", i+1)
		}
	}
	// …until the absolute limit (2h after creation; 100 minutes have passed).
	clk.t = clk.t.Add(21 * time.Minute)
	if load(t, ss, c) != nil {
		t.Fatal("session outlived its absolute expiry")
	}

	// A fresh session left alone past the idle timeout ends, and says so.
	c2 := saveNew(t, ss, map[any]any{store.SessionUserKey: mkUser(t, st)})
	clk.t = clk.t.Add(31 * time.Minute)
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c2)
	s, _ := ss.New(r, "kasa_session")
	if !s.IsNew || s.Values[store.SessionExpiredKey] != true {
		t.Fatalf("idle session: IsNew=%v values=%v", s.IsNew, s.Values)
	}

	// The cleanup job deletes both.
	n, err := ss.DeleteExpiredSessions(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
}

func TestSessionKeysRotate(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	oldKey, newK := newKey(), newKey()
	before, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{oldKey}, Idle: time.Hour, Absolute: time.Hour})
	c := saveNew(t, before, map[any]any{store.SessionUserKey: mkUser(t, st)})

	// New key first, old key still verifying: nobody is signed out.
	after, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{newK, oldKey}, Idle: time.Hour, Absolute: time.Hour})
	if load(t, after, c) == nil {
		t.Fatal("a cookie signed with the previous key no longer works")
	}
	// New cookies are signed with the new key only.
	c2 := saveNew(t, after, map[any]any{store.SessionUserKey: mkUser(t, st)})
	if load(t, before, c2) != nil {
		t.Fatal("a cookie signed with the new key verified under the old one alone")
	}
	// Once the old key is retired, its cookies stop working.
	retired, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{newK}, Idle: time.Hour, Absolute: time.Hour})
	if load(t, retired, c) != nil {
		t.Fatal("a cookie signed with a retired key still works")
	}
	if load(t, retired, c2) == nil {
		t.Fatal("the current key's cookie was refused")
	}
}

func TestSessionCookieCarriesOnlyASignedRandomID(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ss, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{newKey()}, Idle: time.Hour, Absolute: time.Hour})
	c := saveNew(t, ss, map[any]any{store.SessionUserKey: mkUser(t, st)})

	// A tampered cookie is no session.
	forged := *c
	forged.Value = c.Value[:len(c.Value)-2] + "AA"
	if load(t, ss, &forged) != nil {
		t.Fatal("a tampered cookie was accepted")
	}
	// The table holds a 32-byte hash, not the id in the cookie.
	var hashes [][]byte
	if err := st.DB().Select(&hashes, `SELECT id_hash FROM sessions`); err != nil {
		t.Fatal(err)
	}
	if len(hashes) != 1 || len(hashes[0]) != 32 {
		t.Fatalf("stored ids: %d rows", len(hashes))
	}

	// Saving with MaxAge < 0 (logout) deletes the row and expires the cookie.
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	s, _ := ss.Get(r, "kasa_session")
	s.Options.MaxAge = -1
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatal(err)
	}
	if got := w.Result().Cookies()[0]; got.MaxAge >= 0 {
		t.Errorf("logout cookie MaxAge=%d", got.MaxAge)
	}
	var n int
	noErr(t, st.DB().Get(&n, `SELECT count(*) FROM sessions`))
	if n != 0 || load(t, ss, c) != nil {
		t.Fatalf("after logout: %d rows, old cookie still valid=%v", n, load(t, ss, c) != nil)
	}
}

func TestSessionRenewGivesANewID(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ss, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{newKey()}, Idle: time.Hour, Absolute: time.Hour})
	c := saveNew(t, ss, map[any]any{"lang": "tr"})
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	s, _ := ss.Get(r, "kasa_session")
	if err := ss.Renew(r.Context(), s); err != nil {
		t.Fatal(err)
	}
	uid := mkUser(t, st)
	s.Values[store.SessionUserKey] = uid
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatal(err)
	}
	c2 := w.Result().Cookies()[0]
	if c2.Value == c.Value {
		t.Fatal("renew kept the id")
	}
	if load(t, ss, c) != nil {
		t.Fatal("the pre-renewal id still works")
	}
	if v := load(t, ss, c2); v["lang"] != "tr" || v[store.SessionUserKey] != uid {
		t.Fatalf("renewed session values %v", v)
	}
}

func httptestRequestWith(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	return r
}

func TestSessionCookieIsSecureOverHTTPS(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	for _, secure := range []bool{false, true} {
		ss, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{newKey()}, Secure: secure, Idle: time.Hour, Absolute: time.Hour})
		if c := saveNew(t, ss, map[any]any{"lang": "tr"}); c.Secure != secure {
			t.Errorf("Secure=%v configured, cookie Secure=%v", secure, c.Secure)
		}
	}
}
