package pglocal

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// clusterDir is a folder for a cluster that the postgres OS user can reach
// when the tests run as root.
func clusterDir(t *testing.T) string {
	t.Helper()
	// Not t.TempDir: its parent folder is private to the test's user.
	parent, err := os.MkdirTemp("", "kasa-pglocal-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(parent); err != nil {
			t.Error(err)
		}
	})
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(parent, "pg")
}

func startOrFatal(t *testing.T, start func(context.Context, string) (*Cluster, error), dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

// show reads a server setting through url.
func show(t *testing.T, url, setting string) string {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, db)
	var v string
	if err := db.QueryRow(`SHOW ` + setting).Scan(&v); err != nil {
		t.Fatalf("SHOW %s: %v", setting, err)
	}
	return v
}

// assertClosedAndDurable checks what the product's cluster promises: no
// connection without the password (TCP or socket), the password kept for the
// owner only, fsync and data checksums on.
func assertClosedAndDurable(t *testing.T, c *Cluster) {
	t.Helper()
	for name, url := range map[string]string{
		"tcp":    fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port),
		"socket": fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", c.Dir, c.Port),
	} {
		db, err := sql.Open("postgres", url)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Ping()
		closeOrFail(t, db)
		if err == nil {
			t.Errorf("%s: a connection without the password was let in", name)
		}
	}
	info, err := os.Stat(PasswordFile(c.Dir))
	if err != nil {
		t.Fatalf("password file: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", info.Mode().Perm())
	}
	url := c.URL("postgres")
	if got := show(t, url, "fsync"); got != "on" {
		t.Errorf("fsync = %s, want on", got)
	}
	if got := show(t, url, "data_checksums"); got != "on" {
		t.Errorf("data_checksums = %s, want on", got)
	}
}

func TestProductClusterAsksForAPasswordAndIsDurable(t *testing.T) {
	t.Parallel()
	c := startOrFatal(t, Start, clusterDir(t))
	assertClosedAndDurable(t, c)
}

// A cluster made by an earlier version (trust, no checksums, run with fsync
// off) is converted when the product starts on it, and keeps its data.
func TestOlderTrustClusterIsClosedOnStart(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	old := startOrFatal(t, StartThrowaway, dir)
	if got := show(t, old.URL("postgres"), "fsync"); got != "off" {
		t.Fatalf("a throwaway cluster runs with fsync = %s, want off", got)
	}
	db, err := sql.Open("postgres", old.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('finance')`); err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, db)
	if err := old.Stop(); err != nil {
		t.Fatal(err)
	}

	c := startOrFatal(t, Start, dir)
	assertClosedAndDurable(t, c)
	db, err = sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, db)
	var v string
	if err := db.QueryRow(`SELECT v FROM kept`).Scan(&v); err != nil || v != "finance" {
		t.Fatalf("the data did not survive the conversion: %q %v", v, err)
	}
}
