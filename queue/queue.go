// Package queue sets up River, the product's durable job engine, the way
// every area uses it: jobs are inserted in the area's own transaction
// (Client.InsertTx), worked by River workers that live in the areas, retried
// with the product's backoff, and scheduled once per period across all
// instances by River's leader.
//
// Wiring has two clients on one database. The inserter (NewInserter) is
// handed to the areas: it only inserts, lists, retries and cancels jobs, so
// an area needs nothing from the workers that in turn need the area. The
// worker client (Start) works every registered kind; at most one instance at
// a time (River's elected leader) enqueues the periodic jobs.
package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"
)

// Client is a River client on database/sql, so that InsertTx joins the
// *sql.Tx beneath an sqlx transaction.
type Client = river.Client[*sql.Tx]

// NewInserter returns a client that inserts and manages jobs but never works
// them. Its inserts notify waiting workers on every instance at commit.
func NewInserter(db *sql.DB, logger *slog.Logger) (*Client, error) {
	c, err := river.NewClient(riverdatabasesql.New(db), &river.Config{
		Logger:      logger,
		MaxAttempts: DefaultMaxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: inserter: %w", err)
	}
	return c, nil
}

// DefaultMaxAttempts is how many attempts a job gets unless its kind says
// otherwise (InsertOpts.MaxAttempts or the args' InsertOpts).
const DefaultMaxAttempts = 10

// Options configure the worker client; zero values take the defaults.
type Options struct {
	// Workers is how many jobs this instance works at once; default 4.
	Workers int
	// ListenURL is the database URL for LISTEN, so a committed job is picked
	// up at once; empty polls every PollInterval only.
	ListenURL string
	// PollInterval is how often idle workers look for due jobs (retries
	// coming due, a lost notification); default 1s.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay running before River takes it
	// for lost (its instance died) and runs it again; default 1h. It must
	// exceed JobTimeout.
	RescueAfter time.Duration
	// JobTimeout bounds one attempt; default 5 minutes.
	JobTimeout time.Duration
	// Periodic are the scheduled jobs; only the elected leader enqueues them.
	Periodic []*river.PeriodicJob
	// Logger receives River's own logs; default slog.Default().
	Logger *slog.Logger
	// RetryPolicy decides when a failed job runs again; default the
	// product's backoff (Backoff). Tests shorten it.
	RetryPolicy river.ClientRetryPolicy
	// OnState, if set, is called after each attempt with the job's kind and
	// outcome ("completed", "retryable", "cancelled", "discarded",
	// "snoozed"), e.g. for metrics.
	OnState func(kind, state string)
}

// Workers is a River worker registry; each area adds its workers to it.
type Workers = river.Workers

// NewWorkers returns an empty registry.
func NewWorkers() *Workers { return river.NewWorkers() }

// Worker is a running worker client and the listener pool beneath it.
type Worker struct {
	client   *Client
	listener *pgxpool.Pool
}

// Start starts a client that works every kind in workers until Stop.
func Start(ctx context.Context, db *sql.DB, workers *Workers, o Options) (*Worker, error) {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 5 * time.Minute
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// River reports its producers' job counts at Info every few seconds;
	// the product's log keeps River's warnings and errors only.
	o.Logger = slog.New(warnings{o.Logger.Handler()})
	if o.RetryPolicy == nil {
		o.RetryPolicy = backoff{}
	}
	w := &Worker{}
	driver := riverdatabasesql.New(db)
	if o.ListenURL != "" {
		cfg, err := pgxpool.ParseConfig(o.ListenURL)
		if err != nil {
			return nil, fmt.Errorf("queue: listen url: %w", err)
		}
		cfg.MinConns, cfg.MaxConns = 0, 1
		if w.listener, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			return nil, fmt.Errorf("queue: listener pool: %w", err)
		}
		driver = riverdatabasesql.NewWithPgxListener(db, w.listener)
	}
	var middleware []rivertype.Middleware
	if o.OnState != nil {
		middleware = append(middleware, &outcome{onState: o.OnState})
	}
	c, err := river.NewClient(driver, &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:              workers,
		PeriodicJobs:         o.Periodic,
		FetchPollInterval:    o.PollInterval,
		FetchCooldown:        min(100*time.Millisecond, o.PollInterval),
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.RescueAfter,
		MaxAttempts:          DefaultMaxAttempts,
		RetryPolicy:          o.RetryPolicy,
		Logger:               o.Logger,
		Middleware:           middleware,
		// Finished jobs stay a week, for the Jobs page and for audits.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	})
	if err != nil {
		w.closeListener()
		return nil, fmt.Errorf("queue: client: %w", err)
	}
	if err := c.Start(ctx); err != nil {
		w.closeListener()
		return nil, fmt.Errorf("queue: start: %w", err)
	}
	w.client = c
	return w, nil
}

// Client returns the worker client, e.g. to wait for its stop.
func (w *Worker) Client() *Client { return w.client }

// Stop lets running jobs finish until ctx ends, then cancels them; a
// cancelled job is retried later by any instance.
func (w *Worker) Stop(ctx context.Context) error {
	defer w.closeListener()
	err := w.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = w.client.StopAndCancel(stopCtx)
	}
	if err != nil {
		return fmt.Errorf("queue: stop: %w", err)
	}
	return nil
}

func (w *Worker) closeListener() {
	if w.listener != nil {
		w.listener.Close()
	}
}

// backoff is the delay before the next attempt: 1s doubling per attempt,
// capped at 1h, less up to 25% random jitter so jobs that failed together
// (a provider outage) do not retry in lockstep.
type backoff struct{}

// NextRetry implements river.ClientRetryPolicy.
func (backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(Backoff(len(job.Errors) + 1))
}

// Backoff is the delay after the given failed attempt (1-based).
func Backoff(attempt int) time.Duration {
	const base, limit = time.Second, time.Hour
	d := limit
	attempt = max(attempt, 1)
	if attempt <= 32 { // beyond that the shift overflows; the cap applies anyway
		d = min(base<<(attempt-1), limit)
	}
	return d - rand.N(d/4+1)
}

// outcome reports each attempt's outcome to OnState.
type outcome struct {
	river.MiddlewareDefaults
	onState func(kind, state string)
}

// Work implements rivertype.WorkerMiddleware.
func (o *outcome) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	err := doInner(ctx)
	state := "completed"
	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	switch {
	case err == nil:
	case errors.As(err, &snooze):
		state = "snoozed"
	case errors.As(err, &cancel):
		state = "cancelled"
	case job.Attempt >= job.MaxAttempts:
		state = "discarded"
	default:
		state = "retryable"
	}
	o.onState(job.Kind, state)
	return err
}

// warnings passes on records at Warn and above only.
type warnings struct{ slog.Handler }

// Enabled implements slog.Handler.
func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler.
func (w warnings) WithAttrs(attrs []slog.Attr) slog.Handler { return warnings{w.Handler.WithAttrs(attrs)} }

// WithGroup implements slog.Handler.
func (w warnings) WithGroup(name string) slog.Handler { return warnings{w.Handler.WithGroup(name)} }
