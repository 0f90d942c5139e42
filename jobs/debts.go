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

// The job kinds of the Finrota debt work.
const (
	KindDebtDeliver     = "debts.deliver"
	KindDebtSync        = "debts.sync"
	KindDebtNotify      = "debts.notify"
	KindDebtNotifyDaily = "debts.notify.daily"
)

// debtDeliverAttempts bounds the outbox's retries of one intent: with the
// default backoff (capped at 1h) that is about a day of outage.
const debtDeliverAttempts = 30

type debtDeliverPayload struct {
	DebtID  int64 `json:"debtId"`
	Version int   `json:"version"`
}

type debtSyncPayload struct {
	SyncID int64 `json:"syncId,omitempty"`
}

type debtNotifyPayload struct {
	NotificationID int64 `json:"notificationId"`
}

// EnqueueDebtDelivery queues the delivery of d's current intent through
// tx. The unique key is the intent's request id, so one intent is queued
// once however often the form is submitted.
func EnqueueDebtDelivery(ctx context.Context, tx *sqlx.Tx, d store.Debt) (int64, error) {
	id, err := Enqueue(ctx, tx, KindDebtDeliver, debtDeliverPayload{DebtID: d.ID, Version: d.Version},
		UniqueKey(KindDebtDeliver+":"+d.RequestID), MaxAttempts(debtDeliverAttempts))
	if err != nil {
		return 0, err
	}
	return id, store.SetDebtJob(ctx, tx, d.ID, id)
}

// EnqueueDebtSync queues the pull of sync syncID through tx and ties the
// job to the sync, so the page can say when a waiting sync tries again.
func EnqueueDebtSync(ctx context.Context, tx *sqlx.Tx, syncID int64) (int64, error) {
	id, err := Enqueue(ctx, tx, KindDebtSync, debtSyncPayload{SyncID: syncID}, MaxAttempts(10))
	if err != nil {
		return 0, err
	}
	return id, store.SetDebtSyncJob(ctx, tx, syncID, id)
}

// DebtNotifyKey is the unique key of the day's overdue notification: one
// per Istanbul day, across every instance. A forced send gets a key of its
// own (notificationID), which is what "forced" means.
func DebtNotifyKey(day time.Time, forced bool, notificationID int64) string {
	key := KindDebtNotify + "@" + day.Format(time.DateOnly)
	if forced {
		key += fmt.Sprintf("#forced-%d", notificationID)
	}
	return key
}

// EnqueueDebtNotification records a send and queues it through tx. It
// returns ErrDuplicate (and the caller must roll tx back) when a send, forced
// or not, was already requested on n.Day and n is not forced.
func EnqueueDebtNotification(ctx context.Context, tx *sqlx.Tx, n store.NewDebtNotification) (notificationID, jobID int64, err error) {
	day := n.Day.In(i18n.Istanbul)
	notificationID, err = store.CreateDebtNotification(ctx, tx, n)
	if errors.Is(err, store.ErrNotifiedToday) {
		return 0, 0, fmt.Errorf("debts: notify %s: %w", day.Format(time.DateOnly), ErrDuplicate)
	}
	if err != nil {
		return 0, 0, err
	}
	// Three attempts at most, and only after a refusal that means Finrota
	// did nothing (429, 503): every send notifies everyone again, so an
	// attempt that may have reached Finrota is never repeated (see notify).
	jobID, err = Enqueue(ctx, tx, KindDebtNotify, debtNotifyPayload{NotificationID: notificationID},
		UniqueKey(DebtNotifyKey(day, n.Forced, notificationID)), MaxAttempts(3))
	if err != nil {
		return 0, 0, err
	}
	return notificationID, jobID, store.SetDebtNotificationJob(ctx, tx, notificationID, jobID)
}

// debtWork holds what the debt jobs need.
type debtWork struct {
	st   *store.Store
	conn *connect.Connector
	now  func() time.Time
}

// DebtJobs returns the handlers and schedules of the Finrota debt work
// (outbox delivery, sync, overdue notifications): the mirror is synced
// hourly, and the daily notification runs at midnight UTC (03:00 in
// Istanbul) when an operator has switched it on.
func DebtJobs(st *store.Store, conn *connect.Connector) (map[string]HandlerFunc, []Schedule) {
	w := &debtWork{st: st, conn: conn, now: time.Now}
	return map[string]HandlerFunc{
			KindDebtDeliver:     w.deliver,
			KindDebtSync:        w.sync,
			KindDebtNotify:      w.notify,
			KindDebtNotifyDaily: w.notifyDaily,
		}, []Schedule{
			{Kind: KindDebtSync, Every: time.Hour},
			{Kind: KindDebtNotifyDaily, Every: 24 * time.Hour},
		}
}

// deliver runs one attempt of a delivery. An attempt that ends in an error
// of Kasa's own (the database, say) is retried like an outage; when it was
// the last attempt the debt fails, visibly, rather than stay pending with
// no job left to settle it.
func (w *debtWork) deliver(ctx context.Context, j Job) error {
	err := w.deliverOnce(ctx, j)
	var perm *permanentError
	if err == nil || errors.As(err, &perm) || j.Attempts < j.MaxAttempts {
		return err
	}
	var p debtDeliverPayload
	if json.Unmarshal(j.Payload, &p) == nil {
		e := store.DebtError{Code: DebtFailInternal, Message: "the last delivery attempt failed inside Kasa"}
		var fe *finrota.Error
		if errors.As(err, &fe) || finrota.IsRetryable(err) {
			e = debtError(err) // Finrota's answer, or no answer
		}
		if _, ferr := w.st.MarkDebtFailed(context.WithoutCancel(ctx), p.DebtID, p.Version, e); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// deliverOnce sends one intent (create or update) to Finrota. Every attempt
// carries the intent's request id. An answer lost on the way makes the next
// attempt meet a 409 (create) or 404 (rename); those are resolved by reading
// the record back: if it holds exactly our data, the first attempt landed.
func (w *debtWork) deliverOnce(ctx context.Context, j Job) error {
	var p debtDeliverPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("debts: deliver: payload: %w", err))
	}
	d, err := w.st.Debt(ctx, p.DebtID)
	if errors.Is(err, store.ErrNotFound) {
		return Permanent(fmt.Errorf("debts: deliver: debt %d: %w", p.DebtID, err))
	}
	if err != nil {
		return err
	}
	if d.Version != p.Version || d.State != store.DebtPending {
		return nil // a newer intent replaced this one, or it already landed
	}
	client, err := w.conn.Finrota(ctx)
	if err != nil {
		return w.retryOrFail(ctx, j, d, err)
	}
	ctx = apicall.WithRequestID(ctx, d.RequestID)
	want := finrotaDebt(d)
	if d.Op == store.DebtOpCreate {
		// A create names no record: whatever id the debt may hold is not
		// sent, and only the record of our own create will be taken.
		_, err = client.Create(ctx, want)
		if finrota.IsConflict(err) {
			return w.readBack(ctx, client, d, want, err)
		}
	} else {
		// Both references, when known: the ERP code Finrota confirmed to us
		// and the id of our record must name the same record, so a wrong
		// id can never make us overwrite someone else's.
		ref := finrota.Ref{UpdateErpCode: deref(d.RemoteErpCode), ID: deref(d.FinrotaID)}
		_, err = client.Update(ctx, ref, want)
		renamed := d.ErpCode != deref(d.RemoteErpCode)
		if finrota.IsConflict(err) || (renamed && finrota.IsNotFound(err)) {
			return w.readBack(ctx, client, d, want, err)
		}
	}
	if err != nil {
		return w.retryOrFail(ctx, j, d, err)
	}
	id := ""
	if d.Op == store.DebtOpUpdate {
		id = deref(d.FinrotaID)
	}
	if id == "" {
		// Knowing the GUID lets later updates name the record. It is taken
		// only from the record now under our code holding exactly our data;
		// a failed read only costs that, and the sync fills it in.
		if got, gerr := client.GetByErpCode(ctx, d.ErpCode); gerr == nil && sameDebt(got, want) {
			id = got.ID
		}
	}
	w.learnRefs(ctx, d, nil)
	return w.markDelivered(ctx, d, id)
}

// DebtFailMirrorConflict is the error code of a delivery Finrota accepted
// but the mirror cannot record: Finrota's record is already linked to
// another debt. Retrying cannot settle that, so the debt fails and says so.
const DebtFailMirrorConflict = "mirror_conflict"

// markDelivered records the delivery; when the mirror refuses it because
// Finrota's record is linked to another debt, the debt fails with that
// explanation rather than stay pending through every retry.
func (w *debtWork) markDelivered(ctx context.Context, d store.Debt, finrotaID string) error {
	_, err := w.st.MarkDebtDelivered(ctx, d.ID, d.Version, finrotaID)
	var taken *store.FinrotaIDTakenError
	var rule *store.DebtConstraintError
	var e store.DebtError
	switch {
	case errors.As(err, &taken):
		e = store.DebtError{Code: DebtFailMirrorConflict, Message: taken.Error(),
			Fields: map[string][]string{"finrotaId": {taken.FinrotaID}, "otherErpCode": {taken.OtherErpCode}}}
	case errors.As(err, &rule):
		e = store.DebtError{Code: DebtFailMirrorRule, Message: rule.Error(), Fields: map[string][]string{"constraint": {rule.Constraint}}}
	default:
		return err
	}
	if _, ferr := w.st.MarkDebtFailed(ctx, d.ID, d.Version, e); ferr != nil {
		return ferr
	}
	return Permanent(err)
}

// DebtFailMirrorRule is the error code of a delivery Finrota accepted but
// one of the mirror's own rules refused to record; DebtFailInternal that
// of one whose last attempt ended in an error of Kasa's own.
const (
	DebtFailMirrorRule = "mirror_rule"
	DebtFailInternal   = "internal"
)

// readBack settles a 409 or 404 by reading the record under our ERP code.
func (w *debtWork) readBack(ctx context.Context, client *finrota.Client, d store.Debt, want finrota.Debt, cause error) error {
	got, err := client.GetByErpCode(ctx, d.ErpCode)
	if err != nil && !finrota.IsNotFound(err) {
		return err // cannot tell yet: try again later
	}
	if err == nil && sameDebt(got, want) && (d.FinrotaID == nil || strings.EqualFold(*d.FinrotaID, got.ID)) {
		w.learnRefs(ctx, d, nil)
		return w.markDelivered(ctx, d, got.ID)
	}
	e := debtError(cause)
	if finrota.IsConflict(cause) {
		e.Fields = map[string][]string{"erpCode": {e.Message}}
	}
	if _, err := w.st.MarkDebtFailed(ctx, d.ID, d.Version, e); err != nil {
		return err
	}
	return Permanent(cause)
}

// learnRefs notes what Finrota's answer showed about the debt's agent and
// current account: both active after a success (cause nil); the one a 404
// names inactive or unknown. The overdue page counts by it. A failure to
// note it costs only that knowledge, so it is not the delivery's error
// and is deliberately dropped.
func (w *debtWork) learnRefs(ctx context.Context, d store.Debt, cause error) {
	if cause == nil {
		_ = w.st.LearnDebtRef(ctx, store.RefAgent, d.AgentErpCode, true)
		_ = w.st.LearnDebtRef(ctx, store.RefAccount, d.CurrentAccountErpCode, true)
		return
	}
	var fe *finrota.Error
	if !errors.As(cause, &fe) || fe.Status != http.StatusNotFound {
		return
	}
	switch msg := strings.ToLower(fe.Message); {
	case strings.Contains(msg, "transaction"), strings.Contains(msg, "currency"):
		// The record itself ("current account transaction not found") or
		// the currency: nothing about the agent or the account.
	case strings.Contains(msg, "agent"):
		_ = w.st.LearnDebtRef(ctx, store.RefAgent, d.AgentErpCode, false)
	case strings.Contains(msg, "current account"):
		_ = w.st.LearnDebtRef(ctx, store.RefAccount, d.CurrentAccountErpCode, false)
	}
}

// retryOrFail keeps a retryable failure pending (RetryAfter when Finrota
// named a delay) until the attempts run out; anything else fails the debt
// with Finrota's reason.
func (w *debtWork) retryOrFail(ctx context.Context, j Job, d store.Debt, cause error) error {
	e := debtError(cause)
	retryable := finrota.IsRetryable(cause) || errors.Is(cause, connect.ErrNotConfigured)
	if retryable && j.Attempts < j.MaxAttempts {
		var fe *finrota.Error
		wait := time.Duration(0)
		if errors.As(cause, &fe) && fe.RetryAfter > 0 {
			// Kept so the page can say how long Finrota asked to wait.
			wait = fe.RetryAfter
			e.Fields = map[string][]string{"retryAfter": {fmt.Sprint(int((wait + time.Second - 1) / time.Second))}}
		}
		if err := w.st.NoteDebtRetry(ctx, d.ID, d.Version, e); err != nil {
			return err
		}
		if wait > 0 {
			return RetryAfter(cause, wait)
		}
		return cause
	}
	w.learnRefs(ctx, d, cause)
	if _, err := w.st.MarkDebtFailed(ctx, d.ID, d.Version, e); err != nil {
		return err
	}
	return Permanent(cause)
}

// debtError keeps what the product shows of a failure; the message of a
// transport failure is replaced, as it names hosts and ports.
func debtError(err error) store.DebtError {
	var fe *finrota.Error
	switch {
	case errors.As(err, &fe):
		return store.DebtError{Status: fe.Status, Code: fe.Code, Message: fe.Message, Fields: fe.Fields}
	case errors.Is(err, connect.ErrNotConfigured):
		return store.DebtError{Code: "not_configured", Message: "Finrota is not configured"}
	}
	return store.DebtError{Code: "unreachable", Message: "no answer from Finrota"}
}

func finrotaDebt(d store.Debt) finrota.Debt {
	return finrota.Debt{
		AgentErpCode: d.AgentErpCode, Amount: d.Amount, PaidAmount: d.PaidAmount, DocumentNo: d.DocumentNo,
		CurrentAccountErpCode: d.CurrentAccountErpCode, DocumentType: d.DocumentType,
		DueDate: d.DueDate, TransactionDate: d.TransactionDate, CurrencyID: d.CurrencyID,
		ErpCode: d.ErpCode, Description: d.Description,
	}
}

// sameDebt reports whether Finrota's record holds exactly the data we sent.
func sameDebt(got, want finrota.Debt) bool {
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	return got.ErpCode == want.ErpCode && got.AgentErpCode == want.AgentErpCode &&
		got.CurrentAccountErpCode == want.CurrentAccountErpCode && got.Amount.Equal(want.Amount) &&
		got.PaidAmount.Equal(want.PaidAmount) && got.DocumentNo == want.DocumentNo &&
		got.DocumentType == want.DocumentType && day(got.DueDate) == day(want.DueDate) &&
		day(got.TransactionDate) == day(want.TransactionDate) && strings.EqualFold(got.CurrencyID, want.CurrencyID) &&
		got.Description == want.Description
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
