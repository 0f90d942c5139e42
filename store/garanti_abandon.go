package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// AbandonGarantiConsents marks as abandoned the consents the customer never
// approved whose one-time approval states have all expired: the bank's
// return for them would be refused (ErrStateExpired), so they can never be
// completed, and showing them as awaiting approval, days counting down,
// would be a promise the product cannot keep. It returns the consents it
// marked, each with an audit entry.
func (s *Store) AbandonGarantiConsents(ctx context.Context) ([]int64, error) {
	var ids []int64
	now := s.now()
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.SelectContext(ctx, &ids, `UPDATE garanti_consents c SET status = 'abandoned', updated_at = $1
			WHERE c.status IN ('awaiting_authorisation', 'authorised')
			AND NOT EXISTS (SELECT 1 FROM garanti_tokens t WHERE t.consent_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM garanti_oauth_states st WHERE st.consent_id = c.id AND st.expires_at > $1)
			RETURNING c.id`, now)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := Audit(ctx, tx, 0, "garanti.consent.abandon", GarantiSubject(id), map[string]any{"reason": "state expired"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: abandon consents: %w", err)
	}
	return ids, nil
}
