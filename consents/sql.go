package consents

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/store"
)

// The statements of the consent workers: statuses, abandonment, pruning,
// token renewal and the delivery of withdrawals.

// execOne runs an update that must touch exactly one row; store.ErrNotFound
// when it touched none.
func execOne(ctx context.Context, q sqlx.ExecerContext, op, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("consents: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("consents: %s: %w", op, errors.Join(store.ErrNotFound, err))
	}
	return nil
}

// setStatus records the bank's latest status of a consent. A consent that
// reaches a final status keeps the time it did. auths nil keeps the
// authorities' statuses as they were.
func setStatus(ctx context.Context, q sqlx.ExecerContext, id int64, status, raw string, auths []AuthorityStatus, now time.Time) error {
	var b sql.NullString
	if auths != nil {
		j, err := json.Marshal(auths)
		if err != nil {
			return fmt.Errorf("consents: set consent status: %w", err)
		}
		// As text: pq would send []byte as bytea, which jsonb rejects.
		b = sql.NullString{String: string(j), Valid: true}
	}
	return execOne(ctx, q, "set consent status", `UPDATE garanti_consents SET status = $2, raw_status = $3,
		authority_status = COALESCE($4::jsonb, authority_status), status_checked_at = $5, updated_at = $5,
		revoked_at = CASE WHEN $2 = 'revoked' THEN COALESCE(revoked_at, $5) ELSE revoked_at END
		WHERE id = $1`, id, status, raw, b, now)
}

// setStatus records a consent's status (see the function setStatus).
func (s *Service) setStatus(ctx context.Context, id int64, status, raw string, auths []AuthorityStatus) error {
	return setStatus(ctx, s.store.DB(), id, status, raw, auths, s.now())
}

// abandon marks as abandoned the consents the customer never approved whose
// one-time approval states have all expired: the bank's return for them
// would be refused (ErrStateExpired), so they can never be completed,
// and showing them as awaiting approval, days counting down, would be a
// promise the product cannot keep. It returns the consents it marked, each
// with an audit entry in the same transaction.
func (s *Service) abandon(ctx context.Context) ([]int64, error) {
	var ids []int64
	now := s.now()
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.SelectContext(ctx, &ids, `UPDATE garanti_consents c SET status = 'abandoned', updated_at = $1
			WHERE c.status IN ('awaiting_authorisation', 'authorised')
			AND NOT EXISTS (SELECT 1 FROM garanti_tokens t WHERE t.consent_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM garanti_oauth_states st WHERE st.consent_id = c.id AND st.expires_at > $1)
			RETURNING c.id`, now)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := store.Audit(ctx, tx, 0, "garanti.consent.abandon", Subject(id), map[string]any{"reason": "state expired"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("consents: abandon: %w", err)
	}
	return ids, nil
}

// pruneStates deletes the OAuth states that expired before `before`.
func (s *Service) pruneStates(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.store.DB().ExecContext(ctx, `DELETE FROM garanti_oauth_states WHERE expires_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("consents: prune oauth states: %w", err)
	}
	return res.RowsAffected()
}

// tokensExpiring lists the consents (active, not superseded, not flagged)
// whose access token expires before `before`.
func (s *Service) tokensExpiring(ctx context.Context, before time.Time) ([]int64, error) {
	var ids []int64
	err := s.store.DB().SelectContext(ctx, &ids, `SELECT t.consent_id FROM garanti_tokens t JOIN garanti_consents c ON c.id = t.consent_id
		WHERE c.status = 'active' AND NOT c.needs_reauth AND c.superseded_by IS NULL AND t.expires_at IS NOT NULL AND t.expires_at < $1
		ORDER BY t.consent_id`, before)
	if err != nil {
		return nil, fmt.Errorf("consents: expiring tokens: %w", err)
	}
	return ids, nil
}

// noteRevocationError records the latest failed attempt of a withdrawal;
// with final it will not be tried again.
func (s *Service) noteRevocationError(ctx context.Context, id int64, code, msg string, final bool) error {
	state := RevocationPending
	var finished sql.NullTime
	if final {
		state, finished = RevocationFailed, sql.NullTime{Time: s.now(), Valid: true}
	}
	return execOne(ctx, s.store.DB(), "note revocation error", `UPDATE garanti_revocations SET last_error_code = $2, last_error = $3,
		state = $4, finished_at = $5 WHERE id = $1 AND state <> 'done'`, id, code, store.Truncate(msg, 500), state, finished)
}

// completeRevocation records the bank's confirmation of a withdrawal: the
// consent's products and status, its audit entry and the request done, in
// one transaction. A request already done is left alone.
func (s *Service) completeRevocation(ctx context.Context, r RevocationRequest, status, raw string) error {
	if r.State == RevocationDone {
		return nil
	}
	var by int64
	if r.RequestedBy != nil {
		by = *r.RequestedBy
	}
	now := s.now()
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := revoke(ctx, tx, r.ConsentID, by, r.Items(), status, raw, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE garanti_revocations SET state = 'done', raw_status = $2, last_error_code = '',
			last_error = '', finished_at = $3 WHERE id = $1`, r.ID, raw, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("consents: complete revocation %d: %w", r.ID, err)
	}
	return nil
}

// revoke records a delete the bank confirmed: what it withdrew (nothing
// named is the whole consent), the consent's status afterwards (raw is the
// bank's value), and the audit entry of the user by who asked.
func revoke(ctx context.Context, tx sqlx.ExtContext, id, by int64, items []Revocation, status, raw string, now time.Time) error {
	for _, it := range items {
		q := `UPDATE garanti_consent_products SET flag = false WHERE consent_id = $1 AND ($2 = '' OR authority_id = $2) AND ($3 = '' OR product_id = $3)`
		if it.AuthorityID == "" {
			q = `UPDATE garanti_consent_products SET revoked_at = COALESCE(revoked_at, $4) WHERE consent_id = $1 AND $2 = '' AND product_id = $3`
		}
		args := []any{id, it.AuthorityID, it.ProductID}
		if it.AuthorityID == "" {
			args = append(args, now)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	if err := settleAuthorityStatus(ctx, tx, id, status); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE garanti_consents SET status = $2, raw_status = $3, updated_at = $4,
		revoked_at = CASE WHEN $2 = 'revoked' THEN COALESCE(revoked_at, $4) ELSE revoked_at END WHERE id = $1`, id, status, raw, now); err != nil {
		return err
	}
	return store.Audit(ctx, tx, by, "garanti.consent.revoke", Subject(id), map[string]any{"items": items, "status": raw})
}

// settleAuthorityStatus brings the bank's per-authority statuses kept on a
// consent in line with a withdrawal the bank has just confirmed: an
// authority no product holds in force any more (every authority, when the
// consent itself is revoked) reads as revoked at once rather than as the
// status the bank last reported, until the next status check gives the
// bank's own value. Its raw value is unknown until then, so it is cleared.
func settleAuthorityStatus(ctx context.Context, tx sqlx.ExecerContext, id int64, status string) error {
	_, err := tx.ExecContext(ctx, `UPDATE garanti_consents c SET authority_status = COALESCE((
			SELECT jsonb_agg(CASE WHEN $2 = 'revoked' OR (
					EXISTS (SELECT 1 FROM garanti_consent_products p WHERE p.consent_id = c.id AND p.authority_id = a->>'authorityId')
					AND NOT EXISTS (SELECT 1 FROM garanti_consent_products p WHERE p.consent_id = c.id
						AND p.authority_id = a->>'authorityId' AND p.flag AND p.revoked_at IS NULL))
				THEN a || jsonb_build_object('status', 'revoked', 'raw', '') ELSE a END ORDER BY t.ord)
			FROM jsonb_array_elements(c.authority_status) WITH ORDINALITY AS t(a, ord)), '[]'::jsonb)
		WHERE c.id = $1`, id, status)
	return err
}
