package debts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"kasa/store"
)

// ErrSyncRunning means a sync from Finrota is already under way.
var ErrSyncRunning = errors.New("debts: a debt sync is already running")

// syncStale is how long a sync may stay "running" before another may start:
// its instance died, and the job runner will have given up on it.
const syncStale = time.Hour

// DebtSync is one pull of every page from Finrota into the mirror.
type DebtSync struct {
	ID          int64     `db:"id" json:"id"`
	RequestedBy *string   `db:"requested_by" json:"requested_by"`
	StartedAt   time.Time `db:"started_at" json:"started_at"`
	NextPage    int       `db:"next_page" json:"next_page"`
	Items       int       `db:"items" json:"items"`
	Total       int       `db:"total" json:"total"`
	State       string    `db:"state" json:"state"`
	// Error is why the sync failed or, while it is running, why its last
	// attempt did not finish: a reason code for the page to translate.
	Error      string     `db:"error" json:"error"`
	FinishedAt *time.Time `db:"finished_at" json:"finished_at"`
	// RetryAt is when a running sync whose last attempt failed tries
	// again (its job's next run); Attempts and MaxAttempts count its job's
	// attempts. Nil and 0 when no job is known or it is not waiting.
	RetryAt     *time.Time `db:"retry_at" json:"retry_at"`
	Attempts    int        `db:"attempts" json:"attempts"`
	MaxAttempts int        `db:"max_attempts" json:"max_attempts"`
}

// Retrying reports whether the sync is running but its last attempt failed:
// it waits for its next attempt, and Error says why.
func (s DebtSync) Retrying() bool { return s.State == "running" && s.Error != "" }

const debtSyncColumns = `s.id, u.email AS requested_by, s.started_at, s.next_page, s.items, s.total, s.state, s.error, s.finished_at,
	(SELECT j.scheduled_at FROM river_job j WHERE j.id = s.job_id AND j.state IN ('retryable', 'scheduled')
		AND j.attempted_at IS NOT NULL) AS retry_at,
	coalesce((SELECT j.attempt FROM river_job j WHERE j.id = s.job_id), 0) AS attempts,
	coalesce((SELECT j.max_attempts FROM river_job j WHERE j.id = s.job_id), 0) AS max_attempts`

// StartDebtSync records a new sync through tx (the caller enqueues its job
// in the same transaction); ErrSyncRunning while another is running. The
// table lock makes two concurrent starts see each other.
func StartDebtSync(ctx context.Context, tx *sqlx.Tx, userID int64) (int64, error) {
	if _, err := tx.ExecContext(ctx, `LOCK TABLE debt_syncs IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("debts: start debt sync: %w", err)
	}
	var running bool
	if err := tx.GetContext(ctx, &running, `SELECT EXISTS (SELECT 1 FROM debt_syncs WHERE state = 'running' AND started_at > now() - $1 * interval '1 second')`,
		int(syncStale.Seconds())); err != nil {
		return 0, fmt.Errorf("debts: start debt sync: %w", err)
	}
	if running {
		return 0, ErrSyncRunning
	}
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO debt_syncs (requested_by) VALUES ($1) RETURNING id`, nullUser(userID))
	if err != nil {
		return 0, fmt.Errorf("debts: start debt sync: %w", err)
	}
	return id, nil
}

// SetDebtSyncJob ties sync id to the job that runs it, through tx.
func SetDebtSyncJob(ctx context.Context, tx *sqlx.Tx, id, jobID int64) error {
	return store.ExecOne(ctx, tx, `UPDATE debt_syncs SET job_id = $2 WHERE id = $1`, id, jobID)
}

// NoteDebtSyncRetry records why a running sync's attempt failed (a reason
// code, as FinishDebtSync takes), while it waits for the next one.
func (s *Service) NoteDebtSyncRetry(ctx context.Context, id int64, reason string) error {
	_, err := s.st.DB().ExecContext(ctx, `UPDATE debt_syncs SET error = $2 WHERE id = $1 AND state = 'running'`, id, store.Truncate(reason, 1000))
	if err != nil {
		return fmt.Errorf("debts: note debt sync retry: %w", err)
	}
	return nil
}

// DebtSyncByID returns a sync, or store.ErrNotFound.
func (s *Service) DebtSyncByID(ctx context.Context, id int64) (DebtSync, error) {
	var ds DebtSync
	err := s.st.DB().GetContext(ctx, &ds, `SELECT `+debtSyncColumns+` FROM debt_syncs s LEFT JOIN users u ON u.id = s.requested_by WHERE s.id = $1`, id)
	return ds, store.NotFound(err)
}

// StartScheduledDebtSync returns the sync run by the scheduled job jobID,
// starting it on the job's first attempt so that its retries resume the
// same sync; ErrSyncRunning when another sync is running.
func (s *Service) StartScheduledDebtSync(ctx context.Context, jobID int64) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &id, `SELECT id FROM debt_syncs WHERE job_id = $1`, jobID)
		if !errors.Is(store.NotFound(err), store.ErrNotFound) {
			return err
		}
		if id, err = StartDebtSync(ctx, tx, 0); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE debt_syncs SET job_id = $2 WHERE id = $1`, id, jobID)
		return err
	})
	if err != nil && !errors.Is(err, ErrSyncRunning) {
		return 0, fmt.Errorf("debts: start scheduled debt sync: %w", err)
	}
	return id, err
}

// LatestDebtSync returns the most recent sync, or store.ErrNotFound.
func (s *Service) LatestDebtSync(ctx context.Context) (DebtSync, error) {
	var ds DebtSync
	err := s.st.DB().GetContext(ctx, &ds, `SELECT `+debtSyncColumns+` FROM debt_syncs s LEFT JOIN users u ON u.id = s.requested_by ORDER BY s.id DESC LIMIT 1`)
	return ds, store.NotFound(err)
}

// DebtSyncProgress records that the pages before nextPage are in the
// mirror, so a retried sync resumes there rather than spend the rate limit
// on them again.
func (s *Service) DebtSyncProgress(ctx context.Context, id int64, nextPage, items, total int) error {
	// A page read means the sync runs again: the last failure is past.
	_, err := s.st.DB().ExecContext(ctx, `UPDATE debt_syncs SET next_page = $2, items = $3, total = $4,
		error = CASE WHEN state = 'running' THEN '' ELSE error END WHERE id = $1`, id, nextPage, items, total)
	if err != nil {
		return fmt.Errorf("debts: debt sync progress: %w", err)
	}
	return nil
}

// FinishDebtSync ends a sync. failure is a short reason code for the page
// to translate (never an error's text, which may name hosts). A complete
// sync also marks inactive the delivered debts Finrota no longer lists (it
// hides soft-deleted debts), and notes that in their history.
func (s *Service) FinishDebtSync(ctx context.Context, id int64, failure string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		state := "done"
		if failure != "" {
			state = "failed"
		}
		var started time.Time
		if err := tx.GetContext(ctx, &started, `UPDATE debt_syncs SET state = $2, error = $3, finished_at = now()
			WHERE id = $1 RETURNING started_at`, id, state, store.Truncate(failure, 1000)); err != nil {
			return fmt.Errorf("debts: finish debt sync: %w", store.NotFound(err))
		}
		if failure != "" {
			return nil
		}
		var gone []int64
		if err := tx.SelectContext(ctx, &gone, `UPDATE debts SET is_active = false, updated_at = now()
			WHERE state = 'delivered' AND is_active AND seen_at < $1 RETURNING id`, started); err != nil {
			return fmt.Errorf("debts: finish debt sync: %w", err)
		}
		for _, d := range gone {
			if err := store.Audit(ctx, tx, 0, "debt.synced", DebtSubject(d), map[string]any{
				"changes": map[string]DebtChange{"isActive": {From: "true", To: "false"}}, "sync": id,
			}); err != nil {
				return err
			}
		}
		return nil
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

// UpsertRemoteDebts brings one page from Finrota into the mirror. A remote
// record is matched to a local debt only where it is provably ours: by the
// Finrota id we learnt from our own delivery, by the ERP code Finrota
// confirmed to us (remote_erp_code), or, for a create never confirmed, by
// its ERP code when the record holds exactly the data we sent (a lost
// reply). Someone else's record under a code one of our undelivered debts
// wants is left out of the mirror; our debt keeps its 409. Debts with an
// intent pending or failed keep what the user entered; a debt delivered
// after fetchedAt keeps its newer data. New debts arrive delivered.
// Changes a sync makes to a debt are recorded in its history. It returns
// how many rows it inserted.
func (s *Service) UpsertRemoteDebts(ctx context.Context, items []RemoteDebt, fetchedAt time.Time) (int, error) {
	inserted := 0
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		inserted = 0
		for _, r := range items {
			local, proven, err := matchRemote(ctx, tx, r)
			if err != nil {
				return err
			}
			if proven == matchSkip {
				continue
			}
			if local == nil {
				added, err := insertRemote(ctx, tx, r)
				if err != nil {
					return err
				}
				if added {
					inserted++
				}
				continue
			}
			if err := upsertMatched(ctx, tx, *local, proven, r, fetchedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("debts: upsert remote debts: %w", err)
	}
	return inserted, nil
}

// The ways a remote record is matched to a local debt.
const (
	matchByID       = "id"       // the Finrota id of our delivery
	matchByRemote   = "remote"   // the ERP code Finrota confirmed to us
	matchByContents = "contents" // an unconfirmed create holding exactly our data
	matchSkip       = "skip"     // someone else's record under a code our unconfirmed debt wants
)

// matchRemote finds the local debt r provably is, locked, and how; nil when
// there is none, with matchSkip when the record is someone else's under a
// code one of our unconfirmed debts wants.
func matchRemote(ctx context.Context, tx *sqlx.Tx, r RemoteDebt) (*Debt, string, error) {
	var d Debt
	for _, m := range []struct{ how, where, arg string }{
		{matchByID, `finrota_id = $1`, r.FinrotaID},
		{matchByRemote, `finrota_id IS NULL AND remote_erp_code = $1`, r.ErpCode},
		{matchByContents, `finrota_id IS NULL AND remote_erp_code IS NULL AND erp_code = $1`, r.ErpCode},
	} {
		if m.arg == "" {
			continue
		}
		err := tx.GetContext(ctx, &d, `SELECT `+debtColumns+` FROM debts WHERE `+m.where+` LIMIT 1 FOR UPDATE`, m.arg)
		if errors.Is(store.NotFound(err), store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if m.how == matchByContents && !sameContents(DebtValues(d), remoteValues(r)) {
			return nil, matchSkip, nil
		}
		return &d, m.how, nil
	}
	return nil, "", nil
}

// sameContents reports whether a record holds exactly a debt's data (its
// activity aside).
func sameContents(local, remote map[string]string) bool {
	ch := DebtChanges(local, remote)
	delete(ch, "isActive")
	return len(ch) == 0
}

func upsertMatched(ctx context.Context, tx *sqlx.Tx, local Debt, how string, r RemoteDebt, fetchedAt time.Time) error {
	if how == matchByContents {
		// Finrota holds exactly what the user wants: the create landed and
		// its answer was lost. A pending one is settled by its own job.
		if _, err := tx.ExecContext(ctx, `UPDATE debts SET finrota_id = $2, seen_at = now() WHERE id = $1`, local.ID, r.FinrotaID); err != nil {
			return err
		}
		if local.State != DebtFailed {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE debts SET state = 'delivered', remote_erp_code = erp_code, delivered_at = now(),
				last_error_status = 0, last_error_code = '', last_error_message = '', last_error_fields = '{}', updated_at = now()
			WHERE id = $1`, local.ID); err != nil {
			return err
		}
		return store.Audit(ctx, tx, 0, "debt.delivered", DebtSubject(local.ID), map[string]any{"op": local.Op, "erpCode": local.ErpCode, "via": "sync"})
	}
	if local.State != DebtDelivered || (local.DeliveredAt != nil && local.DeliveredAt.After(fetchedAt)) {
		_, err := tx.ExecContext(ctx, `UPDATE debts SET finrota_id = COALESCE(finrota_id, $2), seen_at = now() WHERE id = $1`,
			local.ID, r.FinrotaID)
		return err
	}
	// The record may have been renamed at Finrota. Its new code is taken
	// unless another local debt has used it; then only the code stays as
	// it was, and the debt still counts as seen.
	rename := r.ErpCode != local.ErpCode || local.RemoteErpCode == nil || *local.RemoteErpCode != r.ErpCode
	if rename {
		var holder int64
		err := tx.GetContext(ctx, &holder, `SELECT id FROM debts WHERE erp_code = $1 AND id <> $2`, r.ErpCode, local.ID)
		switch {
		case err == nil:
			rename = false
		case !errors.Is(store.NotFound(err), store.ErrNotFound):
			return err
		default:
			if err := claimErpCode(ctx, tx, r.ErpCode, local.ID); errors.Is(err, store.ErrConflict) {
				rename = false
			} else if err != nil {
				return err
			}
		}
	}
	before := DebtValues(local)
	var after Debt
	err := tx.GetContext(ctx, &after, `UPDATE debts SET erp_code = CASE WHEN $15 THEN $2 ELSE erp_code END,
			remote_erp_code = CASE WHEN $15 THEN $2 ELSE remote_erp_code END, finrota_id = $3, agent_erp_code = $4,
			current_account_erp_code = $5, amount = $6, paid_amount = $7, document_no = $8, document_type = $9,
			due_date = $10, transaction_date = $11, currency_id = $12, description = $13, is_active = $14, seen_at = now(),
			updated_at = CASE WHEN (agent_erp_code, current_account_erp_code, amount, paid_amount, document_no, document_type,
				due_date, transaction_date, currency_id, description, is_active, erp_code)
				IS DISTINCT FROM ($4, $5, $6::numeric, $7::numeric, $8, $9, $10::date, $11::date, $12, $13, $14,
					CASE WHEN $15 THEN $2 ELSE erp_code END)
				THEN now() ELSE updated_at END
		WHERE id = $1 RETURNING `+debtColumns, local.ID, r.ErpCode, r.FinrotaID, r.AgentErpCode, r.CurrentAccountErpCode, r.Amount, r.PaidAmount,
		r.DocumentNo, r.DocumentType, dayString(r.DueDate), dayString(r.TransactionDate), r.CurrencyID, r.Description, r.IsActive, rename)
	if err != nil {
		return err
	}
	changes := DebtChanges(before, DebtValues(after))
	if len(changes) == 0 {
		return nil
	}
	details := map[string]any{"changes": changes}
	if !rename && r.ErpCode != after.ErpCode {
		details["finrotaErpCode"] = r.ErpCode // another local debt holds it: for a person
	}
	return store.Audit(ctx, tx, 0, "debt.synced", DebtSubject(local.ID), details)
}

// insertRemote adds a record Finrota holds and the mirror does not; false
// when its code or id is held by another row. The code is recorded as
// used even when a local debt claimed it first (a create Finrota refused
// with 409 because this record had it): the code is used either way.
func insertRemote(ctx context.Context, tx *sqlx.Tx, r RemoteDebt) (bool, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO debts (erp_code, remote_erp_code, finrota_id, agent_erp_code, current_account_erp_code,
			amount, paid_amount, document_no, document_type, due_date, transaction_date, currency_id, description, is_active,
			state, op, request_id, delivered_at, seen_at)
		VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'delivered', 'create', '', now(), now())
		ON CONFLICT DO NOTHING RETURNING id`,
		r.ErpCode, r.FinrotaID, r.AgentErpCode, r.CurrentAccountErpCode, r.Amount, r.PaidAmount, r.DocumentNo, r.DocumentType,
		dayString(r.DueDate), dayString(r.TransactionDate), r.CurrencyID, r.Description, r.IsActive)
	if errors.Is(store.NotFound(err), store.ErrNotFound) {
		return false, nil // the code or id is held by another row: nothing to add
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO debt_erp_codes (code, debt_id) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING`, r.ErpCode, id); err != nil {
		return false, fmt.Errorf("debts: claim erp code: %w", err)
	}
	return true, nil
}

// The kinds of reference data the debt forms choose from.
const (
	RefAgent    = "agent"
	RefAccount  = "account"
	RefCurrency = "currency"
)

// The sources of what is known about a reference's activity.
const (
	RefSeen     = "seen"     // on a synced debt: activity unknown
	RefList     = "list"     // an authoritative list (the sandbox portal's)
	RefProvider = "provider" // Finrota's own answer to a delivery
)

// DebtRef is an agent, current account or currency known to exist at Finrota.
type DebtRef struct {
	Kind   string `db:"kind" json:"kind"`
	Code   string `db:"code" json:"code"`
	Name   string `db:"name" json:"name"`
	Active bool   `db:"active" json:"active"`
	// Source says how Active is known (RefSeen: it is not).
	Source string `db:"source" json:"source"`
}

// Listed reports whether the ref comes from an authoritative list.
func (r DebtRef) Listed() bool { return r.Source == RefList }

// ActivityKnown reports whether Active is known rather than assumed.
func (r DebtRef) ActivityKnown() bool { return r.Source == RefList || r.Source == RefProvider }

// NoteDebtRefs records codes seen on Finrota's debts; what is already
// known (names, activity from a list or from Finrota) is kept.
func (s *Service) NoteDebtRefs(ctx context.Context, kind string, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	_, err := s.st.DB().ExecContext(ctx, `INSERT INTO debt_refs (kind, code) SELECT $1, c FROM (SELECT DISTINCT unnest($2::text[]) AS c) AS codes WHERE c <> ''
		ON CONFLICT (kind, code) DO UPDATE SET seen_at = now()`, kind, pq.Array(codes))
	if err != nil {
		return fmt.Errorf("debts: note debt refs: %w", err)
	}
	return nil
}

// PutDebtRefs records an authoritative list's reference data with names
// and activity, replacing what is known about those codes.
func (s *Service) PutDebtRefs(ctx context.Context, refs []DebtRef) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, r := range refs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO debt_refs (kind, code, name, active, source) VALUES ($1, $2, $3, $4, 'list')
				ON CONFLICT (kind, code) DO UPDATE SET name = EXCLUDED.name, active = EXCLUDED.active, source = 'list', seen_at = now()`,
				r.Kind, r.Code, r.Name, r.Active); err != nil {
				return fmt.Errorf("debts: put debt refs: %w", err)
			}
		}
		return nil
	})
}

// LearnDebtRef records what Finrota's answer to a delivery showed about a
// code: active (it accepted a debt booked to it) or not (a 404 naming it).
func (s *Service) LearnDebtRef(ctx context.Context, kind, code string, active bool) error {
	if code == "" {
		return nil
	}
	_, err := s.st.DB().ExecContext(ctx, `INSERT INTO debt_refs (kind, code, active, source) VALUES ($1, $2, $3, 'provider')
		ON CONFLICT (kind, code) DO UPDATE SET active = EXCLUDED.active, seen_at = now(),
			source = CASE WHEN debt_refs.source = 'list' THEN 'list' ELSE 'provider' END`, kind, code, active)
	if err != nil {
		return fmt.Errorf("debts: learn debt ref: %w", err)
	}
	return nil
}

// DebtRefs returns the known references of kind, by code.
func (s *Service) DebtRefs(ctx context.Context, kind string) ([]DebtRef, error) {
	var rs []DebtRef
	err := s.st.DB().SelectContext(ctx, &rs, `SELECT kind, code, name, active, source FROM debt_refs WHERE kind = $1 ORDER BY code`, kind)
	if err != nil {
		return nil, fmt.Errorf("debts: debt refs: %w", err)
	}
	return rs, nil
}

// AllDebtRefs returns every known reference, by kind and code: one query
// for a page that needs all three kinds.
func (s *Service) AllDebtRefs(ctx context.Context) ([]DebtRef, error) {
	var rs []DebtRef
	err := s.st.DB().SelectContext(ctx, &rs, `SELECT kind, code, name, active, source FROM debt_refs ORDER BY kind, code`)
	if err != nil {
		return nil, fmt.Errorf("debts: debt refs: %w", err)
	}
	return rs, nil
}
