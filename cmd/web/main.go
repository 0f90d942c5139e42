// Command web serves Kasa: it reads its configuration from the environment,
// starts a project-local PostgreSQL cluster when DATABASE_URL is unset,
// applies the migrations, starts the provider fakes in sandbox mode, runs the
// background jobs and serves the web UI until SIGINT or SIGTERM, then lets
// in-flight requests and jobs finish.
package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"
	_ "github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"kasa/app"
	"kasa/connect"
	"kasa/handlers"
	"kasa/i18n"
	"kasa/pglocal"
	"kasa/providers/apicall"
	"kasa/queue"
	"kasa/sandbox"
	"kasa/static"
	"kasa/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kasa:", err)
		os.Exit(1)
	}
}

func run() error {
	environ := env.ToMap(os.Environ())
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		dir := filepath.Join(cfg.DataDir, "pg")
		log.Info("starting the project-local PostgreSQL cluster", "dir", dir)
		cluster, err := pglocal.Start(ctx, dir)
		if errors.Is(err, pglocal.ErrUnreachable) {
			// As root in a private folder (a clone under /root) the postgres
			// user cannot reach .data: keep the cluster where it can.
			dir = fallbackClusterDir(dir)
			log.Warn("the postgres user cannot reach the data folder; using another", "dir", dir)
			cluster, err = pglocal.Start(ctx, dir)
		}
		if err != nil {
			return err
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				log.Error("stop PostgreSQL", "err", err)
			}
		}()
		log.Info("the local cluster asks for a password; psql needs it too", "password_file", pglocal.PasswordFile(cluster.Dir), "port", cluster.Port)
		if err := createDatabase(ctx, cluster.URL("postgres"), "kasa"); err != nil {
			return err
		}
		dbURL = cluster.URL("kasa")
	}
	ring, sessionKeys, err := cfg.keys()
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, dbURL, ring)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close the database", "err", err)
		}
	}()
	if err := store.Migrate(ctx, st.DB().DB); err != nil {
		return err
	}
	if err := seedSettings(ctx, st, environ); err != nil {
		return err
	}
	if err := createFirstAdmin(ctx, st, cfg, log); err != nil {
		return err
	}
	inSandbox, err := sandboxMode(ctx, st, cfg.Sandbox)
	if err != nil {
		return err
	}
	sessions, err := st.Sessions(store.SessionConfig{
		Keys: sessionKeys, Secure: cfg.publicURL.Scheme == "https",
		Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute,
	})
	if err != nil {
		return err
	}

	metrics := handlers.NewMetrics()
	var sandboxLinks []handlers.SandboxLink
	if inSandbox {
		// The fakes are started and the settings pointed at them before
		// anything reads the settings: from here on the product cannot tell
		// the fakes from the real providers.
		sb, err := sandbox.Start(ctx, st, sandbox.Options{BasePort: cfg.sandboxBase})
		if err != nil {
			return err
		}
		defer func() {
			if err := sb.Close(); err != nil {
				log.Warn("stop the sandbox fakes", "err", err)
			}
		}()
		for _, m := range sb.Moved {
			log.Warn("sandbox: a fake's stable port is taken; its pages have a new address until the port is free", "fake", m)
		}
		for _, l := range sb.Links() {
			sandboxLinks = append(sandboxLinks, handlers.SandboxLink{Key: l.Key, Label: l.Label, URL: l.URL})
		}
		log.Warn("sandbox mode: the providers are local fakes", "finrota", sb.FinrotaURL, "garanti", sb.GarantiURL, "vakifbank", sb.VakifBankURL)
	}
	providerHTTP := &http.Client{
		Timeout:   60 * time.Second,
		Transport: &apicall.Transport{Recorder: handlers.CallRecorder(st, metrics, log.Error)},
	}
	conn := connect.New(st, providerHTTP, cfg.publicURL.String())

	kasa, err := app.New(app.Deps{Store: st, Sessions: sessions, Connect: conn, Logger: log, APILogRetention: cfg.APILogRetention})
	if err != nil {
		return err
	}
	work, err := kasa.Start(ctx, app.WorkOptions{
		Options:   queue.Options{Workers: cfg.JobWorkers, ListenURL: dbURL, Logger: log},
		Scheduled: true,
	})
	if err != nil {
		return err
	}

	h := handlers.New(handlers.Config{
		PublicURL:    cfg.publicURL,
		TrustProxy:   cfg.TrustProxy,
		MetricsToken: cfg.MetricsToken,
		Sandbox:      inSandbox,
		SandboxLinks: sandboxLinks,
	}, handlers.Deps{
		Store: st, Sessions: sessions, Assets: static.New(), Metrics: metrics, Logger: log,
		Connect: conn, App: kasa,
	})

	if cfg.MetricsAddr != "" {
		ms, err := startMetrics(cfg.MetricsAddr, h.MetricsHandler(), log)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ms.shutdown(ctx); err != nil {
				log.Error("metrics shutdown", "err", err)
			}
		}()
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	stopWork := func() {
		stopJobs()
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := work.Stop(ctx); err != nil {
			log.Error("stop jobs", "err", err)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(5 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-jobsCtx.Done():
				return
			case <-t.C:
				h.Sweep()
			}
		}
	})

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "public_url", cfg.publicURL.String(), "sandbox", inSandbox)

	select {
	case err := <-serveErr:
		stopWork()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and jobs")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("http shutdown", "err", err)
	}
	stopWork()
	log.Info("stopped")
	return nil
}

func newLogger(cfg config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// createDatabase creates database name on the local cluster the first time.
func createDatabase(ctx context.Context, adminURL, name string) (err error) {
	db, err := sql.Open("postgres", adminURL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("check database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		var again bool
		if qerr := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&again); qerr == nil && again {
			return nil // another instance created it meanwhile
		}
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// seedSettings stores the provider settings given in the environment that
// have no stored value yet, after the Settings page's own checks. environ
// is the process's environment as a map, as for loadConfig.
func seedSettings(ctx context.Context, st *store.Store, environ map[string]string) error {
	values := map[string]string{}
	for _, g := range handlers.SettingGroups {
		for _, f := range g.Fields {
			if v := environ[handlers.EnvName(f.Key)]; v != "" {
				values[f.Key] = v
			}
		}
	}
	values, err := handlers.CheckSeededSettings(values)
	if err != nil {
		return err
	}
	return st.SeedSettings(ctx, values)
}

// createFirstAdmin creates the admin from ADMIN_EMAIL and ADMIN_PASSWORD
// while there is no user; without them the setup page does it. The setup
// form's rules apply: a value the form would refuse stops the start with a
// message, rather than leaving a weak administrator behind. Once a user
// exists the variables are ignored, so an old value cannot block a restart.
func createFirstAdmin(ctx context.Context, st *store.Store, cfg config, log *slog.Logger) error {
	if cfg.AdminEmail == "" && cfg.AdminPassword == "" {
		return nil
	}
	n, err := st.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("first administrator: %w", err)
	}
	if n > 0 {
		return nil
	}
	if cfg.AdminEmail == "" || cfg.AdminPassword == "" {
		return errors.New("first administrator: set both ADMIN_EMAIL and ADMIN_PASSWORD, or neither and use the setup page")
	}
	if err := handlers.CheckFirstAdmin(cfg.AdminEmail, cfg.AdminPassword); err != nil {
		return fmt.Errorf("first administrator not created: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(cfg.AdminPassword), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("ADMIN_PASSWORD: %w", err)
	}
	_, err = st.CreateFirstAdmin(ctx, store.NewUser{Email: cfg.AdminEmail, Name: "Admin", PasswordHash: string(hash), Language: string(i18n.TR)})
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil
	case err != nil:
		return err
	}
	log.Info("created the first administrator", "email", cfg.AdminEmail)
	return nil
}

// sandboxMode decides whether the fakes stand in for the providers: forced
// by SANDBOX=true/false, otherwise on when no provider has a base URL but
// the ones an earlier sandbox start wrote.
func sandboxMode(ctx context.Context, st *store.Store, mode string) (bool, error) {
	switch mode {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	settings, err := st.Settings(ctx)
	if err != nil {
		return false, err
	}
	return !sandbox.RealProviders(settings), nil
}

// fallbackClusterDir is a cluster folder the postgres user can reach, one
// per project folder so that two checkouts do not share a database.
func fallbackClusterDir(dir string) string {
	abs, _ := filepath.Abs(dir)
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join("/var/lib/kasa", hex.EncodeToString(sum[:6]), "pg")
}
