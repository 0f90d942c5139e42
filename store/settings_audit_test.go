package store_test

import (
	"context"
	"testing"

	"kasa/store"
	"kasa/store/storetest"
)

// TestSettingsChangesWriteTheirAuditEntry: an admin's settings change stores
// the values, drops the changed providers' tokens and names the keys (never
// the values) in one transaction.
func TestSettingsChangesWriteTheirAuditEntry(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@kasa.test", PasswordHash: "x", Role: store.RoleAdmin})
	noErr(t, err)
	tokens := func() (finrota, garanti int) {
		t.Helper()
		noErr(t, st.DB().GetContext(ctx, &finrota, `SELECT count(*) FROM provider_tokens WHERE key LIKE 'finrota%'`))
		noErr(t, st.DB().GetContext(ctx, &garanti, `SELECT count(*) FROM provider_tokens WHERE key LIKE 'garanti%'`))
		return
	}
	noErr(t, execSQL(ctx, st, `INSERT INTO provider_tokens (key) VALUES ('finrota'), ('finrota:1'), ('garanti')`))

	noErr(t, st.UpdateSettings(ctx, admin.ID, nil))
	if n := auditCount(t, st, "settings.update", ""); n != 0 {
		t.Errorf("no change audited %d times", n)
	}
	noErr(t, st.UpdateSettings(ctx, admin.ID, map[string]string{"finrota.secret_key": "TOP-SECRET", "finrota.base_url": "https://f.example"}))
	e := lastAudit(t, st, "settings")
	if e.Action != "settings.update" || e.UserID.Int64 != admin.ID || string(e.Details) != `{"keys": ["finrota.base_url", "finrota.secret_key"]}` {
		t.Errorf("update: %+v %s", e, e.Details)
	}
	if f, g := tokens(); f != 0 || g != 1 {
		t.Errorf("tokens after a finrota change: finrota %d, garanti %d; want 0, 1", f, g)
	}
	settings, err := st.Settings(ctx)
	noErr(t, err)
	if settings["finrota.secret_key"] != "TOP-SECRET" || settings["finrota.base_url"] != "https://f.example" {
		t.Errorf("settings %v", settings)
	}

	noErr(t, st.ChangeSettings(ctx, map[string]string{"garanti.client_id": "cid"},
		store.AuditRecord{By: admin.ID, Action: "garanti.credentials", Subject: "settings", Details: map[string]any{"clientId": "cid"}}))
	if e := lastAudit(t, st, "settings"); e.Action != "garanti.credentials" || e.UserID.Int64 != admin.ID || details(t, e)["clientId"] != "cid" {
		t.Errorf("change: %+v %s", e, e.Details)
	}

	// A change that fails (its author is no user) leaves no entry.
	before := auditCount(t, st, "garanti.credentials", "")
	if err := st.ChangeSettings(ctx, map[string]string{"garanti.client_id": "other"},
		store.AuditRecord{By: 999999, Action: "garanti.credentials", Subject: "settings"}); err == nil {
		t.Fatal("a change by no user succeeded")
	}
	if n := auditCount(t, st, "garanti.credentials", ""); n != before {
		t.Errorf("a failed change was audited: %d entries, want %d", n, before)
	}
}

// TestSettingsChangeIsUndoneWhenItsAuditFails: neither the values nor the
// dropped tokens stay when the audit entry cannot be written.
func TestSettingsChangeIsUndoneWhenItsAuditFails(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@kasa.test", PasswordHash: "x", Role: store.RoleAdmin})
	noErr(t, err)
	noErr(t, st.PutSettings(ctx, 0, map[string]string{"finrota.base_url": "https://old.example", "garanti.client_id": "old"}))
	noErr(t, execSQL(ctx, st, `INSERT INTO provider_tokens (key) VALUES ('finrota')`))
	failAudits(t, st)

	if err := st.UpdateSettings(ctx, admin.ID, map[string]string{"finrota.base_url": "https://new.example"}); err == nil {
		t.Error("update succeeded without its audit entry")
	}
	if err := st.ChangeSettings(ctx, map[string]string{"garanti.client_id": "new"},
		store.AuditRecord{By: admin.ID, Action: "garanti.register", Subject: "settings"}); err == nil {
		t.Error("change succeeded without its audit entry")
	}
	settings, err := st.Settings(ctx)
	noErr(t, err)
	if settings["finrota.base_url"] != "https://old.example" || settings["garanti.client_id"] != "old" {
		t.Errorf("settings changed without their audit entry: %v", settings)
	}
	var n int
	noErr(t, st.DB().GetContext(ctx, &n, `SELECT count(*) FROM provider_tokens WHERE key = 'finrota'`))
	if n != 1 {
		t.Error("the token was dropped by a change that did not happen")
	}
}
