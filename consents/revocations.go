package consents

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/store"
)

// CancelPending withdraws, in the product only, a consent the
// customer has not approved: the bank's delete needs the customer's token,
// which such a consent never had. Its one-time states are spent, so a late
// return from the bank changes nothing, and the bank lets it lapse at its
// approval deadline. code and detail say why when it was not a person's
// choice (a bank link that was not followed). store.ErrConflict when the
// consent is no longer pending or already has tokens.
func (s *Service) CancelPending(ctx context.Context, id, by int64, code, detail string) error {
	now := s.now()
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE garanti_consents SET status = 'revoked', revoked_at = COALESCE(revoked_at, $2),
			last_error_code = $3, last_error = $4, updated_at = $2
			WHERE id = $1 AND status IN ('awaiting_authorisation', 'authorised')
			AND NOT EXISTS (SELECT 1 FROM garanti_tokens t WHERE t.consent_id = garanti_consents.id)`, id, now, code, store.Truncate(detail, 500))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrConflict
		}
		if _, err := tx.ExecContext(ctx, `UPDATE garanti_oauth_states SET used_at = COALESCE(used_at, $2) WHERE consent_id = $1`, id, now); err != nil {
			return err
		}
		return store.Audit(ctx, tx, by, "garanti.consent.cancel", Subject(id), map[string]any{"reason": code})
	})
	if err != nil {
		return fmt.Errorf("consents: cancel pending consent %d: %w", id, err)
	}
	return nil
}

// Revocation states.
const (
	RevocationPending = "pending"
	RevocationDone    = "done"
	RevocationFailed  = "failed"
)

// RevocationRequest is a withdrawal asked of the bank (the outbox
// row of a revoke): kept until the bank confirms it, retried meanwhile.
type RevocationRequest struct {
	ID            int64      `db:"id" json:"id"`
	ConsentID     int64      `db:"consent_id" json:"consent_id"`
	Mode          string     `db:"mode" json:"mode"` // all, authority, product, both
	AuthorityID   string     `db:"authority_id" json:"authority_id"`
	ProductID     string     `db:"product_id" json:"product_id"`
	State         string     `db:"state" json:"state"`
	RawStatus     string     `db:"raw_status" json:"raw_status"`
	LastErrorCode string     `db:"last_error_code" json:"last_error_code"`
	LastError     string     `db:"last_error" json:"last_error"`
	JobID         *int64     `db:"job_id" json:"job_id"`
	RequestedBy   *int64     `db:"requested_by" json:"requested_by"`
	CreatedAt     time.Time  `db:"created_at" json:"created_at"`
	FinishedAt    *time.Time `db:"finished_at" json:"finished_at"`
}

// Items is what the delete withdraws, nothing for the whole consent.
func (r RevocationRequest) Items() []Revocation {
	if r.Mode == "all" {
		return nil
	}
	return []Revocation{{AuthorityID: r.AuthorityID, ProductID: r.ProductID}}
}

const revocationColumns = `id, consent_id, mode, authority_id, product_id, state, raw_status, last_error_code, last_error,
	job_id, requested_by, created_at, finished_at`

// CreateRevocation stores a withdrawal to deliver, in the caller's
// transaction (with its job), and audits the request.
func CreateRevocation(ctx context.Context, tx sqlx.ExtContext, r RevocationRequest) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, tx, &id, `INSERT INTO garanti_revocations (consent_id, mode, authority_id, product_id, requested_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, r.ConsentID, r.Mode, r.AuthorityID, r.ProductID, nullIDParam(r.RequestedBy))
	if err != nil {
		return 0, fmt.Errorf("consents: create revocation: %w", err)
	}
	var by int64
	if r.RequestedBy != nil {
		by = *r.RequestedBy
	}
	if err := store.Audit(ctx, tx, by, "garanti.consent.revoke.request", Subject(r.ConsentID),
		map[string]any{"mode": r.Mode, "authority": r.AuthorityID, "product": r.ProductID}); err != nil {
		return 0, err
	}
	return id, nil
}

// setRevocationJob records the job delivering a withdrawal.
func setRevocationJob(ctx context.Context, tx sqlx.ExecerContext, id, jobID int64) error {
	return execOne(ctx, tx, "set revocation job", `UPDATE garanti_revocations SET job_id = $2 WHERE id = $1`, id, jobID)
}

// Revocation returns one withdrawal.
func (s *Service) Revocation(ctx context.Context, id int64) (RevocationRequest, error) {
	var r RevocationRequest
	if err := s.store.DB().GetContext(ctx, &r, `SELECT `+revocationColumns+` FROM garanti_revocations WHERE id = $1`, id); err != nil {
		return r, fmt.Errorf("consents: revocation %d: %w", id, store.NotFound(err))
	}
	return r, nil
}

// Revocations lists a consent's withdrawals (the latest 20), newest first.
func (s *Service) Revocations(ctx context.Context, consentID int64) ([]RevocationRequest, error) {
	var out []RevocationRequest
	if err := s.store.DB().SelectContext(ctx, &out, `SELECT `+revocationColumns+` FROM garanti_revocations WHERE consent_id = $1
		ORDER BY id DESC LIMIT 20`, consentID); err != nil {
		return nil, fmt.Errorf("consents: revocations: %w", err)
	}
	return out, nil
}

// nullIDParam writes an optional id (nil or 0 for none) for a nullable column.
func nullIDParam(p *int64) sql.NullInt64 {
	if p == nil || *p == 0 {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}
