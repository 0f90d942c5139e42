package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Option changes how Enqueue stores a job.
type Option func(*options)

type options struct {
	runAt       *time.Time
	uniqueKey   string
	maxAttempts int
}

// RunAt delays the job's first attempt until t.
func RunAt(t time.Time) Option { return func(o *options) { o.runAt = &t } }

// UniqueKey gives the job a key no other job may share, in any state, so an
// intent enqueued twice (a double submit, two instances scheduling the same
// period) runs once.
func UniqueKey(key string) Option { return func(o *options) { o.uniqueKey = key } }

// MaxAttempts sets how many attempts the job gets before it fails; the
// default is 10. Values below 1 mean 1.
func MaxAttempts(n int) Option { return func(o *options) { o.maxAttempts = max(n, 1) } }

// Enqueue inserts a job through q — the caller's transaction (*sqlx.Tx) or the
// pool — so the job exists iff the caller's transaction commits. In the same
// statement it notifies Channel, which Postgres delivers at commit, so idle
// runners on every instance wake up without waiting for their poll.
//
// With UniqueKey, a second enqueue returns ErrDuplicate and inserts nothing.
// The conflict is resolved with ON CONFLICT DO NOTHING rather than a failed
// insert, so the caller's transaction stays usable.
func Enqueue(ctx context.Context, q sqlx.ExtContext, kind string, payload any, opts ...Option) (int64, error) {
	o := options{maxAttempts: 10}
	for _, opt := range opts {
		opt(&o)
	}
	body := []byte("{}")
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return 0, fmt.Errorf("jobs: enqueue %s: payload: %w", kind, err)
		}
	}
	var key sql.NullString
	if o.uniqueKey != "" {
		key = sql.NullString{String: o.uniqueKey, Valid: true}
	}
	var id int64
	// pq sends []byte as bytea, which jsonb rejects: pass the payload as text.
	// pg_notify sits in the select list so it runs only when a row was inserted.
	err := q.QueryRowxContext(ctx, `
		WITH ins AS (
			INSERT INTO jobs (kind, payload, max_attempts, run_at, unique_key)
			VALUES ($1, $2::jsonb, $3, COALESCE($4, now()), $5)
			ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
			RETURNING id
		)
		SELECT id, pg_notify($6, $1)::text FROM ins`,
		kind, string(body), o.maxAttempts, o.runAt, key, Channel).Scan(&id, new(string))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("jobs: enqueue %s key %q: %w", kind, o.uniqueKey, ErrDuplicate)
	}
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return id, nil
}
