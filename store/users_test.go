package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kasa/store"
	"kasa/store/storetest"
)

func TestFirstAdminIsCreatedOnce(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = st.CreateFirstAdmin(ctx, store.NewUser{Email: "admin" + string(rune('a'+i)) + "@kasa.test", PasswordHash: "x"})
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("unexpected error %v", err)
		}
	}
	n, _ := st.CountUsers(ctx)
	if created != 1 || n != 1 {
		t.Fatalf("%d created, %d users; want exactly one admin", created, n)
	}
}

func TestUserEmailIsUniqueIgnoringCase(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "Ayse@Kasa.test", PasswordHash: "x", Role: store.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "ayse@kasa.TEST", PasswordHash: "x", Role: store.RoleViewer}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate email: %v", err)
	}
	if u, err := st.UserByEmail(ctx, " AYSE@kasa.test "); err != nil || u.Email != "Ayse@Kasa.test" {
		t.Fatalf("lookup: %v %v", u.Email, err)
	}
}

func TestLastAdminCannotBeRemoved(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	a, _ := st.CreateUser(ctx, store.NewUser{Email: "a@kasa.test", PasswordHash: "x", Role: store.RoleAdmin})
	b, _ := st.CreateUser(ctx, store.NewUser{Email: "b@kasa.test", PasswordHash: "x", Role: store.RoleAdmin})
	if err := st.SetUserRole(ctx, 0, a.ID, store.RoleViewer); err != nil {
		t.Fatalf("demoting one of two admins: %v", err)
	}
	if err := st.SetUserRole(ctx, 0, b.ID, store.RoleOperator); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if err := st.SetUserDisabled(ctx, 0, b.ID, true); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if err := st.SetUserRole(ctx, 0, 9999, store.RoleViewer); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestDisablingAndPasswordChangeEndSessions(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	ss, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{newKey()}, Idle: time.Hour, Absolute: time.Hour})
	u, _ := st.CreateUser(ctx, store.NewUser{Email: "d@kasa.test", PasswordHash: "x", Role: store.RoleViewer})
	keep := saveNew(t, ss, map[any]any{store.SessionUserKey: u.ID})
	other := saveNew(t, ss, map[any]any{store.SessionUserKey: u.ID})

	r := httptestRequestWith(keep)
	s, _ := ss.Get(r, "kasa_session")
	if err := st.ChangePassword(ctx, u.ID, "new-hash", ss.Hash(s)); err != nil {
		t.Fatal(err)
	}
	if load(t, ss, keep) == nil || load(t, ss, other) != nil {
		t.Fatal("a password change must end the other sessions and keep the caller's")
	}
	if err := st.SetUserDisabled(ctx, 0, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if load(t, ss, keep) != nil {
		t.Fatal("a disabled user's session still works")
	}
}
