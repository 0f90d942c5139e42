package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"kasa/sandbox"
	"kasa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestSandboxModeFollowsTheConfiguredProviders(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	for mode, want := range map[string]bool{"true": true, "false": false, "auto": true} {
		if got, err := sandboxMode(ctx, st, mode); err != nil || got != want {
			t.Errorf("no provider configured, SANDBOX=%s: %v, %v", mode, got, err)
		}
	}
	// One real provider configured: auto means the real thing.
	if err := st.PutSettings(ctx, 0, map[string]string{"vakifbank.base_url": "https://apigw.vakifbank.com.tr:8443"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := sandboxMode(ctx, st, "auto"); got {
		t.Error("a configured provider still starts the sandbox")
	}
	if got, _ := sandboxMode(ctx, st, "true"); !got {
		t.Error("SANDBOX=true is not honoured")
	}
}

// TestSandboxModeSurvivesItsOwnSettings: the settings a sandbox start
// writes do not count as a configured provider, so the next start with
// SANDBOX=auto is in sandbox mode again.
func TestSandboxModeSurvivesItsOwnSettings(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, st, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Settings(ctx); s["finrota.base_url"] != sb.FinrotaURL {
		t.Fatalf("the sandbox did not write its settings: %q", s["finrota.base_url"])
	}
	if got, err := sandboxMode(ctx, st, "auto"); err != nil || !got {
		t.Fatalf("after a sandbox start, SANDBOX=auto: %v %v", got, err)
	}
}

func TestKeysAreGeneratedOnceWithTheLocalCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := config{DataDir: dir}
	ring, sess, err := c.keys()
	if err != nil || ring == nil || len(sess) != 1 {
		t.Fatalf("generated keys: %v %d %v", ring, len(sess), err)
	}
	for _, f := range []string{"encryption.keys", "session.keys"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, info, err)
		}
	}
	// A second start reads the same keys: what was encrypted stays readable.
	ring2, sess2, err := c.keys()
	if err != nil || ring2.CurrentKeyID() != ring.CurrentKeyID() || string(sess2[0]) != string(sess[0]) {
		t.Fatal("the second start made new keys")
	}
	sealed := ring.Encrypt([]byte("x"))
	if pt, err := ring2.Decrypt(sealed); err != nil || string(pt) != "x" {
		t.Fatal("the second start cannot read what the first encrypted")
	}
	// Against a real database the keys must be given.
	if _, _, err := (config{DataDir: dir, DatabaseURL: "postgres://db/kasa"}).keys(); err == nil {
		t.Fatal("keys were invented for a real database")
	}
}

func TestPublicURLDecidesTheConfig(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"ADDR": "127.0.0.1:9999", "PUBLIC_URL": ""}
	c, err := loadConfig(environ)
	if err != nil || c.publicURL.String() != "http://127.0.0.1:9999" {
		t.Fatalf("default public URL: %v %v", c.publicURL, err)
	}
	environ["PUBLIC_URL"] = "ftp://kasa.example"
	if _, err := loadConfig(environ); err == nil {
		t.Fatal("an ftp PUBLIC_URL was accepted")
	}
	environ["PUBLIC_URL"] = "https://kasa.example/"
	environ["SANDBOX"] = "maybe"
	if _, err := loadConfig(environ); err == nil {
		t.Fatal("SANDBOX=maybe was accepted")
	}
}

// TestConfigIsReadFromTheGivenEnvironment shows that loadConfig reads the
// map it is given and not the process's environment, which is what lets
// the configuration tests run in parallel.
func TestConfigIsReadFromTheGivenEnvironment(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(map[string]string{"ADDR": "127.0.0.1:7777", "JOB_WORKERS": "9"})
	if err != nil || c.Addr != "127.0.0.1:7777" || c.JobWorkers != 9 || c.publicURL.String() != "http://127.0.0.1:7777" {
		t.Fatalf("config %+v, %v", c, err)
	}
	c, err = loadConfig(map[string]string{})
	if err != nil || c.Addr != "127.0.0.1:8080" || c.JobWorkers != 4 {
		t.Fatalf("defaults %+v, %v", c, err)
	}
}
