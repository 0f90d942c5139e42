// Package app assembles the product's parts that do work: the areas over
// one store and connector, their River workers and schedules, and the job
// engine that runs them. cmd/web and the tests that run the whole product
// build it the same way, through New, so no registration is written twice.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"kasa/connect"
	"kasa/consents"
	"kasa/hgs"
	"kasa/jobs"
	"kasa/queue"
	"kasa/store"
)

// Deps are what the areas need from the process.
type Deps struct {
	Store    *store.Store
	Sessions *store.SessionStore
	Connect  *connect.Connector
	Logger   *slog.Logger
	// APILogRetention is how long API call log entries are kept.
	APILogRetention time.Duration
	// Now is the clock the areas decide business dates by; default time.Now.
	Now func() time.Time
}

// App holds the areas and the job engine's registrations.
type App struct {
	// Jobs inserts and manages jobs; areas insert in their transactions.
	Jobs *queue.Client
	// Consents is the Garanti consent area: registration's consents, their
	// approval, tokens and withdrawals.
	Consents *consents.Service
	// HGS is the HGS toll area: tags and passages synced under the consents.
	HGS *hgs.Service

	deps     Deps
	workers  *queue.Workers
	periodic []*river.PeriodicJob

	// legacy are the job kinds not yet moved to River, run by the old runner.
	legacy          map[string]jobs.HandlerFunc
	legacySchedules []jobs.Schedule
}

// New builds the areas and registers their workers and schedules.
func New(d Deps) (*App, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	ins, err := queue.NewInserter(d.Store.DB().DB, d.Logger)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a := &App{Jobs: ins, deps: d, workers: queue.NewWorkers()}
	a.periodic = append(a.periodic, queue.Maintenance(a.workers, d.Store, d.Sessions, d.APILogRetention)...)
	a.Consents = consents.New(consents.Deps{Store: d.Store, Jobs: ins, Conn: d.Connect, Now: d.Now, Logger: d.Logger,
		Activated: func(ctx context.Context, id int64) error { return a.HGS.Schedule(ctx, id) }})
	a.HGS = hgs.New(hgs.Deps{Store: d.Store, Jobs: ins, Consents: a.Consents, Now: d.Now, Logger: d.Logger})
	a.periodic = append(a.periodic, a.Consents.AddWorkers(a.workers)...)
	a.periodic = append(a.periodic, a.HGS.AddWorkers(a.workers)...)

	a.legacy = map[string]jobs.HandlerFunc{}
	for _, area := range []func(*store.Store, *connect.Connector) (map[string]jobs.HandlerFunc, []jobs.Schedule){
		jobs.DebtJobs, jobs.MovementJobs,
	} {
		hs, ss := area(d.Store, d.Connect)
		for k, fn := range hs {
			a.legacy[k] = fn
		}
		a.legacySchedules = append(a.legacySchedules, ss...)
	}
	return a, nil
}

// WorkOptions configure how this instance works jobs.
type WorkOptions struct {
	queue.Options
	// Scheduled starts the periodic jobs; tests that insert what they need
	// leave it off.
	Scheduled bool
	// LegacyPoll is the old runner's poll interval; default 5s.
	LegacyPoll time.Duration
	// ShutdownGrace is how long in-flight jobs get at shutdown.
	ShutdownGrace time.Duration
}

// Running is this instance working jobs.
type Running struct {
	worker *queue.Worker
	runner *jobs.Runner
	cancel context.CancelFunc
	done   chan error
}

// Start works every job kind until Stop.
func (a *App) Start(ctx context.Context, o WorkOptions) (*Running, error) {
	if o.Scheduled {
		o.Periodic = a.periodic
	}
	if o.Logger == nil {
		o.Logger = a.deps.Logger
	}
	w, err := queue.Start(ctx, a.deps.Store.DB().DB, a.workers, o.Options)
	if err != nil {
		return nil, err
	}
	var schedules []jobs.Schedule
	if o.Scheduled {
		schedules = a.legacySchedules
	}
	r := &Running{worker: w, done: make(chan error, 1)}
	r.runner = jobs.NewRunner(a.deps.Store.DB(), a.legacy, jobs.Options{
		Workers: o.Workers, ListenURL: o.ListenURL, Schedules: schedules, Logger: o.Logger,
		ShutdownGrace: o.ShutdownGrace, PollInterval: o.LegacyPoll,
	})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	go func() { r.done <- r.runner.Run(runCtx) }()
	return r, nil
}

// Kick wakes the old runner's idle workers at once.
func (r *Running) Kick() { r.runner.Kick() }

// Stop lets in-flight jobs finish until ctx ends, then cancels them.
func (r *Running) Stop(ctx context.Context) error {
	r.cancel()
	err := r.worker.Stop(ctx)
	if rerr := <-r.done; rerr != nil && !errors.Is(rerr, context.Canceled) {
		err = errors.Join(err, rerr)
	}
	return err
}
