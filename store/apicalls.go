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
		c.At, c.Provider, c.Operation, c.Method, c.Status, c.DurationMS, c.RequestID, c.ErrorCode, truncate(c.Failure, 500))
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
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM api_calls`+cond, args...); err != nil {
		return nil, 0, fmt.Errorf("store: count api calls: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	args = append(args, limit, max(f.Offset, 0))
	var calls []APICall
	err := s.db.SelectContext(ctx, &calls, `SELECT id, at, provider, operation, method, status, duration_ms, request_id, error_code, failure
		FROM api_calls`+cond+fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: api calls: %w", err)
	}
	return calls, total, nil
}

// APICallProviders lists the providers and operations seen, for filters.
func (s *Store) APICallProviders(ctx context.Context) ([]string, error) {
	var ps []string
	err := s.db.SelectContext(ctx, &ps, `SELECT DISTINCT provider FROM api_calls ORDER BY provider`)
	return ps, err
}

// APICallStats counts the calls and the failed calls since t.
func (s *Store) APICallStats(ctx context.Context, since time.Time) (total, failed int, err error) {
	var row struct {
		Total  int `db:"total"`
		Failed int `db:"failed"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT count(*) AS total, count(*) FILTER (WHERE status = 0 OR status >= 400) AS failed FROM api_calls WHERE at >= $1`, since)
	return row.Total, row.Failed, err
}

// PruneAPICalls deletes calls recorded before t.
func (s *Store) PruneAPICalls(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_calls WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("store: prune api calls: %w", err)
	}
	return res.RowsAffected()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
