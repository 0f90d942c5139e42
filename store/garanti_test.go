package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/eventually"
	"kasa/store"
	"kasa/store/storetest"
)

// newConsent stores an awaiting consent with a state bound to "binding-1".
func newConsent(t *testing.T, s *store.Store, state string, expires time.Time) int64 {
	t.Helper()
	day := store.GarantiDay(time.Now())
	id, err := s.CreateGarantiConsent(context.Background(), store.NewGarantiConsent{
		ConsentID: "c-" + state, RawStatus: "B", Status: store.GarantiAwaiting, Recurring: true, ValidationDate: day.AddDate(0, 0, 30),
		FrequencyPerDay: 4, TranBegin: day.AddDate(-1, 0, 0), TranEnd: day,
		Authorities: []store.GarantiAuthority{{ID: "HgsTransactionInfo", AttributeName: "productId", Attribute: "7001"}},
		State:       state, Binding: "binding-1", Verifier: "verifier-" + state, StateExpires: expires,
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestConsumeGarantiState(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	now := time.Now()
	live := newConsent(t, s, "live", now.Add(10*time.Minute))
	newConsent(t, s, "old", now.Add(-time.Second))

	c, err := s.GarantiConsent(ctx, live)
	if err != nil || c.Authorities[0].Attribute != "7001" || c.FrequencyPerDay != 4 || c.ValidationDate.Location().String() != "Europe/Istanbul" {
		t.Fatalf("consent = %+v, %v", c, err)
	}
	var raw []byte
	noErr(t, s.DB().QueryRow(`SELECT verifier_enc FROM garanti_oauth_states LIMIT 1`).Scan(&raw))
	if strings.Contains(string(raw), "verifier-") {
		t.Fatal("PKCE verifier stored in clear text")
	}
	cases := []struct {
		state, binding string
		want           error
	}{
		{"nope", "binding-1", store.ErrStateUnknown},
		{"live", "binding-2", store.ErrStateForeign},
		{"live", "", store.ErrStateForeign},
		{"old", "binding-1", store.ErrStateExpired},
	}
	for _, c := range cases {
		if _, _, err := s.ConsumeGarantiState(ctx, c.state, c.binding); !errors.Is(err, c.want) {
			t.Errorf("%s/%s: %v, want %v", c.state, c.binding, err, c.want)
		}
	}
	id, verifier, err := s.ConsumeGarantiState(ctx, "live", "binding-1")
	if err != nil || id != live || verifier != "verifier-live" {
		t.Fatalf("consume = %d %q %v", id, verifier, err)
	}
	if _, _, err := s.ConsumeGarantiState(ctx, "live", "binding-1"); !errors.Is(err, store.ErrStateUsed) {
		t.Fatalf("second use: %v", err)
	}
}

func TestReserveGarantiCallNeverExceedsLimit(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	id := newConsent(t, s, "q", time.Now().Add(time.Minute))
	now := time.Now()
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ReserveGarantiCall(ctx, id, now, 5)
			if err != nil {
				t.Error(err)
			}
			if ok {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if granted.Load() != 5 {
		t.Fatalf("%d calls granted, limit 5", granted.Load())
	}
	if used, _ := s.GarantiUsage(ctx, id, now); used != 5 {
		t.Fatalf("usage %d", used)
	}
	// The next Istanbul day starts afresh.
	tomorrow := store.GarantiDay(now).AddDate(0, 0, 1).Add(time.Minute)
	if ok, _ := s.ReserveGarantiCall(ctx, id, tomorrow, 5); !ok {
		t.Fatal("no call allowed on the next day")
	}
	if err := s.ExhaustGarantiQuota(ctx, id, tomorrow, 5); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ReserveGarantiCall(ctx, id, tomorrow, 5); ok {
		t.Fatal("a call allowed after the bank said the quota is spent")
	}
}

func TestRenewGarantiTokenOncePerExpiry(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	id := newConsent(t, s, "tok", time.Now().Add(time.Minute))
	if err := s.SaveGarantiTokens(ctx, id, store.GarantiToken{Access: "a0", Refresh: "r0", Expiry: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // should the test fail early
	fetch := func(_ context.Context, refresh string) (store.GarantiToken, error) {
		n := fetches.Add(1)
		if refresh != "r0" {
			return store.GarantiToken{}, errors.New("refresh token " + refresh + " was rotated away")
		}
		if n == 1 {
			<-release // hold the lock while the others queue
		}
		return store.GarantiToken{Access: "a" + string(rune('0'+n)), Refresh: "r1", Expiry: time.Now().Add(time.Hour)}, nil
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.RenewGarantiToken(ctx, id, "", 5*time.Minute, fetch)
			if err != nil {
				t.Error(err)
			}
			got[i] = tok.Access
		}()
	}
	waitLockWaiters(t, s, len(got)-1)
	unblock()
	wg.Wait()
	if fetches.Load() != 1 {
		t.Fatalf("%d refreshes for one expiry", fetches.Load())
	}
	for _, a := range got {
		if a != "a1" {
			t.Fatalf("tokens handed out: %v", got)
		}
	}
	stored, _ := s.GarantiTokens(ctx, id)
	if stored.Refresh != "r1" {
		t.Fatalf("rotated refresh token not stored: %+v", stored)
	}
	// A token the bank refused is renewed although its expiry looks fine.
	_, err := s.RenewGarantiToken(ctx, id, "a1", 5*time.Minute, fetch)
	if err == nil || !strings.Contains(err.Error(), "rotated away") {
		t.Fatalf("stale token: %v", err)
	}
	if kept, _ := s.GarantiTokens(ctx, id); kept.Access != "a1" || kept.Refresh != "r1" {
		t.Fatalf("a failed refresh changed the tokens: %+v", kept)
	}
}

func TestSaveHGSWindowDeduplicates(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	id := newConsent(t, s, "hgs", time.Now().Add(time.Minute))
	if err := s.ActivateGarantiConsent(ctx, id, "A", []store.GarantiConsentProduct{{ProductID: "p1", AuthorityID: "HgsTransactionInfo", Flag: true}}); err != nil {
		t.Fatal(err)
	}
	day := store.GarantiDay(time.Now())
	tx := store.HGSTransactionInput{Key: "k1", ProductID: "p1", Amount: decimal.RequireFromString("95.00"), DebitCredit: "B",
		EntranceTS: day.Add(9 * time.Hour), DepartureTS: day.Add(9*time.Hour + 4*time.Minute), EntranceMotorway: "Yavuz Sultan Selim Köprüsü",
		Raw: []byte(`{"productId":"p1"}`)}
	w := store.HGSWindow{ProductID: "p1", ConsentID: id, From: day.AddDate(0, 0, -5), To: day, Transactions: []store.HGSTransactionInput{tx},
		Info: &store.HGSVehicleInfo{Plate: "34 ABC 123", VehicleClass: "1", Balance: decimal.RequireFromString("250.5")}}
	if n, err := s.SaveHGSWindow(ctx, w); err != nil || n != 1 {
		t.Fatalf("first save: %d %v", n, err)
	}
	older := w
	older.From, older.To = day.AddDate(0, 0, -30), day.AddDate(0, 0, -6)
	if n, err := s.SaveHGSWindow(ctx, older); err != nil || n != 0 {
		t.Fatalf("duplicate save: %d %v", n, err)
	}
	vs, _ := s.HGSVehicles(ctx, id)
	if len(vs) != 1 || vs[0].Plate != "34 ABC 123" || !vs[0].Balance.Equal(decimal.RequireFromString("250.50")) ||
		!vs[0].SyncedFrom.Equal(day.AddDate(0, 0, -30)) || !vs[0].SyncedTo.Equal(day) {
		t.Fatalf("vehicle = %+v", vs)
	}
	list, total, err := s.HGSTransactions(ctx, store.HGSFilter{Motorway: "sultan", Kind: store.HGSPassages}, 10, 0)
	if err != nil || total != 1 || list[0].Plate != "34 ABC 123" || !list[0].Passage() {
		t.Fatalf("list = %+v %d %v", list, total, err)
	}
	if _, total, _ := s.HGSTransactions(ctx, store.HGSFilter{Motorway: "50%_"}, 10, 0); total != 0 {
		t.Fatal("LIKE wildcards in the search text matched")
	}
}

// waitLockWaiters waits until n sessions of the test's database are
// blocked on a lock: the callers queued behind the one holding it.
func waitLockWaiters(t *testing.T, s *store.Store, n int) {
	t.Helper()
	eventually.That(t, fmt.Sprintf("%d sessions waiting on a lock", n), func() error {
		var waiting int
		if err := s.DB().Get(&waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if waiting != n {
			return fmt.Errorf("%d waiting", waiting)
		}
		return nil
	})
}
