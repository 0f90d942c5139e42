package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"kasa/store"
	"kasa/store/storetest"
)

// auditCount returns how many audit entries have action (and subject, when
// not empty).
func auditCount(t *testing.T, st *store.Store, action, subject string) int {
	t.Helper()
	var n int
	noErr(t, st.DB().GetContext(context.Background(), &n,
		`SELECT count(*) FROM audit_log WHERE action = $1 AND ($2 = '' OR subject = $2)`, action, subject))
	return n
}

// lastAudit returns the newest entry about subject.
func lastAudit(t *testing.T, st *store.Store, subject string) store.AuditEntry {
	t.Helper()
	trail, err := st.AuditTrail(context.Background(), subject, 1)
	if err != nil || len(trail) != 1 {
		t.Fatalf("trail of %s: %v, %v", subject, trail, err)
	}
	return trail[0]
}

// failAudits makes every later audit write in st's database fail, as a full
// disk or a broken constraint would: the change it belongs to must not stay.
func failAudits(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	noErr(t, execSQL(ctx, st, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$`))
	noErr(t, execSQL(ctx, st, `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()`))
}

func execSQL(ctx context.Context, st *store.Store, query string, args ...any) error {
	_, err := st.DB().ExecContext(ctx, query, args...)
	return err
}

func details(t *testing.T, e store.AuditEntry) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Details, &m); err != nil {
		t.Fatalf("details %s: %v", e.Details, err)
	}
	return m
}

// TestUserChangesWriteTheirAuditEntry: each change to a user leaves its
// entry, by whom it was made; a refused change leaves none.
func TestUserChangesWriteTheirAuditEntry(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()

	admin, err := st.CreateFirstAdmin(ctx, store.NewUser{Email: "admin@kasa.test", PasswordHash: "x"})
	noErr(t, err)
	if e := lastAudit(t, st, store.UserSubject(admin.ID)); e.Action != "user.setup" || e.UserID.Int64 != admin.ID || details(t, e)["email"] != "admin@kasa.test" {
		t.Errorf("first admin: %+v %s", e, e.Details)
	}
	if _, err := st.CreateFirstAdmin(ctx, store.NewUser{Email: "second@kasa.test", PasswordHash: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second first admin: %v", err)
	}
	if n := auditCount(t, st, "user.setup", ""); n != 1 {
		t.Errorf("%d user.setup entries after a refused second setup; want 1", n)
	}

	u, err := st.CreateUser(ctx, store.NewUser{Email: "ayse@kasa.test", PasswordHash: "x", Role: store.RoleViewer, CreatedBy: admin.ID})
	noErr(t, err)
	subject := store.UserSubject(u.ID)
	if e := lastAudit(t, st, subject); e.Action != "user.create" || e.UserID.Int64 != admin.ID ||
		details(t, e)["email"] != "ayse@kasa.test" || details(t, e)["role"] != "viewer" {
		t.Errorf("create: %+v %s", e, e.Details)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "AYSE@kasa.test", PasswordHash: "x", Role: store.RoleViewer, CreatedBy: admin.ID}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate email: %v", err)
	}
	if n := auditCount(t, st, "user.create", ""); n != 1 {
		t.Errorf("%d user.create entries after a duplicate email; want 1", n)
	}

	noErr(t, st.SetUserRole(ctx, admin.ID, u.ID, store.RoleOperator))
	if e := lastAudit(t, st, subject); e.Action != "user.role" || e.UserID.Int64 != admin.ID ||
		details(t, e)["from"] != "viewer" || details(t, e)["to"] != "operator" {
		t.Errorf("role: %+v %s", e, e.Details)
	}
	noErr(t, st.SetUserDisabled(ctx, admin.ID, u.ID, true))
	if e := lastAudit(t, st, subject); e.Action != "user.disable" || e.UserID.Int64 != admin.ID {
		t.Errorf("disable: %+v", e)
	}
	noErr(t, st.SetUserDisabled(ctx, admin.ID, u.ID, false))
	if e := lastAudit(t, st, subject); e.Action != "user.enable" || e.UserID.Int64 != admin.ID {
		t.Errorf("enable: %+v", e)
	}
	noErr(t, st.ResetPassword(ctx, admin.ID, u.ID, "temp"))
	if e := lastAudit(t, st, subject); e.Action != "user.reset_password" || e.UserID.Int64 != admin.ID {
		t.Errorf("reset: %+v", e)
	}
	noErr(t, st.ChangePassword(ctx, u.ID, "mine", nil))
	if e := lastAudit(t, st, subject); e.Action != "user.change_password" || e.UserID.Int64 != u.ID {
		t.Errorf("change password: %+v", e)
	}

	// Refused changes: the last admin guard, and a user that does not exist.
	before := auditCount(t, st, "user.role", "") + auditCount(t, st, "user.disable", "")
	if err := st.SetUserRole(ctx, admin.ID, admin.ID, store.RoleViewer); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if err := st.SetUserDisabled(ctx, admin.ID, admin.ID, true); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if after := auditCount(t, st, "user.role", "") + auditCount(t, st, "user.disable", ""); after != before {
		t.Errorf("refused changes were audited: %d entries, want %d", after, before)
	}
	const missing = 999999
	for name, err := range map[string]error{
		"role":            st.SetUserRole(ctx, admin.ID, missing, store.RoleViewer),
		"enable":          st.SetUserDisabled(ctx, admin.ID, missing, false),
		"reset":           st.ResetPassword(ctx, admin.ID, missing, "x"),
		"change password": st.ChangePassword(ctx, missing, "x", nil),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a missing user: %v", name, err)
		}
	}
	if trail, err := st.AuditTrail(ctx, store.UserSubject(missing), 10); err != nil || len(trail) != 0 {
		t.Errorf("changes to a missing user were audited: %v, %v", trail, err)
	}
}

// TestUserChangeIsUndoneWhenItsAuditFails: a change whose audit entry cannot
// be written does not happen.
func TestUserChangeIsUndoneWhenItsAuditFails(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@kasa.test", PasswordHash: "old", Role: store.RoleAdmin})
	noErr(t, err)
	u, err := st.CreateUser(ctx, store.NewUser{Email: "can@kasa.test", PasswordHash: "old", Role: store.RoleViewer})
	noErr(t, err)

	// An actor that is no user breaks the audit log's foreign key.
	const ghost = 999999
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "ghost@kasa.test", PasswordHash: "x", Role: store.RoleViewer, CreatedBy: ghost}); err == nil {
		t.Fatal("create audited by no user succeeded")
	}
	if _, err := st.UserByEmail(ctx, "ghost@kasa.test"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the user stayed without its audit entry: %v", err)
	}
	if err := st.SetUserRole(ctx, ghost, u.ID, store.RoleAdmin); err == nil {
		t.Fatal("role change audited by no user succeeded")
	}

	failAudits(t, st)
	for name, err := range map[string]error{
		"role":            st.SetUserRole(ctx, admin.ID, u.ID, store.RoleOperator),
		"disable":         st.SetUserDisabled(ctx, admin.ID, u.ID, true),
		"reset":           st.ResetPassword(ctx, admin.ID, u.ID, "reset"),
		"change password": st.ChangePassword(ctx, u.ID, "mine", nil),
	} {
		if err == nil {
			t.Errorf("%s succeeded without its audit entry", name)
		}
	}
	got, err := st.UserByID(ctx, u.ID)
	noErr(t, err)
	if got.Role != store.RoleViewer || !got.Active() || got.PasswordHash != "old" || got.MustChangePassword {
		t.Errorf("changes stayed without their audit entries: %+v", got)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "new@kasa.test", PasswordHash: "x", Role: store.RoleViewer, CreatedBy: admin.ID}); err == nil {
		t.Error("create succeeded without its audit entry")
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 2 {
		t.Errorf("%d users, %v; want the 2 created before", n, err)
	}
}

// TestFirstAdminIsUndoneWhenItsAuditFails: no admin exists without the
// record of the setup.
func TestFirstAdminIsUndoneWhenItsAuditFails(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	failAudits(t, st)
	if _, err := st.CreateFirstAdmin(ctx, store.NewUser{Email: "admin@kasa.test", PasswordHash: "x"}); err == nil {
		t.Fatal("setup succeeded without its audit entry")
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("%d users, %v; want none", n, err)
	}
}
