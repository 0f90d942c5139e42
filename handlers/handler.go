// Package handlers serves the product over HTTP: one Handler built by New,
// every route in routes.go, middleware composed by hand, one file per area.
// Handlers check roles themselves; views only decide what to show.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"kasa/app"
	"kasa/connect"
	"kasa/static"
	"kasa/store"
	"kasa/views"
)

// Config is what the handlers need to know about the deployment.
type Config struct {
	PublicURL *url.URL // external base URL: redirects and the Secure cookie flag
	Sandbox   bool     // providers are the local fakes
	// SandboxLinks are the fakes' own pages (fault switches, sent
	// notifications), shown in the sandbox banner.
	SandboxLinks []SandboxLink
	// Login throttling, kept in Postgres so that it holds across
	// instances. Per client address a burst of LoginBurst attempts, then
	// one every LoginEvery. Per account (the email as typed, known or
	// not), after DelayAfter consecutive failures each attempt waits
	// DelayBase, doubled with each further failure up to DelayMax: an
	// attacker spreading guesses over many addresses slows the guessing
	// but cannot keep the owner out. Per account and address, LockAfter
	// failures lock that pair for LockFor, the right password included.
	LoginBurst int
	LoginEvery time.Duration
	DelayAfter int
	DelayBase  time.Duration
	DelayMax   time.Duration
	LockAfter  int
	LockFor    time.Duration
	// TrustProxy takes the client address from X-Forwarded-For, as set by
	// the reverse proxy in front of the product.
	TrustProxy bool
	// MetricsToken, when set, lets a scraper read /metrics on the public
	// listener with "Authorization: Bearer <token>" (and is required on the
	// metrics listener too). Unset, /metrics is not served on the public
	// listener at all: only MetricsHandler, on a listener of its own, serves
	// it.
	MetricsToken string
	// JobWait is how long a form waits for a queued provider write to finish
	// before it shows the record as pending.
	JobWait time.Duration
}

// Deps are the parts the handlers call.
type Deps struct {
	Store    *store.Store
	Sessions *store.SessionStore
	Assets   *static.Assets
	Metrics  *Metrics
	Logger   *slog.Logger
	// Connect builds provider clients from the current settings.
	Connect *connect.Connector
	// App holds the areas: each handler calls one area method.
	App *app.App
	Now func() time.Time
}

// Handler is the product's HTTP handler.
type Handler struct {
	cfg      Config
	store    *store.Store
	sessions *store.SessionStore
	assets   *static.Assets
	metrics  *Metrics
	log      *slog.Logger
	conn     *connect.Connector
	app      *app.App
	now      func() time.Time
	mux      *http.ServeMux
	root     http.Handler
	migrated atomic.Bool
	// uploads are the routes that take a file upload, with their body
	// limits (see uploadRoutes).
	uploads map[string]int64
	// dummyHash is the hash an unknown email's password is compared
	// against; made on first use, so that starting costs no bcrypt round.
	dummyHash func() ([]byte, error)
}

// New builds the handler and its routes.
func New(cfg Config, d Deps) *Handler {
	if cfg.LoginBurst == 0 {
		cfg.LoginBurst = 10
	}
	if cfg.LoginEvery == 0 {
		cfg.LoginEvery = 6 * time.Second
	}
	if cfg.DelayAfter == 0 {
		cfg.DelayAfter = 5
	}
	if cfg.DelayBase == 0 {
		cfg.DelayBase = 2 * time.Second
	}
	if cfg.DelayMax == 0 {
		cfg.DelayMax = time.Minute
	}
	if cfg.LockAfter == 0 {
		cfg.LockAfter = 5
	}
	if cfg.LockFor == 0 {
		cfg.LockFor = 15 * time.Minute
	}
	if cfg.JobWait == 0 {
		cfg.JobWait = 4 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	h := &Handler{
		cfg:       cfg,
		store:     d.Store,
		sessions:  d.Sessions,
		assets:    d.Assets,
		metrics:   d.Metrics,
		log:       d.Logger,
		conn:      d.Connect,
		app:       d.App,
		now:       d.Now,
		mux:       http.NewServeMux(),
		uploads:   uploadRoutes(),
		dummyHash: sync.OnceValues(newDummyHash),
	}
	h.routes()
	h.root = h.middleware(h.checkText(h.mux))
	return h
}

// ServeHTTP serves a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// Sweep forgets sign-in throttling state that has gone idle (addresses and
// failures untouched for a day whose lock has ended); call it periodically.
// Every instance may: the delete is idempotent.
func (h *Handler) Sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.store.DeleteStaleLoginThrottles(ctx, max(24*time.Hour, h.cfg.LockFor)); err != nil {
		h.log.Error("sweep sign-in throttling", "err", err)
	}
}

// ctxKey keys the request-scoped values the middleware adds.
type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyUser
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// currentUser returns the signed-in user, or nil.
func currentUser(ctx context.Context) *store.User {
	u, _ := ctx.Value(keyUser).(*store.User)
	return u
}

// SandboxLink is a fake provider's own page, linked from the sandbox banner.
type SandboxLink = views.Link
