package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// LoginLimits are the sign-in throttling rules; their state lives in
// Postgres so that every instance of the product applies the same limits.
type LoginLimits struct {
	// AddressBurst attempts may come from one address at once, then one
	// every AddressEvery.
	AddressBurst int
	AddressEvery time.Duration
	// After DelayAfter consecutive failures for an account, every attempt
	// for it waits DelayBase, doubled with each further failure, at most
	// DelayMax. The delay slows guessing spread over many addresses without
	// keeping the owner out: after it the right password gets in.
	DelayAfter int
	DelayBase  time.Duration
	DelayMax   time.Duration
	// LockAfter failures for an account from one address lock that pair
	// for LockFor, the right password included.
	LockAfter int
	LockFor   time.Duration
}

// LoginBlock says why a sign-in attempt must wait.
type LoginBlock int

// The reasons an attempt waits.
const (
	LoginAllowed      LoginBlock = iota
	LoginAddressLimit            // too many attempts from the address
	LoginAccountDelay            // the account's delay after failures
	LoginPairLocked              // too many failures for the account from this address
)

// TakeAddressAttempt takes one sign-in attempt from addr's bucket. When
// none is left it returns how long until the next one, taking nothing.
func (s *Store) TakeAddressAttempt(ctx context.Context, addr string, l LoginLimits) (time.Duration, error) {
	var wait time.Duration
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		now := s.throttleNow()
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_addresses (address, tokens, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (address) DO NOTHING`, addr, float64(l.AddressBurst), now); err != nil {
			return err
		}
		var row struct {
			Tokens    float64   `db:"tokens"`
			UpdatedAt time.Time `db:"updated_at"`
		}
		if err := tx.GetContext(ctx, &row, `SELECT tokens, updated_at FROM login_addresses WHERE address = $1 FOR UPDATE`, addr); err != nil {
			return err
		}
		tokens := row.Tokens
		if elapsed := now.Sub(row.UpdatedAt); elapsed > 0 {
			tokens = math.Min(float64(l.AddressBurst), tokens+float64(elapsed)/float64(l.AddressEvery))
		}
		if tokens < 1 {
			wait = time.Duration((1 - tokens) * float64(l.AddressEvery))
		} else {
			tokens--
		}
		_, err := tx.ExecContext(ctx, `UPDATE login_addresses SET tokens = $2, updated_at = $3 WHERE address = $1`, addr, tokens, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: take sign-in attempt: %w", err)
	}
	return wait, nil
}

// BeginLogin says whether an attempt for email from addr may check its
// password now, and if not how long it waits and why. An attempt allowed
// while the account has failures enough for a delay holds that delay until
// its outcome is recorded, so that parallel guesses cannot all slip
// through when a delay ends.
func (s *Store) BeginLogin(ctx context.Context, email, addr string, l LoginLimits) (time.Duration, LoginBlock, error) {
	email = loginKey(email)
	var wait time.Duration
	block := LoginAllowed
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		now := s.throttleNow()
		var rows []struct {
			Address      string     `db:"address"`
			Failures     int        `db:"failures"`
			BlockedUntil *time.Time `db:"blocked_until"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT address, failures, blocked_until FROM login_failures
			WHERE email = $1 AND address IN ('', $2) ORDER BY address DESC FOR UPDATE`, email, addr); err != nil {
			return err
		}
		for _, r := range rows { // the pair first: its lock is the longer wait
			if r.BlockedUntil != nil && now.Before(*r.BlockedUntil) {
				wait, block = r.BlockedUntil.Sub(now), LoginPairLocked
				if r.Address == "" {
					block = LoginAccountDelay
				}
				return nil
			}
		}
		for _, r := range rows {
			if r.Address == "" && r.Failures >= l.DelayAfter {
				_, err := tx.ExecContext(ctx, `UPDATE login_failures SET blocked_until = $2 WHERE email = $1 AND address = ''`,
					email, now.Add(l.delay(r.Failures)))
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, LoginAllowed, fmt.Errorf("store: begin sign-in: %w", err)
	}
	return wait, block, nil
}

// RecordLoginFailure counts a wrong password (or an unknown email) for
// email, as a whole and from addr, and sets the account's delay and the
// pair's lock.
func (s *Store) RecordLoginFailure(ctx context.Context, email, addr string, l LoginLimits) error {
	email = loginKey(email)
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		now := s.throttleNow()
		var failures int
		if err := tx.GetContext(ctx, &failures, `INSERT INTO login_failures (email, address, failures, updated_at) VALUES ($1, '', 1, $2)
			ON CONFLICT (email, address) DO UPDATE SET failures = login_failures.failures + 1, updated_at = $2
			RETURNING failures`, email, now); err != nil {
			return err
		}
		var until sql.NullTime
		if failures >= l.DelayAfter {
			until = sql.NullTime{Time: now.Add(l.delay(failures)), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE login_failures SET blocked_until = $3 WHERE email = $1 AND address = $2`, email, "", until); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO login_failures (email, address, failures, blocked_until, updated_at)
			VALUES ($1, $2, 1, CASE WHEN 1 >= $3 THEN $4::timestamptz END, $5)
			ON CONFLICT (email, address) DO UPDATE SET failures = login_failures.failures + 1, updated_at = $5,
				blocked_until = CASE WHEN login_failures.failures + 1 >= $3 THEN $4::timestamptz ELSE login_failures.blocked_until END`,
			email, addr, l.LockAfter, now.Add(l.LockFor), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record sign-in failure: %w", err)
	}
	return nil
}

// RecordLoginSuccess forgets the account's failures and those from addr;
// pairs locked from other addresses stay locked.
func (s *Store) RecordLoginSuccess(ctx context.Context, email, addr string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE email = $1 AND address IN ('', $2)`, loginKey(email), addr); err != nil {
		return fmt.Errorf("store: record sign-in success: %w", err)
	}
	return nil
}

// DeleteStaleLoginThrottles forgets addresses and failures untouched for
// idle whose lock has ended.
func (s *Store) DeleteStaleLoginThrottles(ctx context.Context, idle time.Duration) error {
	now := s.throttleNow()
	cutoff := now.Add(-idle)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_addresses WHERE updated_at < $1`, cutoff); err != nil {
		return fmt.Errorf("store: delete stale sign-in throttles: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE updated_at < $1 AND (blocked_until IS NULL OR blocked_until < $2)`, cutoff, now); err != nil {
		return fmt.Errorf("store: delete stale sign-in throttles: %w", err)
	}
	return nil
}

// clearLoginFailures forgets every failure for the user's email, when an
// administrator re-enables the user or a password is set.
func clearLoginFailures(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	var email string
	if err := tx.GetContext(ctx, &email, `SELECT email FROM users WHERE id = $1`, userID); err != nil {
		return notFound(err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE email = $1`, loginKey(email))
	return err
}

// throttleNow is the store's time at the microsecond Postgres keeps, so
// that a wait read back is exactly the one set, not a hair longer (which
// would show as a minute more).
func (s *Store) throttleNow() time.Time { return s.now().Truncate(time.Microsecond) }

// delay is the account's wait after failures consecutive failures.
func (l LoginLimits) delay(failures int) time.Duration {
	if failures < l.DelayAfter {
		return 0
	}
	d := l.DelayBase
	for i := l.DelayAfter; i < failures && d < l.DelayMax; i++ {
		d *= 2
	}
	return min(d, l.DelayMax)
}

// loginKey is the form of an email the throttle counts by.
func loginKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
