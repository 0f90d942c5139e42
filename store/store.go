// Package store holds what every area shares in Postgres: the database
// handle and its transactions, migrations, settings and the keyring, users,
// sessions, sign-in throttling, the audit trail and the API call log, and
// the helpers the areas write their own SQL with (shared.go). Each area
// (debts, consents, hgs, movements) keeps its own tables' SQL. Settings'
// secrets are encrypted and decrypted at this boundary.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Typed errors callers branch on.
var (
	// ErrNotFound means the record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change collides with another record (a unique key).
	ErrConflict = errors.New("conflict")
)

// Store is the product's Postgres database.
type Store struct {
	db   *sqlx.DB
	keys *Keyring
	now  func() time.Time
}

// Open connects to the database at url. keys encrypts secrets at rest.
func Open(ctx context.Context, url string, keys *Keyring) (*Store, error) {
	return OpenDriver(ctx, "postgres", url, keys)
}

// OpenDriver is Open through a database/sql driver registered under
// driverName that speaks to Postgres; tests use it to count statements.
func OpenDriver(ctx context.Context, driverName, url string, keys *Keyring) (*Store, error) {
	db, err := sqlx.Open(driverName, url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: connect: %w", err), db.Close())
	}
	return &Store{db: db, keys: keys, now: time.Now}, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the connection pool, for the areas, which keep their own SQL,
// and for River, which runs on the same pool.
func (s *Store) DB() *sqlx.DB { return s.db }

// SetClock replaces the store's clock; tests use it to move time.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// InTx runs fn in a transaction, committing when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	// After Commit the rollback is a no-op (sql.ErrTxDone); before it, fn's
	// error is the one to report.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// isUniqueViolation reports a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505"
}

// likeEscaper makes text match itself literally in a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// escapeLike escapes s for use inside a LIKE or ILIKE pattern.
func escapeLike(s string) string { return likeEscaper.Replace(s) }

// eachRow runs query and hands each row, scanned into a T, to fn, so that
// exports of any size stream instead of filling memory.
func eachRow[T any](ctx context.Context, q sqlx.QueryerContext, op string, fn func(T) error, query string, args ...any) error {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	defer func() { _ = rows.Close() }() // rows.Err below reports a failed read
	for rows.Next() {
		var v T
		if err := rows.StructScan(&v); err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}
