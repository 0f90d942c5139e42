package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// rotateGarantiSecrets re-encrypts under the current key every consent token
// and PKCE verifier sealed with an older one; it returns how many it
// rewrote. The consents area owns these tables; their sealed columns are
// rotated here, with every other secret, because rotation is the keyring's
// concern and the store imports no area.
func (s *Store) rotateGarantiSecrets(ctx context.Context) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var toks []struct {
			ID      int64        `db:"consent_id"`
			Access  []byte       `db:"access_enc"`
			Refresh []byte       `db:"refresh_enc"`
			Expires sql.NullTime `db:"expires_at"`
		}
		if err := tx.SelectContext(ctx, &toks, `SELECT consent_id, access_enc, refresh_enc, expires_at FROM garanti_tokens FOR UPDATE`); err != nil {
			return err
		}
		for _, t := range toks {
			if !s.keys.NeedsRotation(t.Access) && !s.keys.NeedsRotation(t.Refresh) {
				continue
			}
			a, err := s.keys.Decrypt(t.Access)
			if err != nil {
				return fmt.Errorf("consent %d: %w", t.ID, err)
			}
			r, err := s.keys.Decrypt(t.Refresh)
			if err != nil {
				return fmt.Errorf("consent %d: %w", t.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE garanti_tokens SET access_enc = $2, refresh_enc = $3, updated_at = $4 WHERE consent_id = $1`,
				t.ID, s.keys.Encrypt(a), s.keys.Encrypt(r), s.now()); err != nil {
				return fmt.Errorf("consent %d: %w", t.ID, err)
			}
			n++
		}
		var states []struct {
			Hash     []byte `db:"state_hash"`
			Verifier []byte `db:"verifier_enc"`
		}
		if err := tx.SelectContext(ctx, &states, `SELECT state_hash, verifier_enc FROM garanti_oauth_states WHERE used_at IS NULL FOR UPDATE`); err != nil {
			return err
		}
		for _, st := range states {
			if !s.keys.NeedsRotation(st.Verifier) {
				continue
			}
			pt, err := s.keys.Decrypt(st.Verifier)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE garanti_oauth_states SET verifier_enc = $2 WHERE state_hash = $1`, st.Hash, s.keys.Encrypt(pt)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("store: rotate garanti secrets: %w", err)
	}
	return n, nil
}
