package debts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"kasa/connect"
	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/queue"
	"kasa/store"
)

// deliverWorker delivers one intent to Finrota.
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// Work runs one attempt of a delivery. An attempt that ends in an error of
// Kasa's own (the database, say) is retried like an outage; when it was the
// last attempt the debt fails, visibly, rather than stay pending with no
// job left to settle it.
func (w *deliverWorker) Work(ctx context.Context, j *river.Job[DeliverArgs]) error {
	err := w.s.deliverOnce(ctx, j)
	var cancel *river.JobCancelError
	var snooze *river.JobSnoozeError
	if err == nil || errors.As(err, &cancel) || errors.As(err, &snooze) || queue.Attempts(j.JobRow) < j.MaxAttempts {
		return err
	}
	e := DebtError{Code: FailInternal, Message: "the last delivery attempt failed inside Kasa"}
	var fe *finrota.Error
	if errors.As(err, &fe) || finrota.IsRetryable(err) {
		e = debtError(err) // Finrota's answer, or no answer
	}
	if _, ferr := w.s.MarkDebtFailed(context.WithoutCancel(ctx), j.Args.DebtID, j.Args.Version, e); ferr != nil {
		return errors.Join(err, ferr)
	}
	return river.JobCancel(err) // the debt failed: no attempt is left for it
}

// deliverOnce sends one intent (create or update) to Finrota. Every attempt
// carries the intent's request id. An answer lost on the way makes the next
// attempt meet a 409 (create) or 404 (rename); those are resolved by reading
// the record back: if it holds exactly our data, the first attempt landed.
func (s *Service) deliverOnce(ctx context.Context, j *river.Job[DeliverArgs]) error {
	p := j.Args
	d, err := s.Debt(ctx, p.DebtID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("debts: deliver: debt %d: %w", p.DebtID, err))
	}
	if err != nil {
		return err
	}
	if d.Version != p.Version || d.State != DebtPending {
		return nil // a newer intent replaced this one, or it already landed
	}
	client, err := s.conn.Finrota(ctx)
	if err != nil {
		return s.retryOrFail(ctx, j, d, err)
	}
	ctx = apicall.WithRequestID(ctx, d.RequestID)
	want := finrotaDebt(d)
	if d.Op == DebtOpCreate {
		// A create names no record: whatever id the debt may hold is not
		// sent, and only the record of our own create will be taken.
		_, err = client.Create(ctx, want)
		if finrota.IsConflict(err) {
			return s.readBack(ctx, client, d, want, err)
		}
	} else {
		// Both references, when known: the ERP code Finrota confirmed to us
		// and the id of our record must name the same record, so a wrong
		// id can never make us overwrite someone else's.
		ref := finrota.Ref{UpdateErpCode: deref(d.RemoteErpCode), ID: deref(d.FinrotaID)}
		_, err = client.Update(ctx, ref, want)
		renamed := d.ErpCode != deref(d.RemoteErpCode)
		if finrota.IsConflict(err) || (renamed && finrota.IsNotFound(err)) {
			return s.readBack(ctx, client, d, want, err)
		}
	}
	if err != nil {
		return s.retryOrFail(ctx, j, d, err)
	}
	id := ""
	if d.Op == DebtOpUpdate {
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
	s.learnRefs(ctx, d, nil)
	return s.markDelivered(ctx, d, id)
}

// The error codes of a delivery that failed for a reason of Kasa's own.
const (
	// FailMirrorConflict is a delivery Finrota accepted but the mirror
	// cannot record: Finrota's record is already linked to another debt.
	// Retrying cannot settle that, so the debt fails and says so.
	FailMirrorConflict = "mirror_conflict"
	// FailMirrorRule is a delivery Finrota accepted but one of the
	// mirror's own rules refused to record.
	FailMirrorRule = "mirror_rule"
	// FailInternal is a delivery whose last attempt ended in an error of
	// Kasa's own.
	FailInternal = "internal"
)

// markDelivered records the delivery; when the mirror refuses it because
// Finrota's record is linked to another debt, the debt fails with that
// explanation rather than stay pending through every retry.
func (s *Service) markDelivered(ctx context.Context, d Debt, finrotaID string) error {
	_, err := s.MarkDebtDelivered(ctx, d.ID, d.Version, finrotaID)
	var taken *FinrotaIDTakenError
	var rule *DebtConstraintError
	var e DebtError
	switch {
	case errors.As(err, &taken):
		e = DebtError{Code: FailMirrorConflict, Message: taken.Error(),
			Fields: map[string][]string{"finrotaId": {taken.FinrotaID}, "otherErpCode": {taken.OtherErpCode}}}
	case errors.As(err, &rule):
		e = DebtError{Code: FailMirrorRule, Message: rule.Error(), Fields: map[string][]string{"constraint": {rule.Constraint}}}
	default:
		return err
	}
	if _, ferr := s.MarkDebtFailed(ctx, d.ID, d.Version, e); ferr != nil {
		return ferr
	}
	return river.JobCancel(err)
}

// readBack settles a 409 or 404 by reading the record under our ERP code.
func (s *Service) readBack(ctx context.Context, client *finrota.Client, d Debt, want finrota.Debt, cause error) error {
	got, err := client.GetByErpCode(ctx, d.ErpCode)
	if err != nil && !finrota.IsNotFound(err) {
		return err // cannot tell yet: try again later
	}
	if err == nil && sameDebt(got, want) && (d.FinrotaID == nil || strings.EqualFold(*d.FinrotaID, got.ID)) {
		s.learnRefs(ctx, d, nil)
		return s.markDelivered(ctx, d, got.ID)
	}
	e := debtError(cause)
	if finrota.IsConflict(cause) {
		e.Fields = map[string][]string{"erpCode": {e.Message}}
	}
	if _, err := s.MarkDebtFailed(ctx, d.ID, d.Version, e); err != nil {
		return err
	}
	return river.JobCancel(cause)
}

// learnRefs notes what Finrota's answer showed about the debt's agent and
// current account: both active after a success (cause nil); the one a 404
// names inactive or unknown. The overdue page counts by it. A failure to
// note it costs only that knowledge, so it is logged, not the delivery's
// error.
func (s *Service) learnRefs(ctx context.Context, d Debt, cause error) {
	note := func(kind, code string, active bool) {
		if err := s.LearnDebtRef(ctx, kind, code, active); err != nil {
			s.log.Warn("debts: learn reference", "kind", kind, "code", code, "err", err)
		}
	}
	if cause == nil {
		note(RefAgent, d.AgentErpCode, true)
		note(RefAccount, d.CurrentAccountErpCode, true)
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
		note(RefAgent, d.AgentErpCode, false)
	case strings.Contains(msg, "current account"):
		note(RefAccount, d.CurrentAccountErpCode, false)
	}
}

// retryOrFail keeps a retryable failure pending until the attempts run
// out; when Finrota named a delay (Retry-After) the job is snoozed that
// long. Anything else fails the debt with Finrota's reason.
func (s *Service) retryOrFail(ctx context.Context, j *river.Job[DeliverArgs], d Debt, cause error) error {
	e := debtError(cause)
	retryable := finrota.IsRetryable(cause) || errors.Is(cause, connect.ErrNotConfigured)
	if retryable && queue.Attempts(j.JobRow) < j.MaxAttempts {
		var fe *finrota.Error
		wait := time.Duration(0)
		if errors.As(cause, &fe) && fe.RetryAfter > 0 {
			// Kept so the page can say how long Finrota asked to wait.
			wait = fe.RetryAfter
			e.Fields = map[string][]string{"retryAfter": {fmt.Sprint(int((wait + time.Second - 1) / time.Second))}}
		}
		if err := s.NoteDebtRetry(ctx, d.ID, d.Version, e); err != nil {
			return err
		}
		if wait > 0 {
			return river.JobSnooze(wait)
		}
		return cause
	}
	s.learnRefs(ctx, d, cause)
	if _, err := s.MarkDebtFailed(ctx, d.ID, d.Version, e); err != nil {
		return err
	}
	return river.JobCancel(cause)
}

// debtError keeps what the product shows of a failure; the message of a
// transport failure is replaced, as it names hosts and ports.
func debtError(err error) DebtError {
	var fe *finrota.Error
	switch {
	case errors.As(err, &fe):
		return DebtError{Status: fe.Status, Code: fe.Code, Message: fe.Message, Fields: fe.Fields}
	case errors.Is(err, connect.ErrNotConfigured):
		return DebtError{Code: "not_configured", Message: "Finrota is not configured"}
	}
	return DebtError{Code: "unreachable", Message: "no answer from Finrota"}
}

func finrotaDebt(d Debt) finrota.Debt {
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
