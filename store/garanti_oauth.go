package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"kasa/tz"
)

// Why a callback's state is refused. Each is a different message to the
// user; none changes anything.
var (
	ErrStateUnknown = errors.New("store: oauth state unknown")
	ErrStateUsed    = errors.New("store: oauth state already used")
	ErrStateExpired = errors.New("store: oauth state expired")
	ErrStateForeign = errors.New("store: oauth state started by another session")
)

// ConsumeGarantiState spends the one-time state of a redirect back from the
// bank and returns the consent it belongs to and its PKCE verifier. The
// state must exist, be unused and unexpired, and have been started by the
// session whose binding is given; otherwise nothing changes and the error
// says which rule failed.
func (s *Store) ConsumeGarantiState(ctx context.Context, state, binding string) (int64, string, error) {
	var consentID int64
	var verifier string
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var row struct {
			Binding  []byte       `db:"binding_hash"`
			Consent  int64        `db:"consent_id"`
			Verifier []byte       `db:"verifier_enc"`
			Expires  time.Time    `db:"expires_at"`
			Used     sql.NullTime `db:"used_at"`
		}
		err := tx.GetContext(ctx, &row, `SELECT binding_hash, consent_id, verifier_enc, expires_at, used_at
			FROM garanti_oauth_states WHERE state_hash = $1 FOR UPDATE`, hashID(state))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrStateUnknown
		case err != nil:
			return err
		case binding == "" || subtle.ConstantTimeCompare(row.Binding, hashID(binding)) != 1:
			return ErrStateForeign
		case row.Used.Valid:
			return ErrStateUsed
		case !s.now().Before(row.Expires):
			return ErrStateExpired
		}
		pt, err := s.keys.Decrypt(row.Verifier)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE garanti_oauth_states SET used_at = $2 WHERE state_hash = $1`, hashID(state), s.now()); err != nil {
			return err
		}
		consentID, verifier = row.Consent, string(pt)
		return nil
	})
	if err != nil {
		return 0, "", fmt.Errorf("store: consume oauth state: %w", err)
	}
	return consentID, verifier, nil
}

// GarantiToken is a consent's access and refresh token pair.
type GarantiToken struct {
	Access  string
	Refresh string
	Expiry  time.Time // zero when the bank did not say
}

// Valid reports whether the access token is usable for margin longer at now.
func (t GarantiToken) Valid(now time.Time, margin time.Duration) bool {
	return t.Access != "" && (t.Expiry.IsZero() || now.Add(margin).Before(t.Expiry))
}

// SaveGarantiTokens stores a consent's tokens, encrypted.
func (s *Store) SaveGarantiTokens(ctx context.Context, consentID int64, t GarantiToken) error {
	return saveGarantiTokens(ctx, s.db, s.keys, consentID, t, s.now())
}

func saveGarantiTokens(ctx context.Context, q sqlx.ExecerContext, keys *Keyring, consentID int64, t GarantiToken, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO garanti_tokens (consent_id, access_enc, refresh_enc, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (consent_id) DO UPDATE SET access_enc = EXCLUDED.access_enc, refresh_enc = EXCLUDED.refresh_enc,
		expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at`,
		consentID, keys.Encrypt([]byte(t.Access)), keys.Encrypt([]byte(t.Refresh)), sql.NullTime{Time: t.Expiry, Valid: !t.Expiry.IsZero()}, now)
	if err != nil {
		return fmt.Errorf("store: save consent tokens: %w", err)
	}
	return nil
}

type tokenRow struct {
	Access  []byte       `db:"access_enc"`
	Refresh []byte       `db:"refresh_enc"`
	Expires sql.NullTime `db:"expires_at"`
}

func (s *Store) openToken(r tokenRow) (GarantiToken, error) {
	a, err := s.keys.Decrypt(r.Access)
	if err != nil {
		return GarantiToken{}, err
	}
	rf, err := s.keys.Decrypt(r.Refresh)
	if err != nil {
		return GarantiToken{}, err
	}
	return GarantiToken{Access: string(a), Refresh: string(rf), Expiry: r.Expires.Time}, nil
}

// GarantiTokens returns a consent's tokens; ErrNotFound when it has none.
func (s *Store) GarantiTokens(ctx context.Context, consentID int64) (GarantiToken, error) {
	var r tokenRow
	if err := s.db.GetContext(ctx, &r, `SELECT access_enc, refresh_enc, expires_at FROM garanti_tokens WHERE consent_id = $1`, consentID); err != nil {
		return GarantiToken{}, fmt.Errorf("store: consent tokens: %w", notFound(err))
	}
	t, err := s.openToken(r)
	if err != nil {
		return GarantiToken{}, fmt.Errorf("store: consent tokens: %w", err)
	}
	return t, nil
}

// RenewGarantiToken returns a consent's access token valid for at least
// margin, renewing it with fetch (given the refresh token) while holding the
// token row's lock: of several instances needing a new token at once only
// one asks the bank, and the rotated refresh token is never lost to a race.
// stale is an access token the bank has just refused; it is renewed even if
// its expiry says otherwise, unless another instance already replaced it.
func (s *Store) RenewGarantiToken(ctx context.Context, consentID int64, stale string, margin time.Duration,
	fetch func(ctx context.Context, refresh string) (GarantiToken, error)) (GarantiToken, error) {
	var out GarantiToken
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var r tokenRow
		if err := tx.GetContext(ctx, &r, `SELECT access_enc, refresh_enc, expires_at FROM garanti_tokens WHERE consent_id = $1 FOR UPDATE`, consentID); err != nil {
			return notFound(err)
		}
		cur, err := s.openToken(r)
		if err != nil {
			return err
		}
		if cur.Access != stale && cur.Valid(s.now(), margin) {
			out = cur
			return nil
		}
		fresh, err := fetch(ctx, cur.Refresh)
		if err != nil {
			return err
		}
		if fresh.Refresh == "" {
			fresh.Refresh = cur.Refresh
		}
		if err := saveGarantiTokens(ctx, tx, s.keys, consentID, fresh, s.now()); err != nil {
			return err
		}
		// The bank accepted the refresh token: whatever flagged the consent
		// for re-approval, or a credentials failure it recorded, is over.
		if _, err := tx.ExecContext(ctx, `UPDATE garanti_consents SET needs_reauth = false, reauth_reason = '',
			last_error_code = CASE WHEN last_error_code IN ('invalid_client', 'unauthorized') THEN '' ELSE last_error_code END,
			last_error = CASE WHEN last_error_code IN ('invalid_client', 'unauthorized') THEN '' ELSE last_error END,
			updated_at = $2 WHERE id = $1 AND (needs_reauth OR last_error_code IN ('invalid_client', 'unauthorized'))`, consentID, s.now()); err != nil {
			return err
		}
		out = fresh
		return nil
	})
	if err != nil {
		return GarantiToken{}, fmt.Errorf("store: renew consent token: %w", err)
	}
	return out, nil
}

// rotateGarantiSecrets re-encrypts under the current key every consent token
// and PKCE verifier sealed with an older one; it returns how many it rewrote.
func (s *Store) rotateGarantiSecrets(ctx context.Context) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var toks []struct {
			ID int64 `db:"consent_id"`
			tokenRow
		}
		if err := tx.SelectContext(ctx, &toks, `SELECT consent_id, access_enc, refresh_enc, expires_at FROM garanti_tokens FOR UPDATE`); err != nil {
			return err
		}
		for _, t := range toks {
			if !s.keys.NeedsRotation(t.Access) && !s.keys.NeedsRotation(t.Refresh) {
				continue
			}
			tok, err := s.openToken(t.tokenRow)
			if err != nil {
				return fmt.Errorf("consent %d: %w", t.ID, err)
			}
			if err := saveGarantiTokens(ctx, tx, s.keys, t.ID, tok, s.now()); err != nil {
				return err
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

// ReserveGarantiCall counts one data call of the consent on the Istanbul day
// of now, if fewer than limit were made that day, and reports whether it
// did. The check and the count are one statement, so instances sharing the
// database never together exceed the limit.
func (s *Store) ReserveGarantiCall(ctx context.Context, consentID int64, now time.Time, limit int) (bool, error) {
	var calls int
	err := s.db.GetContext(ctx, &calls, `INSERT INTO garanti_usage AS u (consent_id, day, calls) VALUES ($1, $2, 1)
		ON CONFLICT (consent_id, day) DO UPDATE SET calls = u.calls + 1 WHERE u.calls < $3
		RETURNING calls`, consentID, garantiDateParam(GarantiDay(now)), limit)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: reserve garanti call: %w", err)
	}
	return calls <= limit, nil
}

// ExhaustGarantiQuota records that the bank refused a call for the day's
// frequency: no more calls are planned until the next Istanbul day.
func (s *Store) ExhaustGarantiQuota(ctx context.Context, consentID int64, now time.Time, limit int) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO garanti_usage AS u (consent_id, day, calls) VALUES ($1, $2, $3)
		ON CONFLICT (consent_id, day) DO UPDATE SET calls = GREATEST(u.calls, EXCLUDED.calls)`, consentID, garantiDateParam(GarantiDay(now)), limit)
	if err != nil {
		return fmt.Errorf("store: exhaust garanti quota: %w", err)
	}
	return nil
}

// GarantiUsage returns how many data calls the consent made on now's
// Istanbul day.
func (s *Store) GarantiUsage(ctx context.Context, consentID int64, now time.Time) (int, error) {
	var calls int
	err := s.db.GetContext(ctx, &calls, `SELECT COALESCE((SELECT calls FROM garanti_usage WHERE consent_id = $1 AND day = $2), 0)`,
		consentID, garantiDateParam(GarantiDay(now)))
	if err != nil {
		return 0, fmt.Errorf("store: garanti usage: %w", err)
	}
	return calls, nil
}

// GarantiDay returns midnight in Istanbul of t's Istanbul calendar day.
func GarantiDay(t time.Time) time.Time { return tz.Day(t) }

// garantiDate turns a DATE column (read as UTC midnight) into Istanbul midnight
// of the same calendar day.
func garantiDate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, tz.Istanbul)
}

// garantiDateParam writes the Istanbul calendar day of t for a DATE column.
func garantiDateParam(t time.Time) string { return t.In(tz.Istanbul).Format("2006-01-02") }

func garantiNullID(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func garantiNullTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	return &n.Time
}

func garantiStrings(s []string) any { return pq.Array(s) }
