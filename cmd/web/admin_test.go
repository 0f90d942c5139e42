package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"kasa/store/storetest"
)

// The first administrator given in the environment meets the setup form's
// rules: a short password stops the start with a message and creates no one.
func TestFirstAdminFromTheEnvironmentFollowsThePasswordRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name, email, password, want string
	}{
		{"short password", "admin@kasa.test", "short", "at least 10 characters"},
		{"bad email", "not-an-email", "a long enough password", "ADMIN_EMAIL"},
		{"password without email", "", "a long enough password", "ADMIN_EMAIL and ADMIN_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := storetest.New(t)
			err := createFirstAdmin(ctx, st, config{AdminEmail: tc.email, AdminPassword: tc.password}, log)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if n, err := st.CountUsers(ctx); err != nil || n != 0 {
				t.Fatalf("users after a refused start: %d, %v", n, err)
			}
		})
	}
	t.Run("accepted, then ignored once a user exists", func(t *testing.T) {
		t.Parallel()
		st := storetest.New(t)
		if err := createFirstAdmin(ctx, st, config{AdminEmail: "admin@kasa.test", AdminPassword: "a long enough password"}, log); err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountUsers(ctx); err != nil || n != 1 {
			t.Fatalf("users: %d, %v", n, err)
		}
		// A later start with an old, short value does not block the restart.
		if err := createFirstAdmin(ctx, st, config{AdminEmail: "admin@kasa.test", AdminPassword: "short"}, log); err != nil {
			t.Fatalf("restart with a user present: %v", err)
		}
	})
}
