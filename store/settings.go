package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Settings returns every setting, decrypted, by key.
func (s *Store) Settings(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Key   string `db:"key"`
		Value []byte `db:"value_enc"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT key, value_enc FROM settings`); err != nil {
		return nil, fmt.Errorf("store: settings: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		pt, err := s.keys.Decrypt(r.Value)
		if err != nil {
			return nil, fmt.Errorf("store: setting %s: %w", r.Key, err)
		}
		out[r.Key] = string(pt)
	}
	return out, nil
}

// PutSettings encrypts and stores values in one transaction, without an
// audit entry: for the system's own writes (by is 0) and for tests. A
// person's change goes through ChangeSettings or UpdateSettings, which
// record it.
func (s *Store) PutSettings(ctx context.Context, by int64, values map[string]string) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		return s.putSettings(ctx, tx, by, values)
	})
}

// ChangeSettings encrypts and stores values as changed by rec.By, and writes
// rec in the same transaction: the audit entry exists exactly when the
// change does. rec.Details must not hold the values when they may be secret.
func (s *Store) ChangeSettings(ctx context.Context, values map[string]string, rec AuditRecord) error {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.putSettings(ctx, tx, rec.By, values); err != nil {
			return err
		}
		return rec.write(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("store: change settings (%s): %w", rec.Action, err)
	}
	return nil
}

// UpdateSettings stores an admin's changes to the settings. A token obtained
// with a provider's old credentials or from its old address must not be used
// with the new ones, so every provider whose setting changed ("provider.key")
// loses its tokens. The change is recorded as "settings.update" naming the
// changed keys, never their values (they may be secrets). All of it commits
// in one transaction.
func (s *Store) UpdateSettings(ctx context.Context, by int64, changes map[string]string) error {
	if len(changes) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(changes))
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.putSettings(ctx, tx, by, changes); err != nil {
			return err
		}
		providers := map[string]bool{}
		for _, k := range keys {
			provider, _, _ := strings.Cut(k, ".")
			if providers[provider] {
				continue
			}
			providers[provider] = true
			if err := deleteTokens(ctx, tx, provider); err != nil {
				return err
			}
		}
		return Audit(ctx, tx, by, "settings.update", "settings", map[string]any{"keys": keys})
	})
	if err != nil {
		return fmt.Errorf("store: update settings: %w", err)
	}
	return nil
}

func (s *Store) putSettings(ctx context.Context, tx *sqlx.Tx, by int64, values map[string]string) error {
	for k, v := range values {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value_enc, updated_by, updated_at) VALUES ($1, $2, $3, now())
			ON CONFLICT (key) DO UPDATE SET value_enc = EXCLUDED.value_enc, updated_by = EXCLUDED.updated_by, updated_at = now()`,
			k, s.keys.Encrypt([]byte(v)), sql.NullInt64{Int64: by, Valid: by != 0}); err != nil {
			return fmt.Errorf("store: put setting %s: %w", k, err)
		}
	}
	return nil
}

// SeedSettings stores the values whose keys have no setting yet; settings an
// admin has saved are left as they are.
func (s *Store) SeedSettings(ctx context.Context, values map[string]string) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		for k, v := range values {
			if v == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value_enc) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
				k, s.keys.Encrypt([]byte(v))); err != nil {
				return fmt.Errorf("store: seed setting %s: %w", k, err)
			}
		}
		return nil
	})
}

// RotateSecrets re-encrypts, under the current key, every setting, provider
// token, Garanti consent token and pending PKCE verifier sealed with an older
// key, so that the older key can later be retired. It returns how many
// values it rewrote.
func (s *Store) RotateSecrets(ctx context.Context) (int, error) {
	n := 0
	for _, table := range []struct{ name, key string }{{"settings", "key"}, {"provider_tokens", "key"}} {
		err := s.InTx(ctx, func(tx *sqlx.Tx) error {
			var rows []struct {
				Key   string `db:"key"`
				Value []byte `db:"value_enc"`
			}
			if err := tx.SelectContext(ctx, &rows, `SELECT key, value_enc FROM `+table.name+` WHERE value_enc IS NOT NULL FOR UPDATE`); err != nil {
				return err
			}
			for _, r := range rows {
				if !s.keys.NeedsRotation(r.Value) {
					continue
				}
				pt, err := s.keys.Decrypt(r.Value)
				if err != nil {
					return fmt.Errorf("%s %s: %w", table.name, r.Key, err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+table.name+` SET value_enc = $2 WHERE key = $1`, r.Key, s.keys.Encrypt(pt)); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("store: rotate secrets: %w", err)
		}
	}
	g, err := s.rotateGarantiSecrets(ctx)
	if err != nil {
		return n, fmt.Errorf("store: rotate secrets: %w", err)
	}
	return n + g, nil
}

// LoadToken returns the provider token under key, or "" when none.
func (s *Store) LoadToken(ctx context.Context, key string) (string, time.Time, error) {
	var row struct {
		Value  []byte       `db:"value_enc"`
		Expiry sql.NullTime `db:"expires_at"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT value_enc, expires_at FROM provider_tokens WHERE key = $1`, key)
	if err == sql.ErrNoRows || (err == nil && row.Value == nil) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: load token: %w", err)
	}
	pt, err := s.keys.Decrypt(row.Value)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: load token: %w", err)
	}
	return string(pt), row.Expiry.Time, nil
}

// RenewToken replaces the token under key with one from fetch while holding
// the row's lock, so that of several instances needing a new token at once
// only one asks the provider; the others find its token and use it.
func (s *Store) RenewToken(ctx context.Context, key, stale string, margin time.Duration, fetch func(context.Context) (string, time.Time, error)) (string, time.Time, error) {
	var value string
	var expiry time.Time
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO provider_tokens (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, key); err != nil {
			return err
		}
		var row struct {
			Value  []byte       `db:"value_enc"`
			Expiry sql.NullTime `db:"expires_at"`
		}
		if err := tx.GetContext(ctx, &row, `SELECT value_enc, expires_at FROM provider_tokens WHERE key = $1 FOR UPDATE`, key); err != nil {
			return err
		}
		if row.Value != nil {
			if pt, err := s.keys.Decrypt(row.Value); err == nil {
				cur := string(pt)
				if cur != "" && cur != stale && s.now().UTC().Before(row.Expiry.Time.Add(-margin)) {
					value, expiry = cur, row.Expiry.Time
					return nil
				}
			}
		}
		v, exp, err := fetch(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE provider_tokens SET value_enc = $2, expires_at = $3, updated_at = now() WHERE key = $1`,
			key, s.keys.Encrypt([]byte(v)), exp); err != nil {
			return err
		}
		value, expiry = v, exp
		return nil
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: renew token %s: %w", key, err)
	}
	return value, expiry, nil
}

// deleteTokens forgets the tokens whose key is key or starts with key+":"
// (a provider's tokens, per consent where it has several), so that changed
// credentials or a changed base URL are used from the next call on.
func deleteTokens(ctx context.Context, q sqlx.ExecerContext, key string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM provider_tokens WHERE key = $1 OR key LIKE $2`, key, escapeLike(key)+":%"); err != nil {
		return fmt.Errorf("store: delete tokens %s: %w", key, err)
	}
	return nil
}
