// Package pglocal runs a PostgreSQL cluster in a directory of the project
// from the server binaries installed on the machine, so that the product and
// its tests need no database set up by hand. When the process runs as root
// the cluster runs as the postgres OS user, because initdb refuses root.
//
// The product's cluster (Start) holds real finance data, so it is durable
// and closed: fsync on, data checksums on, and password (SCRAM)
// authentication for the postgres role with a generated password kept next
// to the cluster, readable by its owner only. Only the tests' throwaway
// clusters (StartThrowaway) trade that for speed: fsync off, no password.
package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cluster is a running local PostgreSQL cluster.
type Cluster struct {
	Dir       string // data directory
	Port      int
	bin       string
	owner     *user.User // nil when the cluster runs as the current user
	started   bool       // this process started it, so Stop stops it
	throwaway bool       // a test cluster: fsync off, trust authentication
	password  string     // the postgres role's password; "" for a throwaway cluster
}

// Start creates the cluster in dir if it does not exist yet and starts it,
// unless it is running already (another instance started it), in which case
// it is reused. The cluster is durable (fsync on, data checksums on) and asks
// for the password kept in PasswordFile(dir) on every connection, over TCP
// on 127.0.0.1 and over the socket in dir. A cluster made by an earlier
// version with trust authentication or without checksums is converted.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	return start(ctx, dir, false)
}

// StartThrowaway starts a cluster for tests, whose data is worthless when
// the test binary ends: fsync off and trust authentication, for speed. Never
// use it for data anyone wants to keep.
func StartThrowaway(ctx context.Context, dir string) (*Cluster, error) {
	return start(ctx, dir, true)
}

func start(ctx context.Context, dir string, throwaway bool) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin, throwaway: throwaway}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pglocal: running as root needs the postgres OS user: %w", err)
		}
		c.owner = u
	}
	if err := c.checkReachable(ctx); err != nil {
		return nil, err
	}
	fresh := false
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if !throwaway {
			if c.password, err = c.newPassword(); err != nil {
				return nil, err
			}
		}
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
		fresh = true
	} else if !throwaway {
		if c.password, err = c.readOrNewPassword(); err != nil {
			return nil, err
		}
	}
	if port, ok := c.runningPort(); ok {
		c.Port = port
		if err := c.waitReady(ctx); err != nil {
			return nil, err
		}
		return c, c.secure(ctx)
	}
	if !throwaway && !fresh {
		if err := c.enableChecksums(ctx); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.Port = port
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=200", port, dir)
	if throwaway {
		opts += " -c fsync=off"
	} else {
		// Explicit, so that a postgresql.conf edited by hand cannot turn
		// durability off for the product's data.
		opts += " -c fsync=on -c full_page_writes=on"
	}
	if _, err := c.run(ctx, "pg_ctl", "-D", dir, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("pglocal: start: %w (see %s)", err, filepath.Join(dir, "server.log"))
	}
	c.started = true
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	return c, c.secure(ctx)
}

// URL returns a connection URL for database name, with the password.
func (c *Cluster) URL(name string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: fmt.Sprintf("127.0.0.1:%d", c.Port),
		Path: "/" + name, RawQuery: "sslmode=disable"}
	if c.password != "" {
		u.User = url.UserPassword("postgres", c.password)
	}
	return u.String()
}

// Stop stops the cluster if this process started it and has not stopped
// it yet.
func (c *Cluster) Stop() error {
	if c == nil || !c.started {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pglocal: stop: %w: %s", err, out)
	}
	c.started = false
	return nil
}

func (c *Cluster) initdb(ctx context.Context) (retErr error) {
	// The parent must be reachable by the postgres user; the cluster's own
	// folder is private to it.
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if err := c.chown(c.Dir); err != nil {
		return err
	}
	args := []string{"-D", c.Dir, "-U", "postgres", "-E", "UTF8"}
	if c.throwaway {
		args = append(args, "--auth=trust", "--no-sync")
	} else {
		// initdb reads the password from a file the cluster's OS user can
		// read; it is removed as soon as initdb is done.
		pw, perr := os.CreateTemp("", "kasa-pwfile-")
		if perr != nil {
			return fmt.Errorf("pglocal: initdb: %w", perr)
		}
		// The file holds the password: failing to remove it is an error.
		defer func() {
			if rerr := os.Remove(pw.Name()); rerr != nil {
				retErr = errors.Join(retErr, fmt.Errorf("pglocal: remove password file: %w", rerr))
			}
		}()
		_, werr := pw.WriteString(c.password + "\n")
		if cerr := pw.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = c.chown(pw.Name())
		}
		if werr != nil {
			return fmt.Errorf("pglocal: initdb: password file: %w", werr)
		}
		args = append(args, "--auth=scram-sha-256", "--pwfile="+pw.Name(), "--data-checksums")
	}
	if hasLocale("C.utf8") {
		args = append(args, "--locale=C.UTF-8")
	} else {
		args = append(args, "--no-locale")
	}
	if out, err := c.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("pglocal: initdb: %w: %s", err, out)
	}
	return nil
}

// chown gives path to the cluster's OS user when that is not us.
func (c *Cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.owner.Uid)
	gid, _ := strconv.Atoi(c.owner.Gid)
	return os.Chown(path, uid, gid)
}

// runningPort reports the port of a server already running on Dir.
func (c *Cluster) runningPort() (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, _ := strconv.Atoi(strings.TrimSpace(lines[3]))
	if pid <= 0 || port <= 0 {
		return 0, false
	}
	if p, err := os.FindProcess(pid); err != nil || p.Signal(syscallZero) != nil {
		return 0, false
	}
	// After a reboot the pid may belong to another process: the server is
	// running only if its port answers. Otherwise pg_ctl start is right, and
	// postgres itself clears the stale lock file.
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return 0, false
	}
	_ = conn.Close() // a probe: only whether it connected matters
	return port, true
}

// ErrUnreachable means the postgres OS user cannot reach the data folder,
// typically because a parent folder is private (a clone under /root).
var ErrUnreachable = errors.New("pglocal: the postgres user cannot reach the data folder")

// checkReachable verifies, when the cluster runs as the postgres user, that
// it can reach the folder that holds the cluster.
func (c *Cluster) checkReachable(ctx context.Context) error {
	if c.owner == nil {
		return nil
	}
	parent := filepath.Dir(c.Dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	if err := exec.CommandContext(ctx, "runuser", "-u", "postgres", "--", "test", "-x", parent).Run(); err != nil {
		return fmt.Errorf("%w: %s", ErrUnreachable, parent)
	}
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port), time.Second)
		if err == nil {
			_ = conn.Close() // a probe: only whether it connected matters
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pglocal: server on port %d not reachable: %w", c.Port, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// run runs a server binary, as the postgres user when the process is root.
func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.owner != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = os.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl start leaves the postmaster running; it must not die with our
	// process group on Ctrl-C before we stop it cleanly.
	cmd.SysProcAttr = detached()
	err := cmd.Run()
	return out.String(), err
}

// findBin finds the directory of the newest installed server binaries.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	return "", errors.New("pglocal: no PostgreSQL server binaries found (install the postgresql package, or set DATABASE_URL)")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func hasLocale(name string) bool {
	out, err := exec.Command("locale", "-a").Output()
	if err != nil {
		return false
	}
	for _, l := range strings.Fields(string(out)) {
		if strings.EqualFold(l, name) {
			return true
		}
	}
	return false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	// The port is only free for the server once this listener lets it go.
	if err := l.Close(); err != nil {
		return 0, err
	}
	return port, nil
}
