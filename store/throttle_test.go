package store_test

import (
	"context"
	"testing"
	"time"

	"kasa/store"
	"kasa/store/storetest"
)

var testLimits = store.LoginLimits{
	AddressBurst: 2, AddressEvery: 10 * time.Second,
	DelayAfter: 2, DelayBase: time.Second, DelayMax: 4 * time.Second,
	LockAfter: 3, LockFor: 15 * time.Minute,
}

func TestAddressBucketRefillsWithTime(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	st.SetClock(func() time.Time { return now })
	for i := range 2 {
		if wait, err := st.TakeAddressAttempt(ctx, "192.0.2.1", testLimits); err != nil || wait != 0 {
			t.Fatalf("attempt %d of the burst: wait %v, %v", i+1, wait, err)
		}
	}
	if wait, err := st.TakeAddressAttempt(ctx, "192.0.2.1", testLimits); err != nil || wait != 10*time.Second {
		t.Fatalf("past the burst: wait %v, %v; want 10s", wait, err)
	}
	if wait, _ := st.TakeAddressAttempt(ctx, "192.0.2.2", testLimits); wait != 0 {
		t.Fatalf("another address waits %v", wait)
	}
	now = now.Add(4 * time.Second)
	if wait, _ := st.TakeAddressAttempt(ctx, "192.0.2.1", testLimits); wait != 6*time.Second {
		t.Fatalf("a refused attempt took a token: wait %v, want 6s", wait)
	}
	now = now.Add(6 * time.Second)
	if wait, _ := st.TakeAddressAttempt(ctx, "192.0.2.1", testLimits); wait != 0 {
		t.Fatalf("after the refill: wait %v", wait)
	}
}

func TestFailuresDelayTheAccountAndLockThePair(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	st.SetClock(func() time.Time { return now })
	begin := func(email, addr string) (time.Duration, store.LoginBlock) {
		t.Helper()
		wait, block, err := st.BeginLogin(ctx, email, addr, testLimits)
		if err != nil {
			t.Fatal(err)
		}
		return wait, block
	}
	fail := func(email, addr string) {
		t.Helper()
		if err := st.RecordLoginFailure(ctx, email, addr, testLimits); err != nil {
			t.Fatal(err)
		}
	}
	// Two failures from two addresses: the account waits 1 s, then 2 s.
	fail("Ali@kasa.test", "a")
	if wait, block := begin("ali@kasa.test", "c"); block != store.LoginAllowed || wait != 0 {
		t.Fatalf("after 1 failure: %v %v", wait, block)
	}
	fail("ali@kasa.test", "b")
	if wait, block := begin("ali@kasa.test", "c"); block != store.LoginAccountDelay || wait != time.Second {
		t.Fatalf("after 2 failures: %v %v, want the account delay of 1s", wait, block)
	}
	now = now.Add(time.Second)
	// The attempt allowed after the delay holds the delay until it ends:
	// a parallel attempt waits.
	if _, block := begin("ali@kasa.test", "c"); block != store.LoginAllowed {
		t.Fatal("not allowed after the delay")
	}
	if wait, block := begin("ali@kasa.test", "d"); block != store.LoginAccountDelay || wait != time.Second {
		t.Fatalf("parallel attempt: %v %v", wait, block)
	}
	fail("ali@kasa.test", "c")
	if wait, _ := begin("ali@kasa.test", "d"); wait != 2*time.Second {
		t.Fatalf("after 3 failures: wait %v, want 2s", wait)
	}
	fail("ali@kasa.test", "c")
	fail("ali@kasa.test", "c")
	if wait, _ := begin("ali@kasa.test", "d"); wait != 4*time.Second {
		t.Fatalf("after 5 failures: wait %v, want the 4s ceiling", wait)
	}
	// Three from c lock the pair, whatever the account's delay.
	now = now.Add(4 * time.Second)
	if wait, block := begin("ali@kasa.test", "c"); block != store.LoginPairLocked || wait <= 14*time.Minute {
		t.Fatalf("pair: %v %v, want locked about 15 minutes", wait, block)
	}
	// A success from d clears the account and d, not c.
	if err := st.RecordLoginSuccess(ctx, "ALI@kasa.test", "d"); err != nil {
		t.Fatal(err)
	}
	if wait, block := begin("ali@kasa.test", "e"); block != store.LoginAllowed {
		t.Fatalf("after a success: %v %v", wait, block)
	}
	if _, block := begin("ali@kasa.test", "c"); block != store.LoginPairLocked {
		t.Fatal("a success elsewhere unlocked the pair")
	}
	// Stale rows go, a live lock stays.
	now = now.Add(25 * time.Hour)
	if err := st.DeleteStaleLoginThrottles(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.DB().GetContext(ctx, &n, `SELECT count(*) FROM login_failures`); err != nil || n != 0 {
		t.Fatalf("%d rows after the sweep, %v", n, err)
	}
}

func TestPasswordResetClearsSignInFailures(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: "Can@kasa.test", PasswordHash: "x", Role: store.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := st.RecordLoginFailure(ctx, "can@kasa.test", "a", testLimits); err != nil {
			t.Fatal(err)
		}
	}
	if _, block, _ := st.BeginLogin(ctx, "can@kasa.test", "a", testLimits); block != store.LoginPairLocked {
		t.Fatalf("not locked: %v", block)
	}
	if err := st.ResetPassword(ctx, 0, u.ID, "y"); err != nil {
		t.Fatal(err)
	}
	if wait, block, _ := st.BeginLogin(ctx, "can@kasa.test", "a", testLimits); block != store.LoginAllowed {
		t.Fatalf("after an administrator's reset: %v %v", wait, block)
	}
}
