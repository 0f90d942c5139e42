// Package storetest gives each test its own migrated Postgres database. It
// uses TEST_DATABASE_URL when set; otherwise it starts a throwaway cluster
// for the test binary. The migrations run once into a template database and
// every test gets a clone (CREATE DATABASE … TEMPLATE), dropped at cleanup,
// so tests share no state and can run in parallel.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/lib/pq" // the Postgres driver

	"kasa/pglocal"
	"kasa/store"
)

var (
	once     sync.Once
	setupErr error
	adminURL string // a database on the server to run CREATE/DROP DATABASE from
	template string
	cluster  *pglocal.Cluster
	tmpDir   string
	// tempBase is the temporary folder as the package started: a test that
	// points TMPDIR at its own folder (removed when it ends) must not decide
	// where the shared cluster lives.
	tempBase = os.TempDir()
)

// Main runs the tests of a package, cleans up as Run does and exits. Call
// it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the tests of a package and then removes the template database
// and the throwaway cluster, returning the exit code, for a TestMain that
// has more to clean up.
func Run(m *testing.M) int {
	code := m.Run()
	// The tests have passed or failed by now; what is left behind is only
	// reported, for whoever looks after the shared database.
	var errs []error
	if template != "" {
		db, err := sql.Open("postgres", adminURL)
		if err == nil {
			_, err = db.Exec(`DROP DATABASE IF EXISTS ` + template)
			err = errors.Join(err, db.Close())
		}
		errs = append(errs, err)
	}
	errs = append(errs, cluster.Stop())
	if tmpDir != "" {
		errs = append(errs, os.RemoveAll(tmpDir))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "storetest: clean up:", err)
	}
	return code
}

func setup() {
	ctx := context.Background()
	adminURL = os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		dir, err := os.MkdirTemp(tempBase, "kasa-testpg-")
		if err != nil {
			setupErr = err
			return
		}
		tmpDir = dir
		// The cluster may run as the postgres user, who must reach the folder.
		if err := os.Chmod(dir, 0o755); err != nil {
			setupErr = err
			return
		}
		cluster, err = pglocal.StartThrowaway(ctx, filepath.Join(dir, "data"))
		if err != nil {
			setupErr = err
			return
		}
		adminURL = cluster.URL("postgres")
	}
	template = "kasa_tpl_" + randomName()
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		setupErr = err
		return
	}
	defer func() { setupErr = errors.Join(setupErr, admin.Close()) }()
	if _, err := admin.Exec(`CREATE DATABASE ` + template); err != nil {
		setupErr = fmt.Errorf("storetest: create template: %w", err)
		return
	}
	db, err := sql.Open("postgres", withDB(adminURL, template))
	if err != nil {
		setupErr = err
		return
	}
	setupErr = errors.Join(store.Migrate(ctx, db), db.Close())
}

// URL returns the URL of a fresh migrated database for t, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("storetest: %v", setupErr)
	}
	name := "kasa_t_" + randomName()
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, admin)
	if _, err := admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE ` + template); err != nil {
		t.Fatalf("storetest: clone template: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", adminURL)
		if err != nil {
			t.Errorf("storetest: drop database: %v", err)
			return
		}
		defer closeOrFail(t, admin)
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("storetest: drop database: %v", err)
		}
	})
	return withDB(adminURL, name)
}

// Keyring returns a keyring with one fresh key, for tests.
func Keyring(t testing.TB) *store.Keyring {
	t.Helper()
	k, err := store.ParseKeyring(store.NewKey("k1"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// New returns a Store over a fresh migrated database, closed when t ends.
func New(t testing.TB) *store.Store {
	t.Helper()
	return Open(t, URL(t))
}

// Open returns a Store over the database at url (from URL, or a second
// route to it), closed when t ends. Tests that run two instances of the
// product on one database open it twice.
func Open(t testing.TB, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, s) })
	return s
}

// closeOrFail closes c and fails the test when that fails.
func closeOrFail(t testing.TB, c io.Closer) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

func withDB(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
