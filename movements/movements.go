// Package movements is the VakıfBank area: the accounts whose movements the
// product keeps, the movements themselves (fetched from the bank,
// de-duplicated, with the bank's later corrections kept beside them), the
// planning of which days to fetch, the balance chain that shows what is
// missing, and the River workers that fetch (movements.sync) and keep every
// account up to date (movements.schedule, hourly).
//
// Each method a handler calls opens its own transaction and commits the
// change with its audit entry and its job (Service.Jobs.InsertTx); the
// small helpers beneath take an sqlx.ExtContext.
package movements

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"kasa/connect"
	"kasa/queue"
	"kasa/store"
)

// SyncEvery is how often every account is brought up to date.
const SyncEvery = time.Hour

// Overlap is how far before the last synced day an incremental sync
// starts again: movements the bank books late, with an earlier date, are
// caught, and the ones already stored are skipped.
const Overlap = 3 * 24 * time.Hour

// InitialSyncDays is the history a new account is synced with at once;
// pages fetch older periods when someone asks for them.
const InitialSyncDays = 30

// ShownFresh is how old the stored span may be for a period ending now to
// count as stored on the page: the hourly schedule brings every account up
// to date, so between two of its runs the page says how recent the data
// is instead of offering to fetch the last hour.
const ShownFresh = SyncEvery + 15*time.Minute

// fetchFresh is how recent the stored span must be for "fetch this
// period" to leave the end of a period ending now alone.
const fetchFresh = time.Minute

// JoinSlack is how far before the end asked for an open fetch may end and
// still be joined: two people asking for a period ending "now" a few
// seconds apart share one fetch.
const JoinSlack = 10 * time.Minute

// Errors of the area; compare with errors.Is.
var (
	// ErrNotFound means no account or sync run has that id.
	ErrNotFound = store.ErrNotFound
	// ErrSyncBusy means a sync of the account is already queued or running.
	ErrSyncBusy = errors.New("movements: a sync of the account is under way")
)

// Deps are what the area needs.
type Deps struct {
	// Store is the shared database handle (and audit).
	Store *store.Store
	// Jobs inserts the area's jobs in its transactions.
	Jobs *queue.Client
	// Connect builds the VakıfBank client from the current settings.
	Connect *connect.Connector
	// Now is the clock business days are decided by; default time.Now.
	Now func() time.Time
}

// Service is the movements area.
type Service struct {
	st   *store.Store
	db   *sqlx.DB
	jobs *queue.Client
	conn *connect.Connector
	now  func() time.Time
}

// New returns the area over d.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{st: d.Store, db: d.Store.DB(), jobs: d.Jobs, conn: d.Connect, now: d.Now}
}

// AddWorkers registers the area's River workers and returns its schedule:
// the incremental sync of every account, once per SyncEvery across all
// instances.
func (s *Service) AddWorkers(workers *queue.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &syncWorker{s: s})
	river.AddWorker(workers, &scheduleWorker{s: s})
	return []*river.PeriodicJob{queue.Every(SyncEvery, ScheduleArgs{})}
}

// inTx runs fn in one transaction of the area, committed when fn returns nil.
func (s *Service) inTx(ctx context.Context, op string, fn func(tx *sqlx.Tx) error) error {
	if err := s.st.InTx(ctx, fn); err != nil {
		return fmt.Errorf("movements: %s: %w", op, err)
	}
	return nil
}
