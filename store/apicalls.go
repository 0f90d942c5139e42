package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// APICall is one recorded outbound provider call.
type APICall struct {
	ID         int64     `db:"id"`
	At         time.Time `db:"at"`
	Provider   string    `db:"provider"`
	Operation  string    `db:"operation"`
	Method     string    `db:"method"`
	Status     int       `db:"status"`
	DurationMS float64   `db:"duration_ms"`
	RequestID  string    `db:"request_id"`
	ErrorCode  string    `db:"error_code"`
	Failure    string    `db:"failure"`
}

// Failed reports whether the call got no answer or an error status.
func (c APICall) Failed() bool { return c.Status == 0 || c.Status >= 400 }

// InsertAPICall records a call.
func (s *Store) InsertAPICall(ctx context.Context, c APICall) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_calls (at, provider, operation, method, status, duration_ms, request_id, error_code, failure)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.At, c.Provider, c.Operation, c.Method, c.Status, c.DurationMS, c.RequestID, c.ErrorCode, Truncate(c.Failure, 500))
	if err != nil {
		return fmt.Errorf("store: record api call: %w", err)
	}
	return nil
}

// APICallFilter selects calls for the API log page.
type APICallFilter struct {
	Provider   string
	Operation  string
	RequestID  string
	OnlyErrors bool
	From, To   time.Time // zero = open
	Limit      int
	Offset     int
}

// APICalls returns the calls matching f, newest first, and how many match.
func (s *Store) APICalls(ctx context.Context, f APICallFilter) ([]APICall, int, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Provider != "" {
		add("provider = $%d", f.Provider)
	}
	if f.Operation != "" {
		add("operation = $%d", f.Operation)
	}
	if f.RequestID != "" {
		add("request_id = $%d", f.RequestID)
	}
	if f.OnlyErrors {
		where = append(where, "(status = 0 OR status >= 400)")
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	countArgs := args
	args = append(args, limit, max(f.Offset, 0))
	// The page and its total in one query; only a page past the end needs
	// the count on its own.
	var rows []struct {
		APICall
		Total int `db:"total"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT id, at, provider, operation, method, status, duration_ms, request_id, error_code, failure,
		count(*) OVER () AS total FROM api_calls`+cond+fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: api calls: %w", err)
	}
	calls := make([]APICall, 0, len(rows))
	total := 0
	for _, r := range rows {
		calls = append(calls, r.APICall)
		total = r.Total
	}
	if len(rows) == 0 && f.Offset > 0 {
		if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM api_calls`+cond, countArgs...); err != nil {
			return nil, 0, fmt.Errorf("store: count api calls: %w", err)
		}
	}
	return calls, total, nil
}

// Dashboard is what the dashboard counts.
type Dashboard struct {
	Calls      int `db:"calls"`        // provider calls since the given time
	FailedCall int `db:"failed_calls"` // of those, the failed ones
	FailedJobs int `db:"failed_jobs"`  // background jobs that gave up, still unresolved
}

// DashboardCounts counts, in one query, the provider calls and failed calls
// since t and the background jobs that gave up (River discarded them, out
// of attempts, or their worker cancelled them with an error). A failed debt
// delivery no longer
// counts once its debt was delivered or a newer intent replaced it (an
// edit, a retry): that failure is over, and counting it would send people
// looking for a problem that is gone.
func (s *Store) DashboardCounts(ctx context.Context, since time.Time) (Dashboard, error) {
	var d Dashboard
	err := s.db.GetContext(ctx, &d, `SELECT count(*) AS calls,
		count(*) FILTER (WHERE status = 0 OR status >= 400) AS failed_calls,
		(SELECT count(*) FROM river_job j WHERE (j.state = 'discarded' OR j.state = 'cancelled' AND j.errors IS NOT NULL)
			AND NOT (j.kind = 'debts.deliver' AND EXISTS (
			SELECT 1 FROM debts d WHERE d.id = (j.args->>'debtId')::bigint
				AND (d.state = 'delivered' OR d.version > (j.args->>'version')::int)))) AS failed_jobs
		FROM api_calls WHERE at >= $1`, since)
	if err != nil {
		return d, fmt.Errorf("store: dashboard counts: %w", err)
	}
	return d, nil
}

// PruneAPICalls deletes calls recorded before t.
func (s *Store) PruneAPICalls(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_calls WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("store: prune api calls: %w", err)
	}
	return res.RowsAffected()
}
