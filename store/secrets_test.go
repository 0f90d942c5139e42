package store_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kasa/eventually"
	"kasa/store"
	"kasa/store/storetest"
)

// pgDump finds a pg_dump, preferring the server's own version.
func pgDump(t *testing.T) string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(dirs) > 0 {
		return dirs[len(dirs)-1]
	}
	p, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Fatal("pg_dump not found: install the postgresql package")
	}
	return p
}

func TestSecretsAreUnreadableInADump(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	st, err := store.Open(context.Background(), url, storetest.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, st)
	ctx := context.Background()
	const clientSecret, apiSecret, token = "GARANTI-CLIENT-SECRET-4711", "finrota-secret-key-0815", "eyJhbGciOiJIUzI1NiJ9.access-token-xyz"
	if err := st.PutSettings(ctx, 0, map[string]string{"garanti.client_secret": clientSecret, "finrota.secret_key": apiSecret, "finrota.base_url": "https://prodtest_gw.finrota.com"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.RenewToken(ctx, "finrota", "", time.Minute, func(context.Context) (string, time.Time, error) {
		return token, time.Now().Add(time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	// The values read back in clear through the store…
	got, err := st.Settings(ctx)
	if err != nil || got["garanti.client_secret"] != clientSecret {
		t.Fatalf("settings read back %v, %v", got, err)
	}
	if v, _, _ := st.LoadToken(ctx, "finrota"); v != token {
		t.Fatalf("token read back %q", v)
	}
	// …but a dump of the database shows none of them.
	out, err := exec.Command(pgDump(t), "--data-only", "--inserts", url).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	dump := string(out)
	if !strings.Contains(dump, "provider_tokens") || !strings.Contains(dump, "garanti.client_secret") {
		t.Fatal("the dump does not contain the tables under test")
	}
	// BYTEA columns dump as hex, so a secret stored in clear would show as
	// its hex bytes: look for both forms.
	for _, secret := range []string{clientSecret, apiSecret, token, "access-token-xyz"} {
		if strings.Contains(dump, secret) || strings.Contains(dump, hex.EncodeToString([]byte(secret))) {
			t.Errorf("the dump contains %q in clear text", secret)
		}
	}
	// The search itself works: a value stored in clear is found.
	if _, err := st.DB().Exec(`INSERT INTO settings (key, value_enc) VALUES ('probe', convert_to('PLAIN-PROBE-VALUE', 'UTF8'))`); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(pgDump(t), "--data-only", "--inserts", url).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), hex.EncodeToString([]byte("PLAIN-PROBE-VALUE"))) {
		t.Fatal("a value stored in clear is not found in the dump: the check above cannot fail")
	}
}

func TestRenewTokenFetchesOnceAcrossRacingInstances(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	var fetches atomic.Int32
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // should the test fail early
	fetch := func(context.Context) (string, time.Time, error) {
		n := fetches.Add(1)
		if n == 1 {
			<-release // the provider is slow; the others must wait, not fetch
		}
		return "token-" + string(rune('0'+n)), time.Now().Add(time.Hour), nil
	}
	var wg sync.WaitGroup
	results := make([]string, 6)
	for i := range results {
		wg.Go(func() {
			v, _, err := st.RenewToken(ctx, "finrota", "", 5*time.Minute, fetch)
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		})
	}
	waitLockWaiters(t, st, len(results)-1)
	unblock()
	wg.Wait()
	if fetches.Load() != 1 {
		t.Fatalf("%d fetches, want 1", fetches.Load())
	}
	for _, r := range results {
		if r != "token-1" {
			t.Fatalf("results %v", results)
		}
	}
	// A 401 names the rejected token as stale: that forces a new one.
	v, _, err := st.RenewToken(ctx, "finrota", "token-1", 5*time.Minute, fetch)
	if err != nil || v != "token-2" {
		t.Fatalf("renew of a rejected token = %q, %v", v, err)
	}
	// A failed fetch keeps the old token and reports the error.
	boom := errors.New("provider down")
	if _, _, err := st.RenewToken(ctx, "finrota", "token-2", 5*time.Minute, func(context.Context) (string, time.Time, error) {
		return "", time.Time{}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failed fetch: %v", err)
	}
	if v, _, _ := st.LoadToken(ctx, "finrota"); v != "token-2" {
		t.Fatalf("after a failed renewal the token is %q", v)
	}
}

func TestRotateSecretsReencryptsUnderTheNewKey(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	ctx := context.Background()
	oldSpec := store.NewKey("old")
	oldRing, _ := store.ParseKeyring(oldSpec)
	st, _ := store.Open(ctx, url, oldRing)
	noErr(t, st.PutSettings(ctx, 0, map[string]string{"finrota.secret_key": "s3cret"}))
	if _, _, err := st.RenewToken(ctx, "vakifbank:c1", "", time.Minute, func(context.Context) (string, time.Time, error) {
		return "tok", time.Now().Add(time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, st)

	newSpec := store.NewKey("new")
	both, _ := store.ParseKeyring(newSpec + "," + oldSpec)
	st2, _ := store.Open(ctx, url, both)
	defer closeOrFail(t, st2)
	n, err := st2.RotateSecrets(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RotateSecrets = %d, %v; want 2", n, err)
	}
	// Now the old key can be retired.
	newOnly, _ := store.ParseKeyring(newSpec)
	st3, _ := store.Open(ctx, url, newOnly)
	defer closeOrFail(t, st3)
	if s, err := st3.Settings(ctx); err != nil || s["finrota.secret_key"] != "s3cret" {
		t.Fatalf("after rotation: %v, %v", s, err)
	}
	if v, _, err := st3.LoadToken(ctx, "vakifbank:c1"); err != nil || v != "tok" {
		t.Fatalf("token after rotation: %q, %v", v, err)
	}
}

func TestSeedSettingsKeepsSavedValues(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	noErr(t, st.PutSettings(ctx, 0, map[string]string{"finrota.base_url": "https://saved.example"}))
	noErr(t, st.SeedSettings(ctx, map[string]string{"finrota.base_url": "https://env.example", "finrota.api_key": "k"}))
	s, _ := st.Settings(ctx)
	if s["finrota.base_url"] != "https://saved.example" || s["finrota.api_key"] != "k" {
		t.Fatalf("settings %v", s)
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
