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
// waits out Retry-After on reads) and then to the job's own retry.
func (w *debtWork) sync(ctx context.Context, j Job) error {
	var p debtSyncPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil && len(j.Payload) > 0 {
		return Permanent(fmt.Errorf("debts: sync: payload: %w", err))
	}
	if p.SyncID == 0 { // the schedule: start a sync unless one is running
		err := w.st.InTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			p.SyncID, err = store.StartDebtSync(ctx, tx, 0)
			return err
		})
		if errors.Is(err, store.ErrSyncRunning) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	s, err := w.st.DebtSyncByID(ctx, p.SyncID)
	if err != nil {
		return err
	}
	if s.State != "running" {
		return nil
	}
	fail := func(err error) error {
		if isRetryableSync(err) && j.Attempts < j.MaxAttempts {
			var fe *finrota.Error
			if errors.As(err, &fe) && fe.RetryAfter > 0 {
				return RetryAfter(err, fe.RetryAfter)
			}
			return err
		}
		if ferr := w.st.FinishDebtSync(ctx, s.ID, err.Error()); ferr != nil {
			return ferr
		}
		return Permanent(err)
	}
	client, err := w.conn.Finrota(ctx)
	if err != nil {
		return fail(err)
	}
	if err := w.sandboxRefs(ctx); err != nil {
		return err
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
			remote = append(remote, store.RemoteDebt{
				FinrotaID: d.ID, ErpCode: d.ErpCode, AgentErpCode: d.AgentErpCode, CurrentAccountErpCode: d.CurrentAccountErpCode,
				Amount: d.Amount, PaidAmount: d.PaidAmount, DocumentNo: d.DocumentNo, DocumentType: d.DocumentType,
				DueDate: d.DueDate, TransactionDate: d.TransactionDate, CurrencyID: strings.ToUpper(d.CurrencyID),
				Description: d.Description, IsActive: d.IsActive,
			})
			agents, accounts = append(agents, d.AgentErpCode), append(accounts, d.CurrentAccountErpCode)
			currencies = append(currencies, strings.ToUpper(d.CurrencyID))
		}
		if _, err := w.st.UpsertRemoteDebts(ctx, remote, fetched); err != nil {
			return err
		}
		for kind, codes := range map[string][]string{store.RefAgent: agents, store.RefAccount: accounts, store.RefCurrency: currencies} {
			if err := w.st.NoteDebtRefs(ctx, kind, codes); err != nil {
				return err
			}
		}
		items += len(pg.Items)
		page++
		if err := w.st.DebtSyncProgress(ctx, s.ID, page, items, pg.TotalCount); err != nil {
			return err
		}
		if len(pg.Items) < finrota.MaxPageSize || (page-1)*finrota.MaxPageSize >= pg.TotalCount {
			break
		}
	}
	return w.st.FinishDebtSync(ctx, s.ID, "")
}

// isRetryableSync reports whether a failed sync is worth another attempt.
func isRetryableSync(err error) bool {
	return finrota.IsRetryable(err) || errors.Is(err, connect.ErrNotConfigured)
}

// sandboxRefs copies the fake portal's agents, current accounts and
// currencies, with names and activity, into the form choices: the real API
// has no endpoint for them, so outside the sandbox they come from the debts.
func (w *debtWork) sandboxRefs(ctx context.Context) error {
	sb := w.conn.Sandbox()
	if sb == nil || sb.Finrota == nil {
		return nil
	}
	var refs []store.DebtRef
	for _, a := range sb.Finrota.Agents() {
		refs = append(refs, store.DebtRef{Kind: store.RefAgent, Code: a.Code, Name: a.Name, Active: a.Active})
	}
	for _, a := range sb.Finrota.CurrentAccounts() {
		refs = append(refs, store.DebtRef{Kind: store.RefAccount, Code: a.ErpCode, Name: a.Name, Active: a.Active})
	}
	for _, c := range sb.Finrota.Currencies() {
		refs = append(refs, store.DebtRef{Kind: store.RefCurrency, Code: c, Active: true})
	}
	return w.st.PutDebtRefs(ctx, refs)
}

// notify asks Finrota to notify every overdue debtor. The call is not
// idempotent, so only a refusal that means "not processed" (429, 503) is
// retried; a lost answer is reported as such and a person decides.
func (w *debtWork) notify(ctx context.Context, j Job) error {
	var p debtNotifyPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("debts: notify: payload: %w", err))
	}
	n, err := w.st.DebtNotificationByID(ctx, p.NotificationID)
	if err != nil {
		return Permanent(fmt.Errorf("debts: notify: %w", err))
	}
	if n.State != store.NotifyPending {
		return nil
	}
	client, err := w.conn.Finrota(ctx)
	if err == nil {
		err = client.SendOverdueNotifications(apicall.WithRequestID(ctx, n.RequestID))
	}
	if err == nil {
		return w.st.FinishDebtNotification(ctx, n.ID, "", "")
	}
	var fe *finrota.Error
	if errors.As(err, &fe) && (fe.Status == http.StatusTooManyRequests || fe.Status == http.StatusServiceUnavailable) && j.Attempts < j.MaxAttempts {
		return RetryAfter(err, max(fe.RetryAfter, 5*time.Second))
	}
	e := debtError(err)
	code := e.Code
	if code == "" {
		code = fmt.Sprint(e.Status)
	}
	if ferr := w.st.FinishDebtNotification(ctx, n.ID, code, e.Message); ferr != nil {
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
