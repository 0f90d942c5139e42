package debts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"kasa/store"
)

// DebtError is Finrota's answer to a failed delivery, kept so the product
// can explain it in the user's language and put it next to the field.
type DebtError struct {
	Status  int
	Code    string
	Message string
	Fields  map[string][]string
}

func (e DebtError) fieldsJSON() []byte {
	if len(e.Fields) == 0 {
		return []byte("{}")
	}
	b, err := json.Marshal(e.Fields)
	if err != nil {
		return []byte("{}")
	}
	return b
}

// FinrotaIDTakenError means Finrota confirmed a debt under a record id the
// mirror already links to another debt (the debts_finrota_id key): the
// delivery cannot be recorded until a person settles which debt that
// record is, so it fails visibly instead of being retried for ever.
type FinrotaIDTakenError struct {
	FinrotaID string
	// OtherID and OtherErpCode name the debt holding the id (0 and ""
	// when it could not be read).
	OtherID      int64
	OtherErpCode string
}

// Error describes the collision.
func (e *FinrotaIDTakenError) Error() string {
	return fmt.Sprintf("finrota record %s is already linked to debt %d (%s)", e.FinrotaID, e.OtherID, e.OtherErpCode)
}

// DebtConstraintError means the mirror refused to record a delivery
// Finrota accepted because of one of its own rules (a database
// constraint): retrying cannot change that, so the delivery fails visibly.
type DebtConstraintError struct {
	Constraint string
	Err        error
}

// Error names the constraint.
func (e *DebtConstraintError) Error() string {
	return fmt.Sprintf("the mirror's rule %q refused the delivery: %v", e.Constraint, e.Err)
}

// Unwrap returns the database's error.
func (e *DebtConstraintError) Unwrap() error { return e.Err }

// MarkDebtDelivered records that Finrota holds intent version of debt id:
// its ERP code is now the remote one. finrotaID, when not empty, is the
// record's GUID, which the caller has proven is ours. A delivered create
// takes it (or none) in place of any id the debt had: only the answer to
// our own create names our record. It reports false when the intent is no
// longer current (a newer edit, or a retry of a job that already
// finished), changing nothing. A *FinrotaIDTakenError when another debt
// already holds finrotaID, a *DebtConstraintError when another of the
// mirror's rules refuses the change.
func (s *Service) MarkDebtDelivered(ctx context.Context, id int64, version int, finrotaID string) (bool, error) {
	applied := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var d Debt
		err := tx.GetContext(ctx, &d, `UPDATE debts SET state = 'delivered', remote_erp_code = erp_code,
				finrota_id = CASE WHEN op = 'create' THEN NULLIF($3, '') ELSE COALESCE(NULLIF($3, ''), finrota_id) END,
				delivered_at = now(), seen_at = now(),
				last_error_status = 0, last_error_code = '', last_error_message = '', last_error_fields = '{}', updated_at = now()
			WHERE id = $1 AND version = $2 AND state = 'pending' RETURNING `+debtColumns, id, version, finrotaID)
		if err != nil {
			if store.NotFound(err) == store.ErrNotFound {
				return nil
			}
			return err
		}
		applied = true
		return store.Audit(ctx, tx, 0, "debt.delivered", DebtSubject(id), map[string]any{
			"op": d.Op, "erpCode": d.ErpCode, "requestId": d.RequestID,
		})
	})
	if store.IsUniqueViolation(err) && finrotaID != "" {
		taken := &FinrotaIDTakenError{FinrotaID: finrotaID}
		var other struct {
			ID      int64  `db:"id"`
			ErpCode string `db:"erp_code"`
		}
		if gerr := s.st.DB().GetContext(ctx, &other, `SELECT id, erp_code FROM debts WHERE finrota_id = $1 AND id <> $2`, finrotaID, id); gerr == nil {
			taken.OtherID, taken.OtherErpCode = other.ID, other.ErpCode
		}
		return false, fmt.Errorf("debts: mark debt delivered: %w", taken)
	}
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code.Class() == "23" {
		return false, fmt.Errorf("debts: mark debt delivered: %w", &DebtConstraintError{Constraint: pe.Constraint, Err: err})
	}
	if err != nil {
		return false, fmt.Errorf("debts: mark debt delivered: %w", err)
	}
	return applied, nil
}

// MarkDebtFailed records that Finrota refused intent version of debt id,
// with its reason; false when the intent is no longer current.
func (s *Service) MarkDebtFailed(ctx context.Context, id int64, version int, e DebtError) (bool, error) {
	applied := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var d Debt
		err := tx.GetContext(ctx, &d, `UPDATE debts SET state = 'failed', last_error_status = $3, last_error_code = $4,
				last_error_message = $5, last_error_fields = $6::jsonb, updated_at = now()
			WHERE id = $1 AND version = $2 AND state = 'pending' RETURNING `+debtColumns,
			id, version, e.Status, e.Code, store.Truncate(e.Message, 1000), string(e.fieldsJSON()))
		if err != nil {
			if store.NotFound(err) == store.ErrNotFound {
				return nil
			}
			return err
		}
		applied = true
		return store.Audit(ctx, tx, 0, "debt.failed", DebtSubject(id), map[string]any{
			"op": d.Op, "status": e.Status, "code": e.Code, "message": store.Truncate(e.Message, 300), "requestId": d.RequestID,
		})
	})
	if err != nil {
		return false, fmt.Errorf("debts: mark debt failed: %w", err)
	}
	return applied, nil
}

// NoteDebtRetry keeps intent version of debt id pending and notes why the
// last attempt did not land (with e.Fields, e.g. the wait Finrota asked
// for), so the page can say the outbox is retrying and why.
func (s *Service) NoteDebtRetry(ctx context.Context, id int64, version int, e DebtError) error {
	_, err := s.st.DB().ExecContext(ctx, `UPDATE debts SET last_error_status = $3, last_error_code = $4, last_error_message = $5,
			last_error_fields = $6::jsonb, updated_at = now()
		WHERE id = $1 AND version = $2 AND state = 'pending'`, id, version, e.Status, e.Code, store.Truncate(e.Message, 1000), string(e.fieldsJSON()))
	if err != nil {
		return fmt.Errorf("debts: note debt retry: %w", err)
	}
	return nil
}

// DebtDelivery is one intent sent for a debt, with the API calls it made.
type DebtDelivery struct {
	ID        int64           `db:"id" json:"id"`
	Version   int             `db:"version" json:"version"`
	Op        string          `db:"op" json:"op"`
	RequestID string          `db:"request_id" json:"request_id"`
	By        *string         `db:"by_email" json:"by_email"`
	CreatedAt time.Time       `db:"created_at" json:"created_at"`
	Calls     []store.APICall `db:"-" json:"-"`
}

// DebtDeliveries returns the intents sent for debt id, newest first, each
// with the calls recorded under its X-Request-ID (retries share it).
func (s *Service) DebtDeliveries(ctx context.Context, id int64) ([]DebtDelivery, error) {
	var ds []DebtDelivery
	if err := s.st.DB().SelectContext(ctx, &ds, `SELECT d.id, d.version, d.op, d.request_id, u.email AS by_email, d.created_at
		FROM debt_deliveries d LEFT JOIN users u ON u.id = d.created_by WHERE d.debt_id = $1 ORDER BY d.id DESC LIMIT 50`, id); err != nil {
		return nil, fmt.Errorf("debts: debt deliveries: %w", err)
	}
	if len(ds) == 0 {
		return ds, nil
	}
	requestIDs := make([]string, len(ds))
	for i, d := range ds {
		requestIDs[i] = d.RequestID
	}
	var calls []store.APICall
	if err := s.st.DB().SelectContext(ctx, &calls, `SELECT c.id, c.at, c.provider, c.operation, c.method, c.status, c.duration_ms,
			c.request_id, c.error_code, c.failure
		FROM api_calls c WHERE c.request_id = ANY($1) ORDER BY c.at DESC, c.id DESC LIMIT 200`, pq.Array(requestIDs)); err != nil {
		return nil, fmt.Errorf("debts: debt api calls: %w", err)
	}
	byRequest := map[string]int{}
	for i, d := range ds {
		byRequest[d.RequestID] = i
	}
	for _, c := range calls {
		// Calls of deliveries older than the ones shown are left out.
		if i, ok := byRequest[c.RequestID]; ok {
			ds[i].Calls = append(ds[i].Calls, c)
		}
	}
	return ds, nil
}
