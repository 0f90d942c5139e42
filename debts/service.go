// Package debts is the Finrota CAT debts area: saving a debt through the
// outbox (the debt, its audit entry and its delivery job commit together),
// the delivery, the sync of Finrota's list into the mirror, the check of one
// debt against Finrota, and the overdue notifications. Its record types,
// its SQL (the debts, their references, syncs and notifications, and the
// reads of its pages) and its River workers live here; handlers call one
// Service method per action.
package debts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"kasa/connect"
	"kasa/queue"
	"kasa/store"
	"kasa/tz"
)

// Deps are what the area needs, passed explicitly.
type Deps struct {
	// Store holds the database and the shared tables (settings, audit).
	Store *store.Store
	// Jobs inserts the area's jobs in its transactions.
	Jobs *queue.Client
	// Connect opens the Finrota client from the settings.
	Connect *connect.Connector
	// Now is the clock business days are decided by; default time.Now.
	Now func() time.Time
	// Logger receives what a worker cannot return; default slog.Default().
	Logger *slog.Logger
}

// Service is the debts area.
type Service struct {
	st   *store.Store
	jobs *queue.Client
	conn *connect.Connector
	now  func() time.Time
	log  *slog.Logger
}

// New returns the area over d.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Service{st: d.Store, jobs: d.Jobs, conn: d.Connect, now: d.Now, log: d.Logger}
}

// Errors the area's methods return; compare with errors.Is.
var (
	// ErrDuplicate means the day's overdue notification was already
	// requested and the new request is not forced.
	ErrDuplicate = errors.New("debts: overdue notifications already requested today")
)

// AddWorkers registers the area's workers in workers and returns its
// schedules: the mirror is synced hourly; the daily notification runs at
// 03:00 Istanbul (and at start), once per Istanbul day, when an operator
// switched it on.
func (s *Service) AddWorkers(workers *queue.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &deliverWorker{s: s})
	river.AddWorker(workers, &syncWorker{s: s})
	river.AddWorker(workers, &notifyWorker{s: s})
	river.AddWorker(workers, &notifyDailyWorker{s: s})
	return []*river.PeriodicJob{
		queue.Every(time.Hour, SyncArgs{}),
		river.NewPeriodicJob(dailyAt{hour: 3}, s.DailyNotifyJob, &river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// inTx runs fn in one transaction, committed when fn returns nil.
func (s *Service) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return s.st.InTx(ctx, fn)
}

// anyState makes a unique job unique across every state, finished ones too:
// an intent is delivered once, a day's notification sent once.
var anyState = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// insert inserts a job through tx and returns its id; a unique job that
// already exists returns ErrDuplicate-wrapped dup.
func (s *Service) insert(ctx context.Context, tx *sqlx.Tx, args river.JobArgs, opts *river.InsertOpts, dup error) (int64, error) {
	res, err := s.jobs.InsertTx(ctx, tx.Tx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("debts: queue %s: %w", args.Kind(), err)
	}
	if res.UniqueSkippedAsDuplicate {
		return 0, dup
	}
	return res.Job.ID, nil
}

// Wait waits until job id has an outcome to show (see queue.Settled) or
// ctx ends; the caller reads the outcome from the area's tables either way.
func (s *Service) Wait(ctx context.Context, id int64) error {
	_, err := queue.WaitSettled(ctx, s.jobs, id)
	return err
}

// dailyAt is a schedule once a day at an Istanbul hour.
type dailyAt struct{ hour int }

// Next implements river.PeriodicSchedule.
func (d dailyAt) Next(now time.Time) time.Time {
	day := tz.Day(now)
	next := time.Date(day.Year(), day.Month(), day.Day(), d.hour, 0, 0, 0, tz.Istanbul)
	if !next.After(now) {
		next = time.Date(day.Year(), day.Month(), day.Day()+1, d.hour, 0, 0, 0, tz.Istanbul)
	}
	return next
}
