package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// ErrSyncRunning means a sync from Finrota is already under way.
var ErrSyncRunning = errors.New("store: a debt sync is already running")

// syncStale is how long a sync may stay "running" before another may start:
// its instance died, and the job runner will have given up on it.
const syncStale = time.Hour

// DebtSync is one pull of every page from Finrota into the mirror.
type DebtSync struct {
	ID          int64      `db:"id"`
	RequestedBy *string    `db:"requested_by"`
	StartedAt   time.Time  `db:"started_at"`
	NextPage    int        `db:"next_page"`
	Items       int        `db:"items"`
	Total       int        `db:"total"`
	State       string     `db:"state"`
	Error       string     `db:"error"`
	FinishedAt  *time.Time `db:"finished_at"`
}

const debtSyncColumns = `s.id, u.email AS requested_by, s.started_at, s.next_page, s.items, s.total, s.state, s.error, s.finished_at`

// StartDebtSync records a new sync through tx (the caller enqueues its job
// in the same transaction); ErrSyncRunning while another is running. The
// table lock makes two concurrent starts see each other.
func StartDebtSync(ctx context.Context, tx *sqlx.Tx, userID int64) (int64, error) {
	if _, err := tx.ExecContext(ctx, `LOCK TABLE debt_syncs IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("store: start debt sync: %w", err)
	}
	var running bool
	if err := tx.GetContext(ctx, &running, `SELECT EXISTS (SELECT 1 FROM debt_syncs WHERE state = 'running' AND started_at > now() - $1 * interval '1 second')`,
		int(syncStale.Seconds())); err != nil {
		return 0, fmt.Errorf("store: start debt sync: %w", err)
	}
	if running {
		return 0, ErrSyncRunning
	}
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO debt_syncs (requested_by) VALUES ($1) RETURNING id`, nullUser(userID))
	if err != nil {
		return 0, fmt.Errorf("store: start debt sync: %w", err)
	}
	return id, nil
}

// DebtSyncByID returns a sync, or ErrNotFound.
func (s *Store) DebtSyncByID(ctx context.Context, id int64) (DebtSync, error) {
	var ds DebtSync
	err := s.db.GetContext(ctx, &ds, `SELECT `+debtSyncColumns+` FROM debt_syncs s LEFT JOIN users u ON u.id = s.requested_by WHERE s.id = $1`, id)
	return ds, notFound(err)
}

// LatestDebtSync returns the most recent sync, or ErrNotFound.
func (s *Store) LatestDebtSync(ctx context.Context) (DebtSync, error) {
	var ds DebtSync
	err := s.db.GetContext(ctx, &ds, `SELECT `+debtSyncColumns+` FROM debt_syncs s LEFT JOIN users u ON u.id = s.requested_by ORDER BY s.id DESC LIMIT 1`)
	return ds, notFound(err)
}

// DebtSyncProgress records that the pages before nextPage are in the
// mirror, so a retried sync resumes there rather than spend the rate limit
// on them again.
func (s *Store) DebtSyncProgress(ctx context.Context, id int64, nextPage, items, total int) error {
	_, err := s.db.ExecContext(ctx, `UPDATE debt_syncs SET next_page = $2, items = $3, total = $4 WHERE id = $1`, id, nextPage, items, total)
	if err != nil {
		return fmt.Errorf("store: debt sync progress: %w", err)
	}
	return nil
}

// FinishDebtSync ends a sync. A complete one also marks inactive the
// delivered debts Finrota no longer lists (it hides soft-deleted debts).
func (s *Store) FinishDebtSync(ctx context.Context, id int64, failure string) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		state := "done"
		if failure != "" {
			state = "failed"
		}
		var started time.Time
		if err := tx.GetContext(ctx, &started, `UPDATE debt_syncs SET state = $2, error = $3, finished_at = now()
			WHERE id = $1 RETURNING started_at`, id, state, truncate(failure, 1000)); err != nil {
			return fmt.Errorf("store: finish debt sync: %w", notFound(err))
		}
		if failure != "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE debts SET is_active = false, updated_at = now()
			WHERE state = 'delivered' AND is_active AND seen_at < $1`, started)
		return err
	})
}

// RemoteDebt is a debt as Finrota lists it.
type RemoteDebt struct {
	FinrotaID             string
	ErpCode               string
	AgentErpCode          string
	CurrentAccountErpCode string
	Amount, PaidAmount    decimal.Decimal
	DocumentNo            string
	DocumentType          string
	DueDate               time.Time
	TransactionDate       time.Time
	CurrencyID            string
	Description           string
	IsActive              bool
}

// UpsertRemoteDebts brings one page from Finrota into the mirror, matching
// by Finrota id, then by ERP code. Debts with an intent pending or failed
// keep what the user entered (only their Finrota id is filled in); a
// debt delivered after fetchedAt keeps its newer data. New debts arrive
// delivered. It returns how many rows it inserted.
func (s *Store) UpsertRemoteDebts(ctx context.Context, items []RemoteDebt, fetchedAt time.Time) (int, error) {
	inserted := 0
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		inserted = 0
		for _, r := range items {
			var local struct {
				ID          int64      `db:"id"`
				State       string     `db:"state"`
				DeliveredAt *time.Time `db:"delivered_at"`
			}
			err := tx.GetContext(ctx, &local, `SELECT id, state, delivered_at FROM debts
				WHERE finrota_id = $1 OR (finrota_id IS NULL AND (remote_erp_code = $2 OR erp_code = $2))
				ORDER BY (finrota_id = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE`, r.FinrotaID, r.ErpCode)
			switch {
			case errors.Is(notFound(err), ErrNotFound):
				if err := insertRemote(ctx, tx, r); err != nil {
					return err
				}
				inserted++
				continue
			case err != nil:
				return err
			}
			if local.State != DebtDelivered || (local.DeliveredAt != nil && local.DeliveredAt.After(fetchedAt)) {
				if _, err := tx.ExecContext(ctx, `UPDATE debts SET finrota_id = COALESCE(finrota_id, $2), seen_at = now() WHERE id = $1`,
					local.ID, r.FinrotaID); err != nil {
					return err
				}
				continue
			}
			if err := claimErpCode(ctx, tx, r.ErpCode, local.ID); errors.Is(err, ErrConflict) {
				continue // another local debt holds the code; leave both for a person
			} else if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE debts SET erp_code = $2, remote_erp_code = $2, finrota_id = $3, agent_erp_code = $4,
					current_account_erp_code = $5, amount = $6, paid_amount = $7, document_no = $8, document_type = $9,
					due_date = $10, transaction_date = $11, currency_id = $12, description = $13, is_active = $14, seen_at = now(),
					updated_at = CASE WHEN (agent_erp_code, current_account_erp_code, amount, paid_amount, document_no, document_type,
						due_date, transaction_date, currency_id, description, is_active, erp_code)
						IS DISTINCT FROM ($4, $5, $6::numeric, $7::numeric, $8, $9, $10::date, $11::date, $12, $13, $14, $2)
						THEN now() ELSE updated_at END
				WHERE id = $1`, local.ID, r.ErpCode, r.FinrotaID, r.AgentErpCode, r.CurrentAccountErpCode, r.Amount, r.PaidAmount,
				r.DocumentNo, r.DocumentType, dayString(r.DueDate), dayString(r.TransactionDate), r.CurrencyID, r.Description, r.IsActive)
			if isUniqueViolation(err) {
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: upsert remote debts: %w", err)
	}
	return inserted, nil
}

func insertRemote(ctx context.Context, tx *sqlx.Tx, r RemoteDebt) error {
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO debts (erp_code, remote_erp_code, finrota_id, agent_erp_code, current_account_erp_code,
			amount, paid_amount, document_no, document_type, due_date, transaction_date, currency_id, description, is_active,
			state, op, request_id, delivered_at, seen_at)
		VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'delivered', 'create', '', now(), now())
		ON CONFLICT DO NOTHING RETURNING id`,
		r.ErpCode, r.FinrotaID, r.AgentErpCode, r.CurrentAccountErpCode, r.Amount, r.PaidAmount, r.DocumentNo, r.DocumentType,
		dayString(r.DueDate), dayString(r.TransactionDate), r.CurrencyID, r.Description, r.IsActive)
	if errors.Is(notFound(err), ErrNotFound) {
		return nil // the code or id is held by another row: nothing to add
	}
	if err != nil {
		return err
	}
	return claimErpCode(ctx, tx, r.ErpCode, id)
}

// The kinds of reference data the debt forms choose from.
const (
	RefAgent    = "agent"
	RefAccount  = "account"
	RefCurrency = "currency"
)

// DebtRef is an agent, current account or currency known to exist at Finrota.
type DebtRef struct {
	Kind   string `db:"kind"`
	Code   string `db:"code"`
	Name   string `db:"name"`
	Active bool   `db:"active"`
}

// NoteDebtRefs records codes seen on Finrota's debts; what is already
// known (names, activity from the sandbox) is kept.
func (s *Store) NoteDebtRefs(ctx context.Context, kind string, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO debt_refs (kind, code) SELECT $1, c FROM (SELECT DISTINCT unnest($2::text[]) AS c) AS codes WHERE c <> ''
		ON CONFLICT (kind, code) DO UPDATE SET seen_at = now()`, kind, pq.Array(codes))
	if err != nil {
		return fmt.Errorf("store: note debt refs: %w", err)
	}
	return nil
}

// PutDebtRefs records reference data with names and activity, replacing
// what is known about those codes.
func (s *Store) PutDebtRefs(ctx context.Context, refs []DebtRef) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		for _, r := range refs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO debt_refs (kind, code, name, active) VALUES ($1, $2, $3, $4)
				ON CONFLICT (kind, code) DO UPDATE SET name = EXCLUDED.name, active = EXCLUDED.active, seen_at = now()`,
				r.Kind, r.Code, r.Name, r.Active); err != nil {
				return fmt.Errorf("store: put debt refs: %w", err)
			}
		}
		return nil
	})
}

// DebtRefs returns the known references of kind, by code.
func (s *Store) DebtRefs(ctx context.Context, kind string) ([]DebtRef, error) {
	var rs []DebtRef
	err := s.db.SelectContext(ctx, &rs, `SELECT kind, code, name, active FROM debt_refs WHERE kind = $1 ORDER BY code`, kind)
	if err != nil {
		return nil, fmt.Errorf("store: debt refs: %w", err)
	}
	return rs, nil
}
