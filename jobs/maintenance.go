package jobs

import (
	"context"
	"fmt"
	"time"

	"kasa/store"
)

// Housekeeping job kinds.
const (
	KindSessionCleanup = "sessions.cleanup"
	KindAPILogPrune    = "apilog.prune"
	KindRotateSecrets  = "secrets.rotate"
	KindPruneJobs      = "jobs.prune"
)

// Maintenance returns the housekeeping handlers and their schedules: expired
// sessions removed hourly; API log entries older than apiLogRetention, and
// finished jobs older than a week, removed daily; secrets under retired keys
// re-encrypted daily.
func Maintenance(st *store.Store, sessions *store.SessionStore, apiLogRetention time.Duration) (map[string]HandlerFunc, []Schedule) {
	handlers := map[string]HandlerFunc{
		KindSessionCleanup: func(ctx context.Context, _ Job) error {
			_, err := sessions.DeleteExpiredSessions(ctx)
			return err
		},
		KindAPILogPrune: func(ctx context.Context, _ Job) error {
			_, err := st.PruneAPICalls(ctx, time.Now().Add(-apiLogRetention))
			return err
		},
		KindRotateSecrets: func(ctx context.Context, _ Job) error {
			if _, err := st.RotateSecrets(ctx); err != nil {
				return fmt.Errorf("rotate secrets: %w", err)
			}
			return nil
		},
		KindPruneJobs: func(ctx context.Context, _ Job) error {
			_, err := Prune(ctx, st.DB(), time.Now().Add(-7*24*time.Hour))
			return err
		},
	}
	schedules := []Schedule{
		{Kind: KindSessionCleanup, Every: time.Hour},
		{Kind: KindAPILogPrune, Every: 24 * time.Hour},
		{Kind: KindRotateSecrets, Every: 24 * time.Hour},
		{Kind: KindPruneJobs, Every: 24 * time.Hour},
	}
	return handlers, schedules
}
