package consents

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"kasa/queue"
)

// StatusArgs checks the statuses of the consents in play at the bank.
type StatusArgs struct{}

// Kind implements river.JobArgs.
func (StatusArgs) Kind() string { return "garanti.consent_status" }

// TokensArgs renews the access tokens close to their expiry.
type TokensArgs struct{}

// Kind implements river.JobArgs.
func (TokensArgs) Kind() string { return "garanti.token_renew" }

// RevokeArgs delivers a stored withdrawal (delete) of a consent, or of part
// of it, to the bank: the outbox of the consent page's revoke.
type RevokeArgs struct {
	RevocationID int64 `json:"revocation_id"`
}

// Kind implements river.JobArgs.
func (RevokeArgs) Kind() string { return "garanti.revoke" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RevokeArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: revokeAttempts} }

// PruneArgs deletes the spent OAuth states.
type PruneArgs struct{}

// Kind implements river.JobArgs.
func (PruneArgs) Kind() string { return "garanti.prune_states" }

// stateRetention is how long an expired OAuth state is kept, so a late
// return from the bank is told it expired rather than that it is unknown.
const stateRetention = 24 * time.Hour

// AddWorkers adds the consent area's workers to w and returns its
// schedules: statuses hourly, token renewal every ten minutes, spent OAuth
// states pruned daily. (Tokens and verifiers are re-encrypted by the shared
// rotation job, store.RotateSecrets.)
func (s *Service) AddWorkers(w *queue.Workers) []*river.PeriodicJob {
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[StatusArgs]) error {
		return wrap("consent statuses", s.refreshStatuses(ctx))
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[TokensArgs]) error {
		return wrap("token renewal", s.renewTokens(ctx))
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[RevokeArgs]) error {
		return s.deliverRevocation(ctx, j.Args.RevocationID, j.Attempt >= j.MaxAttempts)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[PruneArgs]) error {
		_, err := s.pruneStates(ctx, s.now().Add(-stateRetention))
		return wrap("prune oauth states", err)
	}))
	return []*river.PeriodicJob{
		queue.Every(time.Hour, StatusArgs{}),
		queue.Every(10*time.Minute, TokensArgs{}),
		queue.Every(24*time.Hour, PruneArgs{}),
	}
}

// Wait waits for a job the area inserted until it has an outcome to show
// (see queue.Settled) or ctx ends; the caller then reads the outcome from
// the area's tables.
func (s *Service) Wait(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	return queue.WaitSettled(ctx, s.jobs, jobID)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("consents: %s: %w", op, err)
}
