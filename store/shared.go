package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// The helpers below let the area packages write their SQL the way the
// store writes its own.

// NotFound turns sql.ErrNoRows into ErrNotFound, so callers compare one
// error whatever the query.
func NotFound(err error) error { return notFound(err) }

// IsUniqueViolation reports a unique-constraint violation.
func IsUniqueViolation(err error) bool { return isUniqueViolation(err) }

// EscapeLike escapes s for use inside a LIKE or ILIKE pattern.
func EscapeLike(s string) string { return escapeLike(s) }

// SearchMatch is the condition that the columns contain the text bound to
// param (already escaped with EscapeLike), compared by Turkish case rules
// through search_fold; prefix qualifies the columns ("t." for an aliased
// table).
func SearchMatch(prefix string, columns []string, param string) string {
	return searchMatch(prefix, columns, param)
}

// ExecOne runs a statement that must touch exactly one row; ErrNotFound
// when it touches none.
func ExecOne(ctx context.Context, q sqlx.ExecerContext, query string, args ...any) error {
	return execOne(ctx, q, query, args...)
}

// EachRow runs query and hands each row, scanned into a T, to fn, so that
// exports of any size stream instead of filling memory; op names the
// operation in errors.
func EachRow[T any](ctx context.Context, q sqlx.QueryerContext, op string, fn func(T) error, query string, args ...any) error {
	return eachRow(ctx, q, op, fn, query, args...)
}

// Keys returns the keyring that seals the secrets an area stores in its
// own tables (the consents area's tokens and PKCE verifiers).
func (s *Store) Keys() *Keyring { return s.keys }

// HashID is how one-time identifiers (session ids, OAuth states and their
// session bindings) are stored: hashed, never in clear.
func HashID(id string) []byte { return hashID(id) }
