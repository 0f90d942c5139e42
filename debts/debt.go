package debts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/store"
)

// The states of a debt in the outbox.
const (
	DebtPending   = "pending"
	DebtDelivered = "delivered"
	DebtFailed    = "failed"
)

// The operations an intent sends to Finrota.
const (
	DebtOpCreate = "create"
	DebtOpUpdate = "update"
)

// ErrDebtBusy means the debt has an intent still being delivered; it cannot
// be changed until Finrota has answered.
var ErrDebtBusy = errors.New("debts: debt is being delivered")

// Debt is a CAT debt as the mirror holds it: what the user wants Finrota to
// hold, and how far that has got.
type Debt struct {
	ID                    int64           `db:"id" json:"id"`
	ErpCode               string          `db:"erp_code" json:"erp_code"`
	RemoteErpCode         *string         `db:"remote_erp_code" json:"remote_erp_code"`
	FinrotaID             *string         `db:"finrota_id" json:"finrota_id"`
	AgentErpCode          string          `db:"agent_erp_code" json:"agent_erp_code"`
	CurrentAccountErpCode string          `db:"current_account_erp_code" json:"current_account_erp_code"`
	Amount                decimal.Decimal `db:"amount" json:"amount"`
	PaidAmount            decimal.Decimal `db:"paid_amount" json:"paid_amount"`
	DocumentNo            string          `db:"document_no" json:"document_no"`
	DocumentType          string          `db:"document_type" json:"document_type"`
	// DueDate and TransactionDate are calendar days (midnight UTC of the day).
	DueDate          time.Time       `db:"due_date" json:"due_date"`
	TransactionDate  time.Time       `db:"transaction_date" json:"transaction_date"`
	CurrencyID       string          `db:"currency_id" json:"currency_id"`
	Description      string          `db:"description" json:"description"`
	IsActive         bool            `db:"is_active" json:"is_active"`
	State            string          `db:"state" json:"state"`
	Op               string          `db:"op" json:"op"`
	Version          int             `db:"version" json:"version"`
	RequestID        string          `db:"request_id" json:"request_id"`
	JobID            *int64          `db:"job_id" json:"job_id"`
	LastErrorStatus  int             `db:"last_error_status" json:"last_error_status"`
	LastErrorCode    string          `db:"last_error_code" json:"last_error_code"`
	LastErrorMessage string          `db:"last_error_message" json:"last_error_message"`
	LastErrorFields  json.RawMessage `db:"last_error_fields" json:"last_error_fields"`
	CreatedBy        *int64          `db:"created_by" json:"created_by"`
	UpdatedBy        *int64          `db:"updated_by" json:"updated_by"`
	CreatedAt        time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt        time.Time       `db:"updated_at" json:"updated_at"`
	DeliveredAt      *time.Time      `db:"delivered_at" json:"delivered_at"`
	SeenAt           *time.Time      `db:"seen_at" json:"seen_at"`
}

// Outstanding is what is still to be paid.
func (d Debt) Outstanding() decimal.Decimal { return d.Amount.Sub(d.PaidAmount) }

// AtFinrota reports whether Finrota holds the debt (under RemoteErpCode).
func (d Debt) AtFinrota() bool { return d.RemoteErpCode != nil }

// ErrorFields returns the provider's field-level messages of the last failure.
func (d Debt) ErrorFields() map[string][]string {
	var f map[string][]string
	if len(d.LastErrorFields) > 0 {
		// Written by this package from Finrota's answer; should it ever not
		// parse, the debt shows its message without the field details.
		if err := json.Unmarshal(d.LastErrorFields, &f); err != nil {
			return nil
		}
	}
	return f
}

// Overdue reports whether Finrota's notification rule matches the debt on
// the Istanbul day today (a calendar day as midnight of any zone): Finrota
// holds it, it is active, PaidAmount ≤ Amount and it was due on or before
// today. Whether its agent and account are active is not the debt's to
// know; OverdueFilter applies that part.
func (d Debt) Overdue(today time.Time) bool {
	return d.AtFinrota() && d.IsActive && d.PaidAmount.LessThanOrEqual(d.Amount) && dayString(d.DueDate) <= dayString(today)
}

// FullyPaid reports whether nothing is left to pay: Finrota's overdue
// notification still mails such a debt when it is due.
func (d Debt) FullyPaid() bool { return d.PaidAmount.GreaterThanOrEqual(d.Amount) }

// DebtInput is what a person enters for a debt; dates are calendar days.
type DebtInput struct {
	AgentErpCode          string
	CurrentAccountErpCode string
	Amount, PaidAmount    decimal.Decimal
	DocumentNo            string
	DocumentType          string // Turkish wire value
	DueDate               time.Time
	TransactionDate       time.Time
	CurrencyID            string
	ErpCode               string
	Description           string
}

// dayString is the calendar day of t in its own location. Days travel to
// Postgres as text: a time.Time would be converted through the session's
// zone and could land on the previous day.
func dayString(t time.Time) string { return t.Format(time.DateOnly) }

const debtColumns = `id, erp_code, remote_erp_code, finrota_id, agent_erp_code, current_account_erp_code,
	amount, paid_amount, document_no, document_type, due_date, transaction_date, currency_id, description,
	is_active, state, op, version, request_id, job_id, last_error_status, last_error_code, last_error_message,
	last_error_fields, created_by, updated_by, created_at, updated_at, delivered_at, seen_at`

// Debt returns the debt with id, or store.ErrNotFound.
func (s *Service) Debt(ctx context.Context, id int64) (Debt, error) {
	var d Debt
	err := s.st.DB().GetContext(ctx, &d, `SELECT `+debtColumns+` FROM debts WHERE id = $1`, id)
	return d, store.NotFound(err)
}

// DebtByErpCode returns the debt whose wanted ERP code is code, or store.ErrNotFound.
func (s *Service) DebtByErpCode(ctx context.Context, code string) (Debt, error) {
	var d Debt
	err := s.st.DB().GetContext(ctx, &d, `SELECT `+debtColumns+` FROM debts WHERE erp_code = $1`, code)
	return d, store.NotFound(err)
}

// ErpCodeTaken reports whether code was ever used by a debt other than
// exceptID (0 for none): Finrota never lets an ERP code be reused.
func (s *Service) ErpCodeTaken(ctx context.Context, code string, exceptID int64) (bool, error) {
	var taken bool
	err := s.st.DB().GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM debt_erp_codes WHERE code = $1 AND debt_id <> $2)
		OR EXISTS (SELECT 1 FROM debts WHERE erp_code = $1 AND id <> $2)`, code, exceptID)
	if err != nil {
		return false, fmt.Errorf("debts: erp code taken: %w", err)
	}
	return taken, nil
}

// CreateDebt stores a new debt as a pending create through tx, with a fresh
// request id, and records the intent. The caller enqueues its delivery in
// the same transaction (SetDebtJob). store.ErrConflict when the ERP code was ever
// used.
func CreateDebt(ctx context.Context, tx *sqlx.Tx, in DebtInput, userID int64) (Debt, error) {
	var d Debt
	err := tx.GetContext(ctx, &d, `INSERT INTO debts (erp_code, agent_erp_code, current_account_erp_code, amount, paid_amount,
			document_no, document_type, due_date, transaction_date, currency_id, description, state, op, request_id,
			created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', 'create', $12, $13, $13)
		RETURNING `+debtColumns,
		in.ErpCode, in.AgentErpCode, in.CurrentAccountErpCode, in.Amount, in.PaidAmount, in.DocumentNo, in.DocumentType,
		dayString(in.DueDate), dayString(in.TransactionDate), in.CurrencyID, in.Description, uuid.NewString(), nullUser(userID))
	if store.IsUniqueViolation(err) {
		return Debt{}, store.ErrConflict
	}
	if err != nil {
		return Debt{}, fmt.Errorf("debts: create debt: %w", err)
	}
	if err := claimErpCode(ctx, tx, d.ErpCode, d.ID); err != nil {
		return Debt{}, err
	}
	if err := recordDelivery(ctx, tx, d, userID); err != nil {
		return Debt{}, err
	}
	return d, nil
}

// EditDebt replaces a delivered or failed debt's data through tx and makes
// it a pending intent again with a fresh request id: an update when Finrota
// holds the debt, else (a create that failed) the create once more.
// ErrDebtBusy while an earlier intent is pending; store.ErrConflict when the new
// ERP code was ever used by another debt; store.ErrNotFound when there is no debt.
func EditDebt(ctx context.Context, tx *sqlx.Tx, id int64, in DebtInput, userID int64) (Debt, error) {
	var state string
	if err := tx.GetContext(ctx, &state, `SELECT state FROM debts WHERE id = $1 FOR UPDATE`, id); err != nil {
		return Debt{}, store.NotFound(err)
	}
	if state == DebtPending {
		return Debt{}, ErrDebtBusy
	}
	if err := claimErpCode(ctx, tx, in.ErpCode, id); err != nil {
		return Debt{}, err
	}
	var d Debt
	err := tx.GetContext(ctx, &d, `UPDATE debts SET erp_code = $2, agent_erp_code = $3, current_account_erp_code = $4,
			amount = $5, paid_amount = $6, document_no = $7, document_type = $8, due_date = $9, transaction_date = $10,
			currency_id = $11, description = $12, state = 'pending',
			op = CASE WHEN remote_erp_code IS NULL THEN 'create' ELSE 'update' END,
			version = version + 1, request_id = $13, job_id = NULL, last_error_status = 0, last_error_code = '',
			last_error_message = '', last_error_fields = '{}', updated_by = $14, updated_at = now()
		WHERE id = $1 RETURNING `+debtColumns,
		id, in.ErpCode, in.AgentErpCode, in.CurrentAccountErpCode, in.Amount, in.PaidAmount, in.DocumentNo, in.DocumentType,
		dayString(in.DueDate), dayString(in.TransactionDate), in.CurrencyID, in.Description, uuid.NewString(), nullUser(userID))
	if store.IsUniqueViolation(err) {
		return Debt{}, store.ErrConflict
	}
	if err != nil {
		return Debt{}, fmt.Errorf("debts: edit debt: %w", err)
	}
	if err := recordDelivery(ctx, tx, d, userID); err != nil {
		return Debt{}, err
	}
	return d, nil
}

// RetryDebt makes a failed debt a pending intent again, unchanged, with a
// fresh request id. ErrDebtBusy unless it failed.
func RetryDebt(ctx context.Context, tx *sqlx.Tx, id int64, userID int64) (Debt, error) {
	var d Debt
	err := tx.GetContext(ctx, &d, `UPDATE debts SET state = 'pending', version = version + 1, request_id = $2,
			job_id = NULL, updated_by = $3, updated_at = now()
		WHERE id = $1 AND state = 'failed' RETURNING `+debtColumns, id, uuid.NewString(), nullUser(userID))
	if err != nil {
		if errors.Is(store.NotFound(err), store.ErrNotFound) {
			if _, gerr := getDebt(ctx, tx, id); gerr != nil {
				return Debt{}, gerr
			}
			return Debt{}, ErrDebtBusy
		}
		return Debt{}, fmt.Errorf("debts: retry debt: %w", err)
	}
	if err := recordDelivery(ctx, tx, d, userID); err != nil {
		return Debt{}, err
	}
	return d, nil
}

// SetDebtJob notes the job delivering the debt's current intent.
func SetDebtJob(ctx context.Context, tx *sqlx.Tx, id, jobID int64) error {
	return store.ExecOne(ctx, tx, `UPDATE debts SET job_id = $2 WHERE id = $1`, id, jobID)
}

func getDebt(ctx context.Context, q sqlx.QueryerContext, id int64) (Debt, error) {
	var d Debt
	err := sqlx.GetContext(ctx, q, &d, `SELECT `+debtColumns+` FROM debts WHERE id = $1`, id)
	return d, store.NotFound(err)
}

// claimErpCode records code as used by debt id; store.ErrConflict when another
// debt has used it.
func claimErpCode(ctx context.Context, q sqlx.ExtContext, code string, id int64) error {
	var owner int64
	err := sqlx.GetContext(ctx, q, &owner, `INSERT INTO debt_erp_codes (code, debt_id) VALUES ($1, $2)
		ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING debt_id`, code, id)
	if err != nil {
		return fmt.Errorf("debts: claim erp code: %w", err)
	}
	if owner != id {
		return store.ErrConflict
	}
	return nil
}

func recordDelivery(ctx context.Context, q sqlx.ExecerContext, d Debt, userID int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO debt_deliveries (debt_id, version, op, request_id, created_by) VALUES ($1, $2, $3, $4, $5)`,
		d.ID, d.Version, d.Op, d.RequestID, nullUser(userID))
	if err != nil {
		return fmt.Errorf("debts: record delivery: %w", err)
	}
	return nil
}

// DebtSubject names a debt in the audit log.
func DebtSubject(id int64) string { return fmt.Sprintf("debt:%d", id) }

// debtFieldOrder lists a debt's fields under the API's JSON names, in the
// form's order, for the history's old → new records.
var debtFieldOrder = []string{"erpCode", "agentErpCode", "currentAccountErpCode", "amount", "paidAmount", "currencyId",
	"documentNo", "documentType", "transactionDate", "dueDate", "description", "isActive"}

// DebtValues is a debt's data under the API's field names, as text.
func DebtValues(d Debt) map[string]string {
	return map[string]string{
		"erpCode": d.ErpCode, "agentErpCode": d.AgentErpCode, "currentAccountErpCode": d.CurrentAccountErpCode,
		"amount": d.Amount.StringFixed(2), "paidAmount": d.PaidAmount.StringFixed(2), "currencyId": d.CurrencyID,
		"documentNo": d.DocumentNo, "documentType": d.DocumentType, "transactionDate": dayString(d.TransactionDate),
		"dueDate": dayString(d.DueDate), "description": d.Description, "isActive": fmt.Sprint(d.IsActive),
	}
}

// RemoteDebtValues is a Finrota record's data under the API's field names,
// as text, to compare with DebtValues.
func RemoteDebtValues(r RemoteDebt) map[string]string { return remoteValues(r) }

func remoteValues(r RemoteDebt) map[string]string {
	return map[string]string{
		"erpCode": r.ErpCode, "agentErpCode": r.AgentErpCode, "currentAccountErpCode": r.CurrentAccountErpCode,
		"amount": r.Amount.StringFixed(2), "paidAmount": r.PaidAmount.StringFixed(2), "currencyId": r.CurrencyID,
		"documentNo": r.DocumentNo, "documentType": r.DocumentType, "transactionDate": dayString(r.TransactionDate),
		"dueDate": dayString(r.DueDate), "description": r.Description, "isActive": fmt.Sprint(r.IsActive),
	}
}

// DebtChange is one field's old and new value in the history.
type DebtChange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// DebtChanges lists the fields whose value differs between before and
// after (maps from DebtValues), by field name; empty when nothing changed.
func DebtChanges(before, after map[string]string) map[string]DebtChange {
	out := map[string]DebtChange{}
	for _, f := range debtFieldOrder {
		if before[f] != after[f] {
			out[f] = DebtChange{From: before[f], To: after[f]}
		}
	}
	return out
}

// LockDebt reads debt id through tx and locks it until tx ends, so what
// the caller compares (an edit's old values) is what the edit replaces.
func LockDebt(ctx context.Context, tx *sqlx.Tx, id int64) (Debt, error) {
	var d Debt
	err := tx.GetContext(ctx, &d, `SELECT `+debtColumns+` FROM debts WHERE id = $1 FOR UPDATE`, id)
	return d, store.NotFound(err)
}
