package consents_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kasa/consents"
	"kasa/eventually"
	"kasa/i18n"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/tz"
)

// newConsent stores an awaiting consent with a state bound to "binding-1".
func newConsent(t *testing.T, cs *consents.Service, state string, expires time.Time) int64 {
	t.Helper()
	day := tz.Day(time.Now())
	id, err := cs.Insert(context.Background(), consents.NewConsent{
		ConsentID: "c-" + state, RawStatus: "B", Status: consents.Awaiting, Recurring: true, ValidationDate: day.AddDate(0, 0, 30),
		FrequencyPerDay: 4, TranBegin: day.AddDate(-1, 0, 0), TranEnd: day,
		Authorities: []consents.Authority{{ID: "HgsTransactionInfo", AttributeName: "productId", Attribute: "7001"}},
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
	cs := consents.New(consents.Deps{Store: s})
	ctx := context.Background()
	now := time.Now()
	live := newConsent(t, cs, "live", now.Add(10*time.Minute))
	newConsent(t, cs, "old", now.Add(-time.Second))

	c, err := cs.Consent(ctx, live)
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
		{"nope", "binding-1", consents.ErrStateUnknown},
		{"live", "binding-2", consents.ErrStateForeign},
		{"live", "", consents.ErrStateForeign},
		{"old", "binding-1", consents.ErrStateExpired},
	}
	for _, c := range cases {
		if _, _, err := cs.ConsumeState(ctx, c.state, c.binding); !errors.Is(err, c.want) {
			t.Errorf("%s/%s: %v, want %v", c.state, c.binding, err, c.want)
		}
	}
	id, verifier, err := cs.ConsumeState(ctx, "live", "binding-1")
	if err != nil || id != live || verifier != "verifier-live" {
		t.Fatalf("consume = %d %q %v", id, verifier, err)
	}
	if _, _, err := cs.ConsumeState(ctx, "live", "binding-1"); !errors.Is(err, consents.ErrStateUsed) {
		t.Fatalf("second use: %v", err)
	}
}

func TestReserveGarantiCallNeverExceedsLimit(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	cs := consents.New(consents.Deps{Store: s})
	ctx := context.Background()
	id := newConsent(t, cs, "q", time.Now().Add(time.Minute))
	now := time.Now()
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := cs.Reserve(ctx, id, now, 5)
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
	if used, _ := cs.Usage(ctx, id, now); used != 5 {
		t.Fatalf("usage %d", used)
	}
	// The next Istanbul day starts afresh.
	tomorrow := tz.Day(now).AddDate(0, 0, 1).Add(time.Minute)
	if ok, _ := cs.Reserve(ctx, id, tomorrow, 5); !ok {
		t.Fatal("no call allowed on the next day")
	}
	if err := cs.Exhaust(ctx, id, tomorrow, 5); err != nil {
		t.Fatal(err)
	}
	if ok, _ := cs.Reserve(ctx, id, tomorrow, 5); ok {
		t.Fatal("a call allowed after the bank said the quota is spent")
	}
}

func TestRenewGarantiTokenOncePerExpiry(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	cs := consents.New(consents.Deps{Store: s})
	ctx := context.Background()
	id := newConsent(t, cs, "tok", time.Now().Add(time.Minute))
	if err := cs.SaveTokens(ctx, id, consents.Token{Access: "a0", Refresh: "r0", Expiry: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // should the test fail early
	fetch := func(_ context.Context, refresh string) (consents.Token, error) {
		n := fetches.Add(1)
		if refresh != "r0" {
			return consents.Token{}, errors.New("refresh token " + refresh + " was rotated away")
		}
		if n == 1 {
			<-release // hold the lock while the others queue
		}
		return consents.Token{Access: "a" + string(rune('0'+n)), Refresh: "r1", Expiry: time.Now().Add(time.Hour)}, nil
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := cs.RenewToken(ctx, id, "", 5*time.Minute, fetch)
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
	stored, _ := cs.Tokens(ctx, id)
	if stored.Refresh != "r1" {
		t.Fatalf("rotated refresh token not stored: %+v", stored)
	}
	// A token the bank refused is renewed although its expiry looks fine.
	_, err := cs.RenewToken(ctx, id, "a1", 5*time.Minute, fetch)
	if err == nil || !strings.Contains(err.Error(), "rotated away") {
		t.Fatalf("stale token: %v", err)
	}
	if kept, _ := cs.Tokens(ctx, id); kept.Access != "a1" || kept.Refresh != "r1" {
		t.Fatalf("a failed refresh changed the tokens: %+v", kept)
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
	c := consents.Consent{ValidationDate: time.Date(2026, 3, 31, 0, 0, 0, 0, ist)}
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
	cs := consents.New(consents.Deps{Store: s})
	ctx := context.Background()
	id := newConsent(t, cs, "flag", time.Now().Add(time.Minute))
	if err := cs.SaveTokens(ctx, id, consents.Token{Access: "a0", Refresh: "r0", Expiry: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := cs.MarkReauth(ctx, id, "unavailable"); err != nil {
		t.Fatal(err)
	}
	if err := cs.Fail(ctx, consents.Consent{ID: id}, "invalid_client", "401"); err != nil {
		t.Fatal(err)
	}
	fetch := func(context.Context, string) (consents.Token, error) {
		return consents.Token{Access: "a1", Refresh: "r1", Expiry: time.Now().Add(time.Hour)}, nil
	}
	if _, err := cs.RenewToken(ctx, id, "", time.Minute, fetch); err != nil {
		t.Fatal(err)
	}
	c, _ := cs.Consent(ctx, id)
	if c.NeedsReauth || c.ReauthReason != "" || c.LastErrorCode != "" {
		t.Fatalf("after a successful refresh: %+v", c)
	}
}

func TestCancelPendingGarantiConsent(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	cs := consents.New(consents.Deps{Store: s})
	ctx := context.Background()
	id := newConsent(t, cs, "pending", time.Now().Add(10*time.Minute))
	if err := cs.CancelPending(ctx, id, 0, "", ""); err != nil {
		t.Fatal(err)
	}
	c, _ := cs.Consent(ctx, id)
	if c.Status != consents.Revoked || c.RawStatus != "B" || c.RevokedAt == nil || c.NeedsReauth || !c.CancelledLocally() {
		t.Fatalf("cancelled consent = %+v", c)
	}
	// A late return from the bank changes nothing.
	if _, _, err := cs.ConsumeState(ctx, "pending", "binding-1"); !errors.Is(err, consents.ErrStateUsed) {
		t.Fatalf("state after cancel: %v", err)
	}
	if err := cs.CancelPending(ctx, id, 0, "", ""); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second cancel: %v", err)
	}
	// A consent with tokens is withdrawn at the bank, not here.
	other := newConsent(t, cs, "approved", time.Now().Add(10*time.Minute))
	if err := cs.SaveTokens(ctx, other, consents.Token{Access: "a", Refresh: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CancelPending(ctx, other, 0, "", ""); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("cancel with tokens: %v", err)
	}
}

// noErr fails the test at once on an error.
func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRotateSecretsReencryptsConsentSecrets: the store's rotation re-seals
// the consent tokens and the pending PKCE verifiers that the consents area
// keeps, so the old key can be retired and both still read back.
func TestRotateSecretsReencryptsConsentSecrets(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	ctx := context.Background()
	oldSpec := store.NewKey("old")
	oldRing, err := store.ParseKeyring(oldSpec)
	noErr(t, err)
	st, err := store.Open(ctx, url, oldRing)
	noErr(t, err)
	cs := consents.New(consents.Deps{Store: st})
	id := newConsent(t, cs, "rotate", time.Now().Add(time.Hour))
	noErr(t, cs.SaveTokens(ctx, id, consents.Token{Access: "a1", Refresh: "r1", Expiry: time.Now().Add(time.Hour)}))
	noErr(t, st.Close())

	newSpec := store.NewKey("new")
	both, err := store.ParseKeyring(newSpec + "," + oldSpec)
	noErr(t, err)
	st2, err := store.Open(ctx, url, both)
	noErr(t, err)
	n, err := st2.RotateSecrets(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RotateSecrets = %d, %v; want 2 (the token pair and the verifier)", n, err)
	}
	noErr(t, st2.Close())

	newOnly, err := store.ParseKeyring(newSpec)
	noErr(t, err)
	st3, err := store.Open(ctx, url, newOnly)
	noErr(t, err)
	t.Cleanup(func() { noErr(t, st3.Close()) })
	cs3 := consents.New(consents.Deps{Store: st3})
	if tok, err := cs3.Tokens(ctx, id); err != nil || tok.Access != "a1" || tok.Refresh != "r1" {
		t.Fatalf("tokens after rotation: %+v, %v", tok, err)
	}
	if got, verifier, err := cs3.ConsumeState(ctx, "rotate", "binding-1"); err != nil || got != id || verifier != "verifier-rotate" {
		t.Fatalf("state after rotation: %d %q %v", got, verifier, err)
	}
}
