package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"kasa/store"
)

// config is read from the environment only here.
type config struct {
	Addr            string        `env:"ADDR" envDefault:"127.0.0.1:8080"`
	PublicURL       string        `env:"PUBLIC_URL"`
	DatabaseURL     string        `env:"DATABASE_URL"`
	DataDir         string        `env:"DATA_DIR" envDefault:".data"`
	EncryptionKeys  string        `env:"APP_ENCRYPTION_KEYS"`
	SessionKeys     string        `env:"SESSION_KEYS"`
	AdminEmail      string        `env:"ADMIN_EMAIL"`
	AdminPassword   string        `env:"ADMIN_PASSWORD"`
	Sandbox         string        `env:"SANDBOX" envDefault:"auto"`
	SandboxPort     string        `env:"SANDBOX_PORT"`
	SessionIdle     time.Duration `env:"SESSION_IDLE_TIMEOUT" envDefault:"1h"`
	SessionAbsolute time.Duration `env:"SESSION_ABSOLUTE_TIMEOUT" envDefault:"12h"`
	APILogRetention time.Duration `env:"APILOG_RETENTION" envDefault:"2160h"`
	JobWorkers      int           `env:"JOB_WORKERS" envDefault:"4"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"text"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
	TrustProxy      bool          `env:"TRUST_PROXY" envDefault:"false"`
	// MetricsAddr serves /metrics on a listener of its own; MetricsToken
	// serves it on the public listener to that bearer token. With neither,
	// the metrics are not served.
	MetricsAddr  string `env:"METRICS_ADDR"`
	MetricsToken string `env:"METRICS_TOKEN"`

	publicURL *url.URL
	// sandboxBase is the first of the fakes' three ports; 0 means random.
	sandboxBase int
}

// loadConfig reads the configuration from environ, the process's
// environment as a map (env.ToMap(os.Environ()) in main), so that tests can
// pass their own variables without changing the process's environment.
func loadConfig(environ map[string]string) (config, error) {
	var c config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	u, err := url.Parse(strings.TrimRight(c.PublicURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("PUBLIC_URL %q: want an absolute http(s) URL", c.PublicURL)
	}
	c.publicURL = u
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr {
		return c, fmt.Errorf("METRICS_ADDR %q: must differ from ADDR, or the metrics would be public", c.MetricsAddr)
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return c, errors.New("METRICS_TOKEN: use at least 16 random characters")
	}
	switch c.Sandbox {
	case "auto", "true", "false":
	default:
		return c, fmt.Errorf("SANDBOX %q: want auto, true or false", c.Sandbox)
	}
	if c.sandboxBase, err = sandboxBasePort(c.SandboxPort, c.Addr); err != nil {
		return c, err
	}
	return c, nil
}

// sandboxBasePort is the first of the three consecutive ports of the fakes
// (Finrota, Garanti BBVA, VakıfBank): SANDBOX_PORT when set, otherwise the
// ports right after ADDR's (8081–8083 for the default 8080), so that the
// fakes' pages keep their addresses across restarts. 0 means random ports,
// as does an ADDR with port 0.
func sandboxBasePort(setting, addr string) (int, error) {
	if setting != "" {
		p, err := strconv.Atoi(setting)
		if err != nil || p < 0 || p > 65533 {
			return 0, fmt.Errorf("SANDBOX_PORT %q: want a port from 1 to 65533 (it and the next two are used), or 0 for random ports", setting)
		}
		return p, nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("ADDR %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p+3 > 65535 {
		return 0, nil
	}
	return p + 1, nil
}

// keys returns the encryption keyring and the session keys. With the
// embedded database (a developer's or evaluator's machine) missing keys are
// generated once into the data directory; against a real database they must
// be given, because a key lost with a container would make every stored
// secret unreadable.
func (c config) keys() (*store.Keyring, [][]byte, error) {
	encSpec, sessSpec := c.EncryptionKeys, c.SessionKeys
	if c.DatabaseURL == "" {
		var err error
		if encSpec == "" {
			if encSpec, err = keyFile(filepath.Join(c.DataDir, "encryption.keys"), func() string { return store.NewKey("k1") }); err != nil {
				return nil, nil, err
			}
		}
		if sessSpec == "" {
			if sessSpec, err = keyFile(filepath.Join(c.DataDir, "session.keys"), randomKey); err != nil {
				return nil, nil, err
			}
		}
	}
	if encSpec == "" || sessSpec == "" {
		return nil, nil, errors.New("APP_ENCRYPTION_KEYS and SESSION_KEYS are required when DATABASE_URL is set")
	}
	ring, err := store.ParseKeyring(encSpec)
	if err != nil {
		return nil, nil, fmt.Errorf("APP_ENCRYPTION_KEYS: %w", err)
	}
	var sess [][]byte
	for _, k := range strings.Split(sessSpec, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) < 32 {
			return nil, nil, errors.New("SESSION_KEYS: each key must be at least 32 bytes in base64")
		}
		sess = append(sess, b)
	}
	return ring, sess, nil
}

func randomKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// keyFile reads a key file, creating it with gen() the first time.
func keyFile(path string, gen func() string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	k := gen()
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", err
	}
	return k, nil
}
