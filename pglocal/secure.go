package pglocal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/lib/pq" // the Postgres driver, to set the password of an older cluster
)

// The product's cluster is closed to other local users (a password on every
// connection) and durable (checksums; fsync is set at start).

// PasswordFile is where the password of the postgres role of the cluster in
// dir is kept: beside the data directory (in DATA_DIR for `make run`), mode
// 0600, owned by the user who runs the product. Anyone who can read it can
// read every stored record, so it must not be copied around.
func PasswordFile(dir string) string { return filepath.Clean(dir) + ".password" }

// newPassword generates the postgres role's password and keeps it in
// PasswordFile, readable by its owner only. Hex, so it needs no escaping in
// a URL or in SQL.
func (c *Cluster) newPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("pglocal: generate password: %w", err)
	}
	pw := hex.EncodeToString(b)
	// A file left by a cluster folder that was removed is replaced: its
	// password opens nothing any more.
	f, err := os.OpenFile(PasswordFile(c.Dir), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("pglocal: keep password: %w", err)
	}
	werr := f.Chmod(0o600)
	if werr == nil {
		_, werr = f.WriteString(pw + "\n")
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("pglocal: keep password: %w", werr)
	}
	return pw, nil
}

// readOrNewPassword reads the kept password; a cluster made by an earlier
// version (trust authentication) has none yet and gets one.
func (c *Cluster) readOrNewPassword() (string, error) {
	b, err := os.ReadFile(PasswordFile(c.Dir))
	if errors.Is(err, os.ErrNotExist) {
		hba, herr := os.ReadFile(filepath.Join(c.Dir, "pg_hba.conf"))
		if herr != nil {
			return "", fmt.Errorf("pglocal: read pg_hba.conf: %w", herr)
		}
		if !trusts(string(hba)) {
			return "", fmt.Errorf("pglocal: the cluster in %s asks for a password, but %s is missing: restore it from a backup of that folder, or move the cluster away to start a new, empty one", c.Dir, PasswordFile(c.Dir))
		}
		return c.newPassword()
	}
	if err != nil {
		return "", fmt.Errorf("pglocal: read password: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("pglocal: %s is empty", PasswordFile(c.Dir))
	}
	return pw, nil
}

// hbaConf allows the postgres role in with its password only, over the
// socket and the loopback addresses.
const hbaConf = `# Written by Kasa's pglocal: every connection needs the password kept in
# the .password file next to this cluster's folder.
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
`

// secure converts a running cluster made with trust authentication (by an
// earlier version) to password authentication: it sets the kept password on
// the postgres role, then replaces pg_hba.conf and reloads it. A cluster
// already asking for passwords is left alone.
func (c *Cluster) secure(ctx context.Context) (err error) {
	if c.throwaway {
		return nil
	}
	hbaPath := filepath.Join(c.Dir, "pg_hba.conf")
	hba, err := os.ReadFile(hbaPath)
	if err != nil {
		return fmt.Errorf("pglocal: read pg_hba.conf: %w", err)
	}
	if !trusts(string(hba)) {
		return nil
	}
	db, err := sql.Open("postgres", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port))
	if err != nil {
		return fmt.Errorf("pglocal: set password: %w", err)
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	// The password is hex (see newPassword): safe as a literal.
	if _, err := db.ExecContext(ctx, `SET password_encryption = 'scram-sha-256'; ALTER ROLE postgres PASSWORD '`+c.password+`'`); err != nil {
		return fmt.Errorf("pglocal: set password: %w", err)
	}
	// Writing in place keeps the file's owner (postgres when we are root).
	if err := os.WriteFile(hbaPath, []byte(hbaConf), 0o600); err != nil {
		return fmt.Errorf("pglocal: write pg_hba.conf: %w", err)
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_reload_conf()`); err != nil {
		return fmt.Errorf("pglocal: reload pg_hba.conf: %w", err)
	}
	return nil
}

// trusts reports whether a pg_hba.conf lets anyone in without a password.
func trusts(hba string) bool {
	for _, line := range strings.Split(hba, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == "trust" {
			return true
		}
	}
	return false
}

// enableChecksums turns data checksums on in a stopped cluster made without
// them (by an earlier version), so that a corrupted page is reported instead
// of read as data. It rewrites every file once; a small local cluster takes
// seconds.
func (c *Cluster) enableChecksums(ctx context.Context) error {
	out, err := c.run(ctx, "pg_controldata", "-D", c.Dir)
	if err != nil {
		return fmt.Errorf("pglocal: pg_controldata: %w: %s", err, out)
	}
	if !checksumsOff(out) {
		return nil
	}
	if out, err := c.run(ctx, "pg_checksums", "--enable", "-D", c.Dir); err != nil {
		return fmt.Errorf("pglocal: enable data checksums: %w: %s", err, out)
	}
	return nil
}

// checksumsOff reads pg_controldata's "Data page checksum version: 0".
func checksumsOff(controldata string) bool {
	for _, line := range strings.Split(controldata, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Data page checksum version" {
			return strings.TrimSpace(v) == "0"
		}
	}
	return false
}
