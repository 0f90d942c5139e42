// Package hgs is the HGS toll area: the tags (vehicles) the customer's
// consents cover, their passages and top-ups synced from Garanti BBVA
// within each consent's daily quota, and the record of every sync. It reads
// through the consents area's tokens and quota; consents never imports it.
package hgs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"kasa/consents"
	"kasa/queue"
	"kasa/store"
)

// runRetention is how long the record of a sync is kept; the page shows the
// latest, the rest is there to look back at recent trouble.
const runRetention = 90 * 24 * time.Hour

// syncAttempts is how many times a sync job is tried.
const syncAttempts = 5

// Deps are what the HGS area needs from the process.
type Deps struct {
	Store *store.Store
	// Jobs inserts the area's jobs.
	Jobs     *queue.Client
	Consents *consents.Service
	// Now is the product clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service holds the HGS area's use cases and workers.
type Service struct {
	store    *store.Store
	jobs     *queue.Client
	consents *consents.Service
	now      func() time.Time
	log      *slog.Logger
}

// New returns the HGS area over d.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Service{store: d.Store, jobs: d.Jobs, consents: d.Consents, now: d.Now, log: d.Logger}
}

// SyncArgs syncs one consent's tags, or those of every usable consent when
// ConsentID is 0. Manual syncs (the "refresh now" button) also retry tags
// whose last sync said they are not in the consent. Key tells apart the
// follow-ups a sync queues for later (the next day's quota, the bank's
// Retry-After), each queued once.
type SyncArgs struct {
	ConsentID int64  `json:"consent_id"`
	Manual    bool   `json:"manual,omitempty"`
	Key       string `json:"key,omitempty"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "garanti.hgs_sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: syncAttempts} }

// PruneRunsArgs deletes the records of old syncs.
type PruneRunsArgs struct{}

// Kind implements river.JobArgs.
func (PruneRunsArgs) Kind() string { return "hgs.prune_runs" }

// AddWorkers adds the HGS area's workers to w and returns its schedules:
// a sync of every usable consent every six hours, old sync records pruned
// daily.
func (s *Service) AddWorkers(w *queue.Workers) []*river.PeriodicJob {
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[SyncArgs]) error {
		return s.syncJob(ctx, j.ID, j.Args)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[PruneRunsArgs]) error {
		if _, err := s.pruneRuns(ctx, s.now().Add(-runRetention)); err != nil {
			return fmt.Errorf("hgs: prune sync runs: %w", err)
		}
		return nil
	}))
	return []*river.PeriodicJob{
		queue.Every(6*time.Hour, SyncArgs{}),
		queue.Every(24*time.Hour, PruneRunsArgs{}),
	}
}

// Schedule queues a sync of the consent's tags now (after it became
// active).
func (s *Service) Schedule(ctx context.Context, consentID int64) error {
	if _, err := s.jobs.Insert(ctx, SyncArgs{ConsentID: consentID}, nil); err != nil {
		return fmt.Errorf("hgs: queue sync of consent %d: %w", consentID, err)
	}
	return nil
}

// ErrPending means a manual sync is still running when the caller stopped
// waiting: its outcome will show on the page.
var ErrPending = errors.New("hgs: sync still running")

// RefreshNow syncs every usable consent's tags now, as a person asked
// (tags that left their consent are tried again too), waits for the sync
// until ctx ends and returns what it did. ErrPending when it has not
// finished by then; store.ErrNotFound when it recorded nothing.
func (s *Service) RefreshNow(ctx context.Context) (SyncRun, error) {
	res, err := s.jobs.Insert(ctx, SyncArgs{Manual: true}, nil)
	if err != nil {
		return SyncRun{}, fmt.Errorf("hgs: refresh: %w", err)
	}
	if _, err := queue.WaitSettled(ctx, s.jobs, res.Job.ID); err != nil {
		return SyncRun{}, fmt.Errorf("%w: %w", ErrPending, err)
	}
	return s.RunOfJob(context.WithoutCancel(ctx), res.Job.ID)
}

// syncJob runs one sync job and records what it did.
func (s *Service) syncJob(ctx context.Context, jobID int64, p SyncArgs) error {
	res, err := s.SyncAll(ctx, p.ConsentID, p.Manual)
	run := res.run(jobID, p.Manual)
	if err != nil {
		run.Outcome, run.ErrorCode = OutcomeFailed, consents.ErrorCode(err)
		if res.Calls > 0 {
			run.Outcome = OutcomePartial
		}
	}
	if rerr := s.recordRun(ctx, run); rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil {
		return err
	}
	if res.Retryable && !p.Manual {
		return fmt.Errorf("hgs sync: some tags failed for a passing reason (%s)", res.ErrorCode)
	}
	return nil
}

// cancel marks an error not worth retrying: the job is cancelled at once,
// whatever attempts it has left. cancel(nil) is nil.
func cancel(err error) error {
	if err == nil {
		return nil
	}
	return river.JobCancel(err)
}
