package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"kasa/store"
)

// SessionCleanupArgs removes expired sessions.
type SessionCleanupArgs struct{}

// Kind implements river.JobArgs.
func (SessionCleanupArgs) Kind() string { return "sessions.cleanup" }

// APILogPruneArgs removes API log entries past their retention.
type APILogPruneArgs struct{}

// Kind implements river.JobArgs.
func (APILogPruneArgs) Kind() string { return "apilog.prune" }

// RotateSecretsArgs re-encrypts secrets still under a retired key.
type RotateSecretsArgs struct{}

// Kind implements river.JobArgs.
func (RotateSecretsArgs) Kind() string { return "secrets.rotate" }

// Maintenance adds the housekeeping workers to workers and returns their
// schedules: expired sessions removed hourly; API log entries older than
// apiLogRetention removed daily; secrets under retired keys re-encrypted
// daily. (River prunes finished jobs itself.)
func Maintenance(workers *Workers, st *store.Store, sessions *store.SessionStore, apiLogRetention time.Duration) []*river.PeriodicJob {
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, _ *river.Job[SessionCleanupArgs]) error {
		if _, err := sessions.DeleteExpiredSessions(ctx); err != nil {
			return fmt.Errorf("sessions cleanup: %w", err)
		}
		return nil
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, _ *river.Job[APILogPruneArgs]) error {
		if _, err := st.PruneAPICalls(ctx, time.Now().Add(-apiLogRetention)); err != nil {
			return fmt.Errorf("api log prune: %w", err)
		}
		return nil
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, _ *river.Job[RotateSecretsArgs]) error {
		if _, err := st.RotateSecrets(ctx); err != nil {
			return fmt.Errorf("rotate secrets: %w", err)
		}
		return nil
	}))
	return []*river.PeriodicJob{
		Every(time.Hour, SessionCleanupArgs{}),
		Every(24*time.Hour, APILogPruneArgs{}),
		Every(24*time.Hour, RotateSecretsArgs{}),
	}
}

// Every schedules args once per period of length every, aligned to UTC, and
// once at start. The job is unique for its period, so a leader change (or
// a restart) inside a period does not run it twice.
func Every(every time.Duration, args river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		},
		&river.PeriodicJobOpts{RunOnStart: true},
	)
}
