package debts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"kasa/store"
)

// DeliverArgs is the delivery of one intent of a debt. The request id makes
// the job unique: one intent is queued once however often the form is
// submitted.
type DeliverArgs struct {
	DebtID    int64  `json:"debtId"`
	Version   int    `json:"version"`
	RequestID string `json:"requestId"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "debts.deliver" }

// deliverAttempts bounds the outbox's retries of one intent: with the
// default backoff (capped at 1h) that is about a day of outage.
const deliverAttempts = 30

// errDeliveryQueued is what a second queueing of the same intent meets.
var errDeliveryQueued = errors.New("debts: delivery already queued")

// enqueueDelivery queues the delivery of d's current intent through tx and
// notes the job on the debt.
func (s *Service) enqueueDelivery(ctx context.Context, tx *sqlx.Tx, d Debt) (int64, error) {
	id, err := s.insert(ctx, tx, DeliverArgs{DebtID: d.ID, Version: d.Version, RequestID: d.RequestID},
		&river.InsertOpts{MaxAttempts: deliverAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: anyState}}, errDeliveryQueued)
	if err != nil {
		return 0, err
	}
	return id, SetDebtJob(ctx, tx, d.ID, id)
}

// Create stores a new debt, its audit entry and its delivery job in one
// transaction. store.ErrConflict when the ERP code is taken.
func (s *Service) Create(ctx context.Context, in DebtInput, userID int64) (Debt, error) {
	var d Debt
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if d, err = CreateDebt(ctx, tx, in, userID); err != nil {
			return err
		}
		if err := store.Audit(ctx, tx, userID, "debt.create", DebtSubject(d.ID), createAudit(d)); err != nil {
			return err
		}
		_, err = s.enqueueDelivery(ctx, tx, d)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		err = fmt.Errorf("debts: create: %w", err)
	}
	return d, err
}

// Edit sends an edit (a rename included) through the outbox; for a failed
// debt it is the edit-and-retry. store.ErrConflict when the new ERP code is
// taken, ErrDebtBusy while an intent is pending.
func (s *Service) Edit(ctx context.Context, id int64, in DebtInput, userID int64) (Debt, error) {
	var d Debt
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		before, err := LockDebt(ctx, tx, id)
		if err != nil {
			return err
		}
		if d, err = EditDebt(ctx, tx, id, in, userID); err != nil {
			return err
		}
		if err := store.Audit(ctx, tx, userID, "debt.edit", DebtSubject(d.ID), editAudit(before, d)); err != nil {
			return err
		}
		_, err = s.enqueueDelivery(ctx, tx, d)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, ErrDebtBusy) {
		err = fmt.Errorf("debts: edit %d: %w", id, err)
	}
	return d, err
}

// Retry sends a failed debt again as it is, as a new intent.
// ErrDebtBusy while an intent is pending.
func (s *Service) Retry(ctx context.Context, id, userID int64) (Debt, error) {
	var d Debt
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if d, err = RetryDebt(ctx, tx, id, userID); err != nil {
			return err
		}
		if err := store.Audit(ctx, tx, userID, "debt.retry", DebtSubject(d.ID), map[string]any{"requestId": d.RequestID}); err != nil {
			return err
		}
		_, err = s.enqueueDelivery(ctx, tx, d)
		return err
	})
	if err != nil && !errors.Is(err, ErrDebtBusy) {
		err = fmt.Errorf("debts: retry %d: %w", id, err)
	}
	return d, err
}

// Resend makes debt id's data, as the mirror holds it, a new intent
// delivered through the outbox (an update when Finrota holds the debt,
// else a create), audited as the user's choice. ErrDebtBusy while an
// intent is pending.
func (s *Service) Resend(ctx context.Context, id, userID int64) (Debt, error) {
	var d Debt
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := LockDebt(ctx, tx, id)
		if err != nil {
			return err
		}
		in := DebtInput{AgentErpCode: cur.AgentErpCode, CurrentAccountErpCode: cur.CurrentAccountErpCode,
			Amount: cur.Amount, PaidAmount: cur.PaidAmount, DocumentNo: cur.DocumentNo, DocumentType: cur.DocumentType,
			DueDate: cur.DueDate, TransactionDate: cur.TransactionDate, CurrencyID: cur.CurrencyID, ErpCode: cur.ErpCode,
			Description: cur.Description}
		if d, err = EditDebt(ctx, tx, id, in, userID); err != nil {
			return err
		}
		if err := store.Audit(ctx, tx, userID, "debt.check.resend", DebtSubject(id),
			map[string]any{"op": d.Op, "requestId": d.RequestID}); err != nil {
			return err
		}
		_, err = s.enqueueDelivery(ctx, tx, d)
		return err
	})
	if err != nil && !errors.Is(err, ErrDebtBusy) {
		err = fmt.Errorf("debts: resend %d: %w", id, err)
	}
	return d, err
}

// createAudit is the history's record of a create: every field as entered.
func createAudit(d Debt) map[string]any {
	values := DebtValues(d)
	delete(values, "isActive")
	return map[string]any{"values": values, "requestId": d.RequestID}
}

// editAudit is the history's record of an edit: the old and new value of
// every field that changed.
func editAudit(before, after Debt) map[string]any {
	return map[string]any{"changes": DebtChanges(DebtValues(before), DebtValues(after)), "requestId": after.RequestID}
}
