package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"kasa/tz"
)

// A debts page reads everything it shows in one statement (the session's
// is the only other): the lists' debts and references as rows (see
// selectSQL), the other side lists as JSON columns, decoded here into the
// usual types.
// In JSON, amounts travel as text so they decode exactly, calendar days as
// midnight UTC (as lib/pq reads a DATE), and timestamps keep their zone.
// json rather than jsonb throughout: it is built several times faster.

// debtJSONColumns are the columns of the debt row p (debtColumns) under
// Debt's JSON names, for row_to_json.
const debtJSONColumns = `p.id, p.erp_code, p.remote_erp_code, p.finrota_id, p.agent_erp_code, p.current_account_erp_code,
	p.amount::text AS amount, p.paid_amount::text AS paid_amount, p.document_no, p.document_type,
	to_char(p.due_date, ` + debtDayFormat + `) AS due_date, to_char(p.transaction_date, ` + debtDayFormat + `) AS transaction_date,
	p.currency_id, p.description, p.is_active, p.state, p.op, p.version, p.request_id, p.job_id, p.last_error_status,
	p.last_error_code, p.last_error_message, p.last_error_fields, p.created_by, p.updated_by, p.created_at, p.updated_at,
	p.delivered_at, p.seen_at`

// debtDayFormat renders a DATE as an RFC 3339 time at midnight UTC.
const debtDayFormat = `'YYYY-MM-DD"T00:00:00Z"'`

// debtByIDJSON is debt $1 as a JSON object, NULL when there is none.
const debtByIDJSON = `(SELECT row_to_json(j) FROM (SELECT ` + debtJSONColumns + ` FROM debts p WHERE p.id = $1) j)`

// debtRefsJSON is every known reference as a JSON array, by kind and code,
// for the one-row statements of the forms (the lists read them as rows).
const debtRefsJSON = `(SELECT coalesce(json_agg(r ORDER BY r.kind, r.code), '[]')
	FROM (SELECT kind, code, name, active, source FROM debt_refs) r) AS refs`

// debtLastSyncJSON is the latest sync as a JSON object, NULL before the first.
const debtLastSyncJSON = `(SELECT row_to_json(l) FROM (SELECT ` + debtSyncColumns + `
	FROM debt_syncs s LEFT JOIN users u ON u.id = s.requested_by ORDER BY s.id DESC LIMIT 1) l) AS last_sync`

// debtDecodeJSON decodes the JSON column named what into v; SQL NULL leaves
// v as it is.
func debtDecodeJSON(what string, b []byte, v any) error {
	if b == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// DebtListPage is what the debts list shows: a page of debts, every known
// reference for the filters' choices, and the latest sync.
type DebtListPage struct {
	Page DebtPage
	// Refs are every agent, current account and currency, by kind and code.
	Refs []DebtRef
	// LastSync is nil before the first sync.
	LastSync *DebtSync
}

// DebtListView reads the debts list's page of f with the filters' choices
// and the latest sync, in one statement.
func (s *Store) DebtListView(ctx context.Context, f DebtFilter) (DebtListPage, error) {
	q, args := f.pageQuery(nil)
	var lastSync []byte
	var v DebtListPage
	var err error
	v.Page, v.Refs, err = q.query(ctx, s.db, f, `WITH`+q.ctes+q.selectSQL(debtLastSyncJSON, true), args, debtScan(&lastSync))
	if err == nil {
		v.LastSync, err = debtDecodeSync(lastSync)
	}
	if err != nil {
		return DebtListPage{}, fmt.Errorf("store: debt list view: %w", err)
	}
	return v, nil
}

// debtDecodeSync decodes debtLastSyncJSON: nil before the first sync.
func debtDecodeSync(b []byte) (*DebtSync, error) {
	if b == nil {
		return nil, nil
	}
	var s DebtSync
	if err := debtDecodeJSON("last sync", b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DebtOverduePage is what the overdue page shows: its list (the overdue
// rule with the user's filters), the totals of what a notification would
// reach today, the latest sends and whether they go out daily.
type DebtOverduePage struct {
	List          DebtListPage
	Summary       OverdueSummary
	Notifications []DebtNotification
	DailyNotify   bool
}

// notificationJSONColumns are the columns of the send n (joined with its
// requester u) under DebtNotification's JSON names.
const notificationJSONColumns = `n.id, to_char(n.day, ` + debtDayFormat + `) AS day, u.email AS requested_by, n.requested_at,
	n.forced, n.scheduled, n.debts, n.agents, n.request_id, n.job_id, n.state, n.error_code, n.error_message, n.finished_at`

// DebtOverdueView reads the overdue page in one statement: the list page of
// f (the caller applies the overdue rule to it), the summary of
// OverdueFilter(f.Today), and the latest notifications sends.
func (s *Store) DebtOverdueView(ctx context.Context, f DebtFilter, notifications int) (DebtOverduePage, error) {
	q, query, args := debtOverdueQuery(f, notifications)
	var lastSync, byCurrency, byAgent, sends []byte
	var v DebtOverduePage
	var err error
	v.List.Page, v.List.Refs, err = q.query(ctx, s.db, f, query, args, debtScan(&lastSync), debtScan(&v.Summary.Debts),
		debtScan(&v.Summary.Agents), debtScan(&v.Summary.Accounts), debtScan(&v.Summary.Unknown), debtScan(&v.Summary.FullyPaid), debtScan(&byCurrency),
		debtScan(&byAgent), debtScan(&sends), debtScan(&v.DailyNotify))
	if err == nil {
		if v.List.LastSync, err = debtDecodeSync(lastSync); err == nil {
			if err = debtDecodeJSON("by currency", byCurrency, &v.Summary.ByCurrency); err == nil {
				if err = debtDecodeJSON("by agent", byAgent, &v.Summary.ByAgent); err == nil {
					err = debtDecodeJSON("notifications", sends, &v.Notifications)
				}
			}
		}
	}
	if err != nil {
		return DebtOverduePage{}, fmt.Errorf("store: debt overdue view: %w", err)
	}
	return v, nil
}

// debtOverdueQuery builds the overdue page's statement.
func debtOverdueQuery(f DebtFilter, notifications int) (debtPageQuery, string, []any) {
	q, args := f.pageQuery(nil)
	of := OverdueFilter(f.Today)
	of.Reachable = false // applied per group below
	overdue, args := of.where(args)
	args = append(args, notifications)
	return q, `WITH` + q.ctes + `,
	-- overdue: what Finrota's overdue rule selects today among the debts it
	-- holds, whatever the list's filters, totalled per agent, current account
	-- and currency in one pass over the debts.
	overdue AS (SELECT agent_erp_code AS agent, current_account_erp_code AS account, currency_id AS currency,
			count(*) AS debts, count(*) FILTER (WHERE paid_amount >= amount) AS paid, sum(amount - paid_amount) AS outstanding
		FROM debts` + overdue + ` GROUP BY agent_erp_code, current_account_erp_code, currency_id),
	-- reach: the groups the notification reaches, leaving out inactive agents
	-- and accounts (DebtFilter.Reachable, applied per group rather than per
	-- debt); known when the activity of both is known. (kind, code) is
	-- debt_refs' key, so each join matches at most once.
	reach AS (SELECT o.*, ra.code IS NOT NULL AND rc.code IS NOT NULL AS known
		FROM overdue o
		LEFT JOIN debt_refs ra ON ra.kind = 'agent' AND ra.code = o.agent AND ra.source <> 'seen'
		LEFT JOIN debt_refs rc ON rc.kind = 'account' AND rc.code = o.account AND rc.source <> 'seen'
		WHERE NOT EXISTS (SELECT 1 FROM debt_refs r WHERE r.kind = 'agent' AND r.code = o.agent AND NOT r.active)
			AND NOT EXISTS (SELECT 1 FROM debt_refs r WHERE r.kind = 'account' AND r.code = o.account AND NOT r.active)),
	-- by_agent: the totals per agent and currency, with how many debts'
	-- agent's or account's activity is not known.
	by_agent AS (SELECT agent, currency, sum(debts)::bigint AS debts, sum(paid)::bigint AS paid, sum(outstanding) AS outstanding,
			coalesce(sum(debts) FILTER (WHERE NOT known), 0)::bigint AS unknown
		FROM reach GROUP BY agent, currency),
	-- sends: the latest notification sends, newest first.
	sends AS (SELECT ` + notificationJSONColumns + `
		FROM debt_notifications n LEFT JOIN users u ON u.id = n.requested_by
		ORDER BY n.requested_at DESC, n.id DESC LIMIT $` + fmt.Sprint(len(args)) + `)` + q.selectSQL(debtLastSyncJSON+`,
		(SELECT coalesce(sum(debts), 0)::bigint FROM by_agent) AS debts,
		(SELECT count(DISTINCT agent) FROM by_agent) AS agents,
		(SELECT count(DISTINCT account) FROM reach) AS accounts,
		(SELECT coalesce(sum(unknown), 0)::bigint FROM by_agent) AS unknown,
		(SELECT coalesce(sum(paid), 0)::bigint FROM by_agent) AS fully_paid,
		(SELECT coalesce(json_agg(c ORDER BY c.currency), '[]') FROM (SELECT '' AS agent, currency, sum(debts)::bigint AS debts,
			sum(outstanding)::text AS outstanding FROM by_agent GROUP BY currency) c) AS by_currency,
		(SELECT coalesce(json_agg(a ORDER BY a.agent, a.currency), '[]') FROM (SELECT agent, currency, debts,
			outstanding::text AS outstanding FROM by_agent) a) AS by_agent,
		(SELECT coalesce(json_agg(n ORDER BY n.requested_at DESC, n.id DESC), '[]') FROM sends n) AS notifications,
		(SELECT daily_notify FROM debt_options) AS daily_notify`, true), args
}

// DebtDetail is what a debt's page shows: the debt, its history from the
// audit log and the intents sent for it with their API calls.
type DebtDetail struct {
	Debt       Debt
	Trail      []AuditEntry
	Deliveries []DebtDelivery
}

// debtCallJSON is an API call as the detail's statement sends it.
type debtCallJSON struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Provider   string    `json:"provider"`
	Operation  string    `json:"operation"`
	Method     string    `json:"method"`
	Status     int       `json:"status"`
	DurationMS float64   `json:"duration_ms"`
	RequestID  string    `json:"request_id"`
	ErrorCode  string    `json:"error_code"`
	Failure    string    `json:"failure"`
}

// DebtDetailView reads debt id with its latest history (trail entries at
// most), its latest 50 deliveries and their latest 200 API calls, in one
// statement; ErrNotFound when there is no such debt.
func (s *Store) DebtDetailView(ctx context.Context, id int64, trail int) (DebtDetail, error) {
	var row struct {
		Debt       []byte `db:"debt"`
		Trail      []byte `db:"trail"`
		Deliveries []byte `db:"deliveries"`
		Calls      []byte `db:"calls"`
	}
	err := s.db.GetContext(ctx, &row, `WITH
	-- history: who changed what, newest first.
	history AS (SELECT a.id, a.at, a.user_id, u.email AS user_email, a.action, a.subject, a.details
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
		WHERE a.subject = $2 ORDER BY a.at DESC, a.id DESC LIMIT $3),
	-- deliveries: the intents sent for the debt, newest first.
	deliveries AS (SELECT d.id, d.version, d.op, d.request_id, u.email AS by_email, d.created_at
		FROM debt_deliveries d LEFT JOIN users u ON u.id = d.created_by
		WHERE d.debt_id = $1 ORDER BY d.id DESC LIMIT 50),
	-- calls: the API calls made under those deliveries' request ids (retries share one).
	calls AS (SELECT c.id, c.at, c.provider, c.operation, c.method, c.status, c.duration_ms, c.request_id, c.error_code, c.failure
		FROM api_calls c WHERE c.request_id IN (SELECT request_id FROM deliveries)
		ORDER BY c.at DESC, c.id DESC LIMIT 200)
	SELECT `+debtByIDJSON+` AS debt,
		(SELECT coalesce(json_agg(h ORDER BY h.at DESC, h.id DESC), '[]') FROM history h) AS trail,
		(SELECT coalesce(json_agg(d ORDER BY d.id DESC), '[]') FROM deliveries d) AS deliveries,
		(SELECT coalesce(json_agg(c ORDER BY c.at DESC, c.id DESC), '[]') FROM calls c) AS calls`,
		id, DebtSubject(id), trail)
	if err != nil {
		return DebtDetail{}, fmt.Errorf("store: debt detail view: %w", err)
	}
	if row.Debt == nil {
		return DebtDetail{}, ErrNotFound
	}
	var v DebtDetail
	var entries []auditJSON
	var calls []debtCallJSON
	if err = debtDecodeJSON("debt", row.Debt, &v.Debt); err == nil {
		if err = debtDecodeJSON("trail", row.Trail, &entries); err == nil {
			if err = debtDecodeJSON("deliveries", row.Deliveries, &v.Deliveries); err == nil {
				err = debtDecodeJSON("calls", row.Calls, &calls)
			}
		}
	}
	if err != nil {
		return DebtDetail{}, fmt.Errorf("store: debt detail view: %w", err)
	}
	for _, e := range entries {
		v.Trail = append(v.Trail, e.entry())
	}
	byRequest := map[string]int{}
	for i, d := range v.Deliveries {
		byRequest[d.RequestID] = i
	}
	for _, c := range calls {
		if i, ok := byRequest[c.RequestID]; ok {
			v.Deliveries[i].Calls = append(v.Deliveries[i].Calls, APICall(c))
		}
	}
	return v, nil
}

// DebtEditView reads debt id and every known reference for the edit form,
// in one statement; ErrNotFound when there is no such debt.
func (s *Store) DebtEditView(ctx context.Context, id int64) (Debt, []DebtRef, error) {
	var debt, refs []byte
	err := s.db.QueryRowContext(ctx, `SELECT `+debtByIDJSON+` AS debt, `+debtRefsJSON, id).Scan(&debt, &refs)
	if err != nil {
		return Debt{}, nil, fmt.Errorf("store: debt edit view: %w", err)
	}
	if debt == nil {
		return Debt{}, nil, ErrNotFound
	}
	var d Debt
	var rs []DebtRef
	if err = debtDecodeJSON("debt", debt, &d); err == nil {
		err = debtDecodeJSON("refs", refs, &rs)
	}
	if err != nil {
		return Debt{}, nil, fmt.Errorf("store: debt edit view: %w", err)
	}
	return d, rs, nil
}

// DebtNewView proposes an ERP code no debt has used (as NewErpCode does)
// and reads every known reference for the create form, in one statement.
func (s *Store) DebtNewView(ctx context.Context) (string, []DebtRef, error) {
	var code sql.NullString
	var refs []byte
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT c FROM unnest($1::text[]) WITH ORDINALITY AS t (c, i)
			WHERE NOT EXISTS (SELECT 1 FROM debt_erp_codes WHERE code = c) AND NOT EXISTS (SELECT 1 FROM debts WHERE erp_code = c)
			ORDER BY i LIMIT 1) AS code, `+debtRefsJSON,
		pq.Array(s.erpCodeCandidates())).Scan(&code, &refs)
	if err != nil {
		return "", nil, fmt.Errorf("store: debt new view: %w", err)
	}
	if !code.Valid {
		return "", nil, fmt.Errorf("store: debt new view: no free erp code found")
	}
	var rs []DebtRef
	if err := debtDecodeJSON("refs", refs, &rs); err != nil {
		return "", nil, fmt.Errorf("store: debt new view: %w", err)
	}
	return code.String, rs, nil
}

// erpCodeCandidates proposes five ERP codes: a date and a random part,
// short enough to read over the phone.
func (s *Store) erpCodeCandidates() []string {
	day := s.now().In(tz.Istanbul).Format("20060102")
	codes := make([]string, 5)
	for i := range codes {
		codes[i] = "CAT-" + day + "-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:6])
	}
	return codes
}
