package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/store"
	"kasa/store/storetest"
)

func TestGarantiDaysLeftCountsIstanbulCalendarDays(t *testing.T) {
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
