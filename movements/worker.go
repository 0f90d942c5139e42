package movements

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"kasa/connect"
	"kasa/providers/vakifbank"
	"kasa/store"
)

// SyncArgs fetches one run's range of one account and stores it.
type SyncArgs struct {
	SyncID int64 `json:"sync_id"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "movements.sync" }

// syncAttempts bounds the retries of a bank that keeps failing.
const syncAttempts = 5

// InsertOpts implements river.JobArgsWithInsertOpts: a run is fetched by
// one job, however often it is inserted.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: syncAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ScheduleArgs queues the incremental sync of every account.
type ScheduleArgs struct{}

// Kind implements river.JobArgs.
func (ScheduleArgs) Kind() string { return "movements.schedule" }

// CodeNotConfigured is the error code of a sync that failed because the
// VakıfBank settings are incomplete.
const CodeNotConfigured = "not_configured"

// syncWorker works SyncArgs.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	s *Service
}

// Work fetches a run's range (the client windows it into one-year
// requests and de-duplicates), stores it in one batch (adding what is
// missing and recording what the bank now reports differently) and widens
// the account's coverage. The bank refusing the request (an ACBH code: the
// account is not the consent holder's, a malformed number) fails the run
// at once with the code on the account; an unavailable bank is retried
// with backoff.
func (w *syncWorker) Work(ctx context.Context, j *river.Job[SyncArgs]) error {
	s := w.s
	run, err := s.MovementSync(ctx, j.Args.SyncID)
	if errors.Is(err, ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if run.Finished() {
		return nil // a repeated delivery of a finished run
	}
	acct, err := s.BankAccount(ctx, run.AccountID)
	if err != nil {
		return s.fail(ctx, j, run.ID, err)
	}
	if err := markSyncRunning(ctx, s.db, run.ID); err != nil {
		return fmt.Errorf("movements: sync %d: %w", run.ID, err)
	}
	client, err := s.conn.VakifBank(ctx)
	if err != nil {
		return s.fail(ctx, j, run.ID, err)
	}
	txns, err := client.Range(ctx, acct.Number, run.From, run.To)
	if err != nil {
		return s.fail(ctx, j, run.ID, err)
	}
	saved, err := s.SaveMovements(ctx, acct.ID, run.ID, toNewMovements(txns))
	if err != nil {
		return s.fail(ctx, j, run.ID, err)
	}
	return s.finishSync(ctx, run.ID, len(txns), saved.Inserted)
}

// fail records err on the run and tells River whether to retry: a refusal
// by the bank, missing settings or a vanished record will not mend
// themselves (the job is cancelled); anything else (the bank down, a
// dropped connection, our own database) is retried until the job runs out
// of attempts.
func (s *Service) fail(ctx context.Context, j *river.Job[SyncArgs], syncID int64, err error) error {
	var ve *vakifbank.Error
	permanent := errors.Is(err, connect.ErrNotConfigured) || errors.Is(err, store.ErrNotFound) ||
		errors.As(err, &ve) && !ve.Retryable()
	final := permanent || j.Attempt >= j.MaxAttempts
	code := vakifbank.ErrorCode(err)
	if errors.Is(err, connect.ErrNotConfigured) {
		code = CodeNotConfigured
	}
	if ferr := s.failSync(context.WithoutCancel(ctx), syncID, code, err.Error(), final); ferr != nil {
		return errors.Join(err, ferr)
	}
	if permanent {
		return river.JobCancel(err)
	}
	return err
}

// scheduleWorker works ScheduleArgs.
type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	s *Service
}

// Work queues an incremental sync of every account that has none open.
func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	s := w.s
	accounts, err := s.BankAccounts(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, a := range accounts {
		if a.Pending {
			continue // a sync is already under way; the next period catches up
		}
		from := a.IncrementalFrom(now, Overlap, InitialSyncDays)
		if _, err := s.RequestSync(ctx, a.ID, from, now, "schedule", 0); err != nil {
			errs = append(errs, fmt.Errorf("account %d: %w", a.ID, err))
		}
	}
	return errors.Join(errs...)
}

// toNewMovements converts the bank's movements for storing.
func toNewMovements(txns []vakifbank.Transaction) []NewMovement {
	out := make([]NewMovement, len(txns))
	for i, t := range txns {
		out[i] = NewMovement{
			TransactionID: t.ID, BookedAt: t.Date, Direction: t.Type.String(), Amount: t.Amount, Balance: t.Balance,
			Currency: t.Currency, Code: t.Code, Name: t.Name, Description: t.Description, Raw: t.Raw,
		}
	}
	return out
}
