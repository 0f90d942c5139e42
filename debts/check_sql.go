package debts

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"kasa/store"
)

// takeFinrotaValues makes debt id hold what Finrota's record r holds, after
// a person compared both and chose Finrota's: the debt becomes delivered
// under r's ERP code and id, and the change is recorded in its history as
// the user's. ErrDebtBusy while an intent is pending (its outcome would
// overwrite the choice); store.ErrConflict when another debt holds r's ERP code
// or Finrota id.
func (s *Service) takeFinrotaValues(ctx context.Context, id int64, r RemoteDebt, userID int64) (Debt, error) {
	var after Debt
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		before, err := LockDebt(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.State == DebtPending {
			return ErrDebtBusy
		}
		if err := claimErpCode(ctx, tx, r.ErpCode, id); err != nil {
			return err
		}
		err = tx.GetContext(ctx, &after, `UPDATE debts SET erp_code = $2, remote_erp_code = $2, finrota_id = $3,
				agent_erp_code = $4, current_account_erp_code = $5, amount = $6, paid_amount = $7, document_no = $8,
				document_type = $9, due_date = $10, transaction_date = $11, currency_id = $12, description = $13,
				is_active = $14, state = 'delivered', delivered_at = coalesce(delivered_at, now()), seen_at = now(),
				last_error_status = 0, last_error_code = '', last_error_message = '', last_error_fields = '{}',
				updated_by = $15, updated_at = now()
			WHERE id = $1 RETURNING `+debtColumns,
			id, r.ErpCode, nullIfEmpty(r.FinrotaID), r.AgentErpCode, r.CurrentAccountErpCode, r.Amount, r.PaidAmount, r.DocumentNo,
			r.DocumentType, dayString(r.DueDate), dayString(r.TransactionDate), r.CurrencyID, r.Description, r.IsActive, nullUser(userID))
		if store.IsUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		return store.Audit(ctx, tx, userID, "debt.check.take", DebtSubject(id), map[string]any{
			"changes": DebtChanges(DebtValues(before), DebtValues(after)), "finrotaId": r.FinrotaID,
		})
	})
	if err != nil {
		return Debt{}, fmt.Errorf("debts: take finrota values: %w", err)
	}
	return after, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
