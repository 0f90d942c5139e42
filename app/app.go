// Package app assembles the product's parts that do work: the areas over
// one store and connector, their River workers and schedules, and the job
// engine that runs them. cmd/web and the tests that run the whole product
// build it the same way, through New, so no registration is written twice.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"kasa/connect"
	"kasa/consents"
	"kasa/debts"
	"kasa/hgs"
	"kasa/movements"
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
	// Debts is the Finrota CAT debts area.
	Debts *debts.Service
	// Consents is the Garanti consent area: the registration's consents,
	// their approval, tokens and withdrawals.
	Consents *consents.Service
	// HGS is the HGS toll area: tags and passages synced under the consents.
	HGS *hgs.Service
	// Movements is the VakıfBank area: accounts, movements, their syncs.
	Movements *movements.Service

	deps     Deps
	workers  *queue.Workers
	periodic []*river.PeriodicJob
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
	a.Debts = debts.New(debts.Deps{Store: d.Store, Jobs: ins, Connect: d.Connect, Now: d.Now, Logger: d.Logger})
	a.periodic = append(a.periodic, a.Debts.AddWorkers(a.workers)...)
	// An activated consent starts its first HGS sync: consents calls back
	// into hgs, which imports consents, so the hook is wired here.
	a.Consents = consents.New(consents.Deps{Store: d.Store, Jobs: ins, Conn: d.Connect, Now: d.Now, Logger: d.Logger,
		Activated: func(ctx context.Context, id int64) error { return a.HGS.Schedule(ctx, id) }})
	a.HGS = hgs.New(hgs.Deps{Store: d.Store, Jobs: ins, Consents: a.Consents, Now: d.Now, Logger: d.Logger})
	a.periodic = append(a.periodic, a.Consents.AddWorkers(a.workers)...)
	a.periodic = append(a.periodic, a.HGS.AddWorkers(a.workers)...)
	a.Movements = movements.New(movements.Deps{Store: d.Store, Jobs: ins, Connect: d.Connect, Now: d.Now})
	a.periodic = append(a.periodic, a.Movements.AddWorkers(a.workers)...)
	return a, nil
}

// WorkOptions configure how this instance works jobs.
type WorkOptions struct {
	queue.Options
	// Scheduled starts the periodic jobs; tests that insert what they need
	// leave it off.
	Scheduled bool
}

// Start works every job kind until the returned worker is stopped.
func (a *App) Start(ctx context.Context, o WorkOptions) (*queue.Worker, error) {
	if o.Scheduled {
		o.Periodic = a.periodic
	}
	if o.Logger == nil {
		o.Logger = a.deps.Logger
	}
	return queue.Start(ctx, a.deps.Store.DB().DB, a.workers, o.Options)
}
