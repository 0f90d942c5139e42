package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/connect"
	"kasa/i18n"
	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/store"
)

// sync pulls every page of Finrota's list into the mirror, resuming at the
// page its last attempt reached. Throttling is left to the client (it
// waits out Retry-After on reads) and then to the job's own retry. Every
// failure after the sync started goes through fail, so a sync whose
// attempts run out is marked failed rather than left running.
func (w *debtWork) sync(ctx context.Context, j Job) error {
	var p debtSyncPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil && len(j.Payload) > 0 {
		return Permanent(fmt.Errorf("debts: sync: payload: %w", err))
	}
	if p.SyncID == 0 {
		// The schedule: its first attempt starts a sync tied to the job,
		// so a retry resumes that sync instead of finding it running.
		id, err := w.st.StartScheduledDebtSync(ctx, j.ID)
		if errors.Is(err, store.ErrSyncRunning) {
			return nil // a person's sync is under way and does the work
		}
		if err != nil {
			return err
		}
		p.SyncID = id
	}
	s, err := w.st.DebtSyncByID(ctx, p.SyncID)
	if err != nil {
		return err
	}
	if s.State != "running" {
		return nil
	}
	fail := func(err error) error {
		if !isPermanentSync(err) && j.Attempts < j.MaxAttempts {
			// The sync stays running; the page says why it waits and when
			// it tries again, rather than only that it is running.
			if nerr := w.st.NoteDebtSyncRetry(ctx, s.ID, SyncFailureCode(err)); nerr != nil {
				return nerr
			}
			var fe *finrota.Error
			if errors.As(err, &fe) && fe.RetryAfter > 0 {
				return RetryAfter(err, fe.RetryAfter)
			}
			return err
		}
		// The row keeps a reason code for the page; the error's text (it
		// may name hosts) stays in the job's record and the log.
		if ferr := w.st.FinishDebtSync(ctx, s.ID, SyncFailureCode(err)); ferr != nil {
			return ferr
		}
		return Permanent(err)
	}
	client, err := w.conn.Finrota(ctx)
	if err != nil {
		return fail(err)
	}
	page, items := max(s.NextPage, 1), s.Items
	for {
		fetched := w.now()
		pg, err := client.List(ctx, page, finrota.MaxPageSize)
		if err != nil {
			return fail(err)
		}
		remote := make([]store.RemoteDebt, 0, len(pg.Items))
		agents, accounts, currencies := []string{}, []string{}, []string{}
		for _, d := range pg.Items {
			remote = append(remote, remoteDebt(d))
			agents, accounts = append(agents, d.AgentErpCode), append(accounts, d.CurrentAccountErpCode)
			currencies = append(currencies, strings.ToUpper(d.CurrencyID))
		}
		if _, err := w.st.UpsertRemoteDebts(ctx, remote, fetched); err != nil {
			return fail(err)
		}
		for kind, codes := range map[string][]string{store.RefAgent: agents, store.RefAccount: accounts, store.RefCurrency: currencies} {
			if err := w.st.NoteDebtRefs(ctx, kind, codes); err != nil {
				return fail(err)
			}
		}
		items += len(pg.Items)
		page++
		if err := w.st.DebtSyncProgress(ctx, s.ID, page, items, pg.TotalCount); err != nil {
			return fail(err)
		}
		if len(pg.Items) < finrota.MaxPageSize || (page-1)*finrota.MaxPageSize >= pg.TotalCount {
			break
		}
	}
	if err := w.st.FinishDebtSync(ctx, s.ID, ""); err != nil {
		return fail(err)
	}
	return nil
}

// isPermanentSync reports whether a failed sync is not worth another
// attempt: Finrota refused it (credentials, permissions, the request).
// Throttling, outages, an unconfigured connection (the settings may be
// completed) and the mirror's own errors are retried.
func isPermanentSync(err error) bool {
	if isRetryableSync(err) {
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

// SyncFailureCode names why a sync failed, for the page to translate.
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

// isRetryableSync reports whether a failed sync is worth another attempt.
func isRetryableSync(err error) bool {
	return finrota.IsRetryable(err) || errors.Is(err, connect.ErrNotConfigured)
}

// notify asks Finrota to notify every overdue debtor. The call is not
// idempotent, so it is made at most once per send: the send is marked
// sending before the call, and an attempt that finds it so (its instance
// died, or the answer was lost) does not call again but marks the outcome
// unknown for a person to check at the portal. Only a refusal that means
// "not processed" (429, 503) makes it pending again for a retry.
func (w *debtWork) notify(ctx context.Context, j Job) error {
	var p debtNotifyPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("debts: notify: payload: %w", err))
	}
	n, err := w.st.DebtNotificationByID(ctx, p.NotificationID)
	if err != nil {
		return Permanent(fmt.Errorf("debts: notify: %w", err))
	}
	if n.State != store.NotifyPending && n.State != store.NotifySending {
		return nil
	}
	client, err := w.conn.Finrota(ctx)
	if err != nil {
		// Nothing was sent: a pending send stays pending for its retry.
		e := debtError(err)
		if j.Attempts < j.MaxAttempts && n.State == store.NotifyPending {
			return err
		}
		if ferr := w.st.FinishDebtNotification(ctx, n.ID, store.NotifyFailed, e.Code, e.Message); ferr != nil {
			return ferr
		}
		return Permanent(err)
	}
	found, err := w.st.ClaimDebtNotification(ctx, n.ID)
	if err != nil {
		return err
	}
	switch found {
	case store.NotifyPending:
	case store.NotifySending:
		if ferr := w.st.FinishDebtNotification(ctx, n.ID, store.NotifyUnknown, "unknown",
			"an earlier attempt may have reached Finrota; not sent again"); ferr != nil {
			return ferr
		}
		return Permanent(fmt.Errorf("debts: notify %d: outcome of an earlier attempt unknown", n.ID))
	default:
		return nil
	}
	err = client.SendOverdueNotifications(apicall.WithRequestID(ctx, n.RequestID))
	if err == nil {
		return w.st.FinishDebtNotification(ctx, n.ID, store.NotifySent, "", "")
	}
	e := debtError(err)
	code := e.Code
	if code == "" {
		code = fmt.Sprint(e.Status)
	}
	var fe *finrota.Error
	notProcessed := errors.As(err, &fe) && (fe.Status == http.StatusTooManyRequests || fe.Status == http.StatusServiceUnavailable)
	if notProcessed && j.Attempts < j.MaxAttempts {
		if rerr := w.st.ReleaseDebtNotification(ctx, n.ID, code, e.Message); rerr != nil {
			return rerr
		}
		return RetryAfter(err, max(fe.RetryAfter, 5*time.Second))
	}
	state := store.NotifyFailed
	if !errors.As(err, &fe) || fe.Status >= 500 && !notProcessed || fe.Code == finrota.CodeMalformed {
		// No answer, a server error or an unreadable one: Finrota may
		// have sent the notifications.
		state = store.NotifyUnknown
	}
	if ferr := w.st.FinishDebtNotification(ctx, n.ID, state, code, e.Message); ferr != nil {
		return ferr
	}
	return Permanent(err)
}

// notifyDaily enqueues the day's notification when it is switched on and
// something is overdue; the day's unique key makes it a no-op when a
// person already sent it.
func (w *debtWork) notifyDaily(ctx context.Context, _ Job) error {
	on, err := w.st.DebtDailyNotify(ctx)
	if err != nil || !on {
		return err
	}
	today := w.now().In(i18n.Istanbul)
	sum, err := w.st.OverdueSummary(ctx, today)
	if err != nil || sum.Debts == 0 {
		return err
	}
	err = w.st.InTx(ctx, func(tx *sqlx.Tx) error {
		_, _, err := EnqueueDebtNotification(ctx, tx, store.NewDebtNotification{
			Day: today, Scheduled: true, Debts: sum.Debts, Agents: sum.Agents,
		})
		return err
	})
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	return err
}
