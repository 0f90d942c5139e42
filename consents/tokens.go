package consents

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/store"
	"kasa/tz"
)

// Why a callback's state is refused. Each is a different message to the
// user; none changes anything.
var (
	ErrStateUnknown = errors.New("consents: oauth state unknown")
	ErrStateUsed    = errors.New("consents: oauth state already used")
	ErrStateExpired = errors.New("consents: oauth state expired")
	ErrStateForeign = errors.New("consents: oauth state started by another session")
)

// ConsumeState spends the one-time state of a redirect back from the
// bank and returns the consent it belongs to and its PKCE verifier. The
// state must exist, be unused and unexpired, and have been started by the
// session whose binding is given; otherwise nothing changes and the error
// says which rule failed.
func (s *Service) ConsumeState(ctx context.Context, state, binding string) (int64, string, error) {
	var consentID int64
	var verifier string
	now := s.now()
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var row struct {
			Binding  []byte       `db:"binding_hash"`
			Consent  int64        `db:"consent_id"`
			Verifier []byte       `db:"verifier_enc"`
			Expires  time.Time    `db:"expires_at"`
			Used     sql.NullTime `db:"used_at"`
		}
		err := tx.GetContext(ctx, &row, `SELECT binding_hash, consent_id, verifier_enc, expires_at, used_at
			FROM garanti_oauth_states WHERE state_hash = $1 FOR UPDATE`, store.HashID(state))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrStateUnknown
		case err != nil:
			return err
		case binding == "" || subtle.ConstantTimeCompare(row.Binding, store.HashID(binding)) != 1:
			return ErrStateForeign
		case row.Used.Valid:
			return ErrStateUsed
		case !now.Before(row.Expires):
			return ErrStateExpired
		}
		pt, err := s.store.Keys().Decrypt(row.Verifier)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE garanti_oauth_states SET used_at = $2 WHERE state_hash = $1`, store.HashID(state), now); err != nil {
			return err
		}
		consentID, verifier = row.Consent, string(pt)
		return nil
	})
	if err != nil {
		return 0, "", fmt.Errorf("consents: consume oauth state: %w", err)
	}
	return consentID, verifier, nil
}

// Token is a consent's access and refresh token pair.
type Token struct {
	Access  string
	Refresh string
	Expiry  time.Time // zero when the bank did not say
}

// Valid reports whether the access token is usable for margin longer at now.
func (t Token) Valid(now time.Time, margin time.Duration) bool {
	return t.Access != "" && (t.Expiry.IsZero() || now.Add(margin).Before(t.Expiry))
}

// SaveTokens stores a consent's tokens, encrypted.
func (s *Service) SaveTokens(ctx context.Context, consentID int64, t Token) error {
	return saveTokens(ctx, s.store.DB(), s.store.Keys(), consentID, t, s.now())
}

// saveTokens stores a consent's tokens, sealed with keys, through q.
func saveTokens(ctx context.Context, q sqlx.ExecerContext, keys *store.Keyring, consentID int64, t Token, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO garanti_tokens (consent_id, access_enc, refresh_enc, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (consent_id) DO UPDATE SET access_enc = EXCLUDED.access_enc, refresh_enc = EXCLUDED.refresh_enc,
		expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at`,
		consentID, keys.Encrypt([]byte(t.Access)), keys.Encrypt([]byte(t.Refresh)), sql.NullTime{Time: t.Expiry, Valid: !t.Expiry.IsZero()}, now)
	if err != nil {
		return fmt.Errorf("consents: save consent tokens: %w", err)
	}
	return nil
}

type tokenRow struct {
	Access  []byte       `db:"access_enc"`
	Refresh []byte       `db:"refresh_enc"`
	Expires sql.NullTime `db:"expires_at"`
}

// openToken decrypts a stored token pair.
func (s *Service) openToken(r tokenRow) (Token, error) {
	a, err := s.store.Keys().Decrypt(r.Access)
	if err != nil {
		return Token{}, err
	}
	rf, err := s.store.Keys().Decrypt(r.Refresh)
	if err != nil {
		return Token{}, err
	}
	return Token{Access: string(a), Refresh: string(rf), Expiry: r.Expires.Time}, nil
}

// Tokens returns a consent's tokens; store.ErrNotFound when it has none.
func (s *Service) Tokens(ctx context.Context, consentID int64) (Token, error) {
	var r tokenRow
	if err := s.store.DB().GetContext(ctx, &r, `SELECT access_enc, refresh_enc, expires_at FROM garanti_tokens WHERE consent_id = $1`, consentID); err != nil {
		return Token{}, fmt.Errorf("consents: consent tokens: %w", store.NotFound(err))
	}
	t, err := s.openToken(r)
	if err != nil {
		return Token{}, fmt.Errorf("consents: consent tokens: %w", err)
	}
	return t, nil
}

// RenewToken returns a consent's access token valid for at least
// margin, renewing it with fetch (given the refresh token) while holding the
// token row's lock: of several instances needing a new token at once only
// one asks the bank, and the rotated refresh token is never lost to a race.
// stale is an access token the bank has just refused; it is renewed even if
// its expiry says otherwise, unless another instance already replaced it.
func (s *Service) RenewToken(ctx context.Context, consentID int64, stale string, margin time.Duration,
	fetch func(ctx context.Context, refresh string) (Token, error)) (Token, error) {
	var out Token
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var r tokenRow
		if err := tx.GetContext(ctx, &r, `SELECT access_enc, refresh_enc, expires_at FROM garanti_tokens WHERE consent_id = $1 FOR UPDATE`, consentID); err != nil {
			return store.NotFound(err)
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
		if err := saveTokens(ctx, tx, s.store.Keys(), consentID, fresh, s.now()); err != nil {
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
		return Token{}, fmt.Errorf("consents: renew consent token: %w", err)
	}
	return out, nil
}

// Reserve counts one data call of the consent on the Istanbul day of now,
// if fewer than limit were made that day, and reports whether it did. The
// check and the count are one statement, so instances sharing the database
// never together exceed the limit.
func (s *Service) Reserve(ctx context.Context, consentID int64, now time.Time, limit int) (bool, error) {
	var calls int
	err := s.store.DB().GetContext(ctx, &calls, `INSERT INTO garanti_usage AS u (consent_id, day, calls) VALUES ($1, $2, 1)
		ON CONFLICT (consent_id, day) DO UPDATE SET calls = u.calls + 1 WHERE u.calls < $3
		RETURNING calls`, consentID, dateParam(tz.Day(now)), limit)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("consents: reserve garanti call: %w", err)
	}
	return calls <= limit, nil
}

// Release gives back a call reserved with Reserve on the Istanbul day of
// at, when the bank did not accept it (throttled, refused, unreachable, or
// an answer that could not be read): only the calls the bank accepted count
// against frequencyPerDay, as the bank counts them.
func (s *Service) Release(ctx context.Context, consentID int64, at time.Time) error {
	_, err := s.store.DB().ExecContext(ctx, `UPDATE garanti_usage SET calls = calls - 1 WHERE consent_id = $1 AND day = $2 AND calls > 0`,
		consentID, dateParam(tz.Day(at)))
	if err != nil {
		return fmt.Errorf("consents: release garanti call: %w", err)
	}
	return nil
}

// Exhaust records that the bank refused a call for the day's frequency: no
// more calls are planned until the next Istanbul day.
func (s *Service) Exhaust(ctx context.Context, consentID int64, now time.Time, limit int) error {
	_, err := s.store.DB().ExecContext(ctx, `INSERT INTO garanti_usage AS u (consent_id, day, calls) VALUES ($1, $2, $3)
		ON CONFLICT (consent_id, day) DO UPDATE SET calls = GREATEST(u.calls, EXCLUDED.calls)`, consentID, dateParam(tz.Day(now)), limit)
	if err != nil {
		return fmt.Errorf("consents: exhaust garanti quota: %w", err)
	}
	return nil
}

// Usage returns how many data calls the consent made on now's Istanbul day.
func (s *Service) Usage(ctx context.Context, consentID int64, now time.Time) (int, error) {
	var calls int
	err := s.store.DB().GetContext(ctx, &calls, `SELECT COALESCE((SELECT calls FROM garanti_usage WHERE consent_id = $1 AND day = $2), 0)`,
		consentID, dateParam(tz.Day(now)))
	if err != nil {
		return 0, fmt.Errorf("consents: garanti usage: %w", err)
	}
	return calls, nil
}

// date turns a DATE column (read as UTC midnight) into Istanbul midnight of
// the same calendar day.
func date(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, tz.Istanbul)
}

// dateParam writes the Istanbul calendar day of t for a DATE column.
func dateParam(t time.Time) string { return t.In(tz.Istanbul).Format("2006-01-02") }

// nullID is a nullable id column as a pointer.
func nullID(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

// nullTime is a nullable time column as a pointer.
func nullTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	return &n.Time
}
