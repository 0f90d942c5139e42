package debts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"kasa/connect"
	"kasa/providers/finrota"
	"kasa/queue"
)

// SyncArgs is a pull of Finrota's list into the mirror. A person's sync
// names its row; the schedule's has none and starts one on its first
// attempt.
type SyncArgs struct {
	SyncID int64 `json:"syncId,omitempty"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "debts.sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// StartSync starts a person's pull of every debt from Finrota and queues
// it, in one transaction; ErrSyncRunning while another runs.
func (s *Service) StartSync(ctx context.Context, userID int64) (syncID, jobID int64, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if syncID, err = StartDebtSync(ctx, tx, userID); err != nil {
			return err
		}
		if jobID, err = s.insert(ctx, tx, SyncArgs{SyncID: syncID}, nil, nil); err != nil {
			return err
		}
		return SetDebtSyncJob(ctx, tx, syncID, jobID)
	})
	if err != nil && !errors.Is(err, ErrSyncRunning) {
		err = fmt.Errorf("debts: start sync: %w", err)
	}
	return syncID, jobID, err
}

// syncWorker pulls every page of Finrota's list into the mirror.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	s *Service
}

// Work pulls every page, resuming at the page its last attempt reached.
// Throttling is left to the client (it waits out Retry-After on reads) and
// then to the job's own retry. Every failure after the sync started goes
// through fail, so a sync whose attempts run out is marked failed rather
// than left running.
func (w *syncWorker) Work(ctx context.Context, j *river.Job[SyncArgs]) error {
	s := w.s
	syncID := j.Args.SyncID
	if syncID == 0 {
		// The schedule: its first attempt starts a sync tied to the job,
		// so a retry resumes that sync instead of finding it running.
		id, err := s.StartScheduledDebtSync(ctx, j.ID)
		if errors.Is(err, ErrSyncRunning) {
			return nil // a person's sync is under way and does the work
		}
		if err != nil {
			return err
		}
		syncID = id
	}
	sync, err := s.DebtSyncByID(ctx, syncID)
	if err != nil {
		return err
	}
	if sync.State != "running" {
		return nil
	}
	fail := func(err error) error {
		if !isPermanentSync(err) && queue.Attempts(j.JobRow) < j.MaxAttempts {
			// The sync stays running; the page says why it waits and when
			// it tries again, rather than only that it is running.
			if nerr := s.NoteDebtSyncRetry(ctx, sync.ID, SyncFailureCode(err)); nerr != nil {
				return nerr
			}
			var fe *finrota.Error
			if errors.As(err, &fe) && fe.RetryAfter > 0 {
				return river.JobSnooze(fe.RetryAfter)
			}
			return err
		}
		// The row keeps a reason code for the page; the error's text (it
		// may name hosts) stays in the job's record and the log.
		if ferr := s.FinishDebtSync(ctx, sync.ID, SyncFailureCode(err)); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	client, err := s.conn.Finrota(ctx)
	if err != nil {
		return fail(err)
	}
	page, items := max(sync.NextPage, 1), sync.Items
	for {
		fetched := s.now()
		pg, err := client.List(ctx, page, finrota.MaxPageSize)
		if err != nil {
			return fail(err)
		}
		remote := make([]RemoteDebt, 0, len(pg.Items))
		agents, accounts, currencies := []string{}, []string{}, []string{}
		for _, d := range pg.Items {
			remote = append(remote, remoteDebt(d))
			agents, accounts = append(agents, d.AgentErpCode), append(accounts, d.CurrentAccountErpCode)
			currencies = append(currencies, strings.ToUpper(d.CurrencyID))
		}
		if _, err := s.UpsertRemoteDebts(ctx, remote, fetched); err != nil {
			return fail(err)
		}
		for kind, codes := range map[string][]string{RefAgent: agents, RefAccount: accounts, RefCurrency: currencies} {
			if err := s.NoteDebtRefs(ctx, kind, codes); err != nil {
				return fail(err)
			}
		}
		items += len(pg.Items)
		page++
		if err := s.DebtSyncProgress(ctx, sync.ID, page, items, pg.TotalCount); err != nil {
			return fail(err)
		}
		if len(pg.Items) < finrota.MaxPageSize || (page-1)*finrota.MaxPageSize >= pg.TotalCount {
			break
		}
	}
	if err := s.FinishDebtSync(ctx, sync.ID, ""); err != nil {
		return fail(err)
	}
	return nil
}

// isPermanentSync reports whether a failed sync is not worth another
// attempt: Finrota refused it (credentials, permissions, the request).
// Throttling, outages, an unconfigured connection (the settings may be
// completed) and the mirror's own errors are retried.
func isPermanentSync(err error) bool {
	if finrota.IsRetryable(err) || errors.Is(err, connect.ErrNotConfigured) {
		return false
	}
	var fe *finrota.Error
	return errors.As(err, &fe) || errors.Is(err, finrota.ErrInvalidArgument)
}

// The reasons a sync failed, as FinishDebtSync records them.
const (
	SyncFailCredentials   = "credentials"
	SyncFailForbidden     = "forbidden"
	SyncFailThrottled     = "throttled"
	SyncFailUnavailable   = "unavailable" // a server error (5xx)
	SyncFailUnreachable   = "unreachable" // no answer at all
	SyncFailMalformed     = "malformed"   // an answer that could not be read
	SyncFailNotConfigured = "not_configured"
	SyncFailRefused       = "refused"
	SyncFailInternal      = "internal"
)

// SyncFailureCode names why a sync (or a check) failed, for the page to
// translate.
func SyncFailureCode(err error) string {
	var fe *finrota.Error
	switch {
	case errors.Is(err, connect.ErrNotConfigured):
		return SyncFailNotConfigured
	case errors.Is(err, finrota.ErrCredentialsRejected):
		return SyncFailCredentials
	case errors.Is(err, finrota.ErrForbidden):
		return SyncFailForbidden
	case errors.As(err, &fe) && fe.Status == http.StatusTooManyRequests:
		return SyncFailThrottled
	case errors.As(err, &fe) && fe.Code == finrota.CodeMalformed:
		return SyncFailMalformed
	case errors.As(err, &fe) && fe.Status >= 500:
		return SyncFailUnavailable
	case finrota.IsRetryable(err):
		return SyncFailUnreachable
	case errors.As(err, &fe):
		return SyncFailRefused
	}
	return SyncFailInternal
}
