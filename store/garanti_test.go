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
	"kasa/i18n"
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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

func TestGarantiDaysLeftCountsIstanbulCalendarDays(t *testing.T) {
	t.Parallel()
	ist := i18n.Istanbul
	c := store.GarantiConsent{ValidationDate: time.Date(2026, 3, 31, 0, 0, 0, 0, ist)}
	cases := []struct {
		now  time.Time
		want int
	}{
		{time.Date(2026, 3, 17, 0, 0, 0, 0, ist), 14},
		{time.Date(2026, 3, 30, 23, 59, 0, 0, ist), 1},
		{time.Date(2026, 3, 31, 0, 0, 0, 0, ist), 0},
		{time.Date(2026, 3, 31, 23, 59, 59, 0, ist), 0},
		{time.Date(2026, 4, 1, 0, 0, 1, 0, ist), -1},         // the day after: past, not "0 days left"
		{time.Date(2026, 3, 31, 21, 30, 0, 0, time.UTC), -1}, // 00:30 on 1 April in Istanbul
		{time.Date(2026, 4, 10, 12, 0, 0, 0, ist), -10},
	}
	for _, tc := range cases {
		if got := c.DaysLeft(tc.now); got != tc.want {
			t.Errorf("DaysLeft(%s) = %d, want %d", tc.now, got, tc.want)
		}
		if got := c.PastValidation(tc.now); got != (tc.want < 0) {
			t.Errorf("PastValidation(%s) = %v", tc.now, got)
		}
	}
}

func TestRenewGarantiTokenClearsReauthFlag(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx := context.Background()
	id := newConsent(t, s, "flag", time.Now().Add(time.Minute))
	if err := s.SaveGarantiTokens(ctx, id, store.GarantiToken{Access: "a0", Refresh: "r0", Expiry: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkGarantiReauth(ctx, id, "unavailable"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGarantiConsentError(ctx, id, "invalid_client", "401"); err != nil {
		t.Fatal(err)
	}
	fetch := func(context.Context, string) (store.GarantiToken, error) {
		return store.GarantiToken{Access: "a1", Refresh: "r1", Expiry: time.Now().Add(time.Hour)}, nil
	}
	if _, err := s.RenewGarantiToken(ctx, id, "", time.Minute, fetch); err != nil {
		t.Fatal(err)
	}
	c, _ := s.GarantiConsent(ctx, id)
	if c.NeedsReauth || c.ReauthReason != "" || c.LastErrorCode != "" {
		t.Fatalf("after a successful refresh: %+v", c)
	}
}

func TestCancelPendingGarantiConsent(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx := context.Background()
	id := newConsent(t, s, "pending", time.Now().Add(10*time.Minute))
	if err := s.CancelPendingGarantiConsent(ctx, id, 0, "", ""); err != nil {
		t.Fatal(err)
	}
	c, _ := s.GarantiConsent(ctx, id)
	if c.Status != store.GarantiRevoked || c.RawStatus != "B" || c.RevokedAt == nil || c.NeedsReauth || !c.CancelledLocally() {
		t.Fatalf("cancelled consent = %+v", c)
	}
	// A late return from the bank changes nothing.
	if _, _, err := s.ConsumeGarantiState(ctx, "pending", "binding-1"); !errors.Is(err, store.ErrStateUsed) {
		t.Fatalf("state after cancel: %v", err)
	}
	if err := s.CancelPendingGarantiConsent(ctx, id, 0, "", ""); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second cancel: %v", err)
	}
	// A consent with tokens is withdrawn at the bank, not here.
	other := newConsent(t, s, "approved", time.Now().Add(10*time.Minute))
	if err := s.SaveGarantiTokens(ctx, other, store.GarantiToken{Access: "a", Refresh: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CancelPendingGarantiConsent(ctx, other, 0, "", ""); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("cancel with tokens: %v", err)
	}
}

func TestHGSKindsFollowDebitCredit(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx := context.Background()
	id := newConsent(t, s, "kinds", time.Now().Add(time.Minute))
	if err := s.ActivateGarantiConsent(ctx, id, "A", []store.GarantiConsentProduct{{ProductID: "p1", AuthorityID: "HgsTransactionInfo", Flag: true}}); err != nil {
		t.Fatal(err)
	}
	day := store.GarantiDay(time.Now())
	w := store.HGSWindow{ProductID: "p1", ConsentID: id, From: day, To: day, Transactions: []store.HGSTransactionInput{
		// A passage (B) the bank lists without an exit time (a bridge).
		{Key: "b-noexit", ProductID: "p1", Amount: decimal.RequireFromString("59.00"), DebitCredit: "B", EntranceTS: day.Add(8 * time.Hour)},
		{Key: "b", ProductID: "p1", Amount: decimal.RequireFromString("95.00"), DebitCredit: "B", EntranceTS: day.Add(9 * time.Hour), DepartureTS: day.Add(10 * time.Hour)},
		{Key: "a", ProductID: "p1", Amount: decimal.RequireFromString("200.00"), DebitCredit: "A", EntranceTS: day.Add(11 * time.Hour)},
	}, Unrecognised: []store.HGSUnrecognisedRow{{Key: "x", Reason: `unknown debitCreditInd "X"`, Raw: []byte(`{"debitCreditInd":"X"}`)}}}
	if n, err := s.SaveHGSWindow(ctx, w); err != nil || n != 3 {
		t.Fatalf("save: %d %v", n, err)
	}
	passages, total, _ := s.HGSTransactions(ctx, store.HGSFilter{Kind: store.HGSPassages}, 10, 0)
	per, _, _ := s.HGSTotals(ctx, store.HGSFilter{})
	if total != 2 || len(per) != 1 || per[0].Passages != total {
		t.Fatalf("%d passages listed, %+v counted", total, per)
	}
	for _, p := range passages {
		if !p.Passage() {
			t.Fatalf("listed as a passage but not one: %+v", p)
		}
	}
	if _, total, _ := s.HGSTransactions(ctx, store.HGSFilter{Kind: store.HGSTopUps}, 10, 0); total != 1 {
		t.Fatalf("%d top-ups", total)
	}
	vs, _ := s.HGSVehicles(ctx, id)
	if len(vs) != 1 || vs[0].Unrecognised != 1 {
		t.Fatalf("vehicle = %+v", vs)
	}
	var raw string
	noErr(t, s.DB().QueryRow(`SELECT raw->>'debitCreditInd' FROM hgs_unrecognised WHERE key = 'x'`).Scan(&raw))
	if raw != "X" {
		t.Fatalf("unrecognised row kept as %q", raw)
	}
}
