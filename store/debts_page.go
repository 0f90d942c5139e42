package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// One statement per page of debts: pageQuery builds the page's CTEs,
// selectSQL ends the statement, query scans it.

// debtPageQuery is the SQL of one page of the debts matching a filter, to
// be joined with a page view's other reads into one statement.
type debtPageQuery struct {
	// ctes defines "matches" and "page" (the leading WITH is the caller's).
	ctes      string
	order     string // the page's ORDER BY list
	limit     int
	backwards bool // reading back from a Before cursor: rows come reversed
}

// pageQuery builds the page query of f, numbering its arguments after args.
// Every value travels as an argument; only fixed fragments are joined.
func (f DebtFilter) pageQuery(args []any) (debtPageQuery, []any) {
	q := debtPageQuery{limit: f.Limit}
	if q.limit <= 0 {
		q.limit = 100
	}
	q.limit = min(q.limit, 500)
	col, cast := sortColumn(f.Sort)
	where, args := f.where(args)
	countWhere := where

	// Going back a page reads backwards from the cursor, then flips the rows.
	q.backwards = f.Before != nil && f.After == nil
	desc := f.Desc != q.backwards
	cursor := f.After
	if q.backwards {
		cursor = f.Before
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	if cursor != nil {
		var cond string
		if col == "" {
			args = append(args, cursor.ID)
			cond = fmt.Sprintf("id %s $%d", op, len(args))
		} else {
			args = append(args, cursor.Value, cursor.ID)
			cond = fmt.Sprintf("(%s, id) %s ($%d%s, $%d)", col, op, len(args)-1, cast, len(args))
		}
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
	}
	q.order = "id " + dir
	if col != "" {
		q.order = col + " " + dir + ", id " + dir
	}
	args = append(args, q.limit+1)
	q.ctes = `
	-- matches: how many debts match, counted no further than CountCap+1:
	-- an exact count of 100,000 rows would cost more than the page.
	matches AS (SELECT count(*) AS n FROM (SELECT 1 FROM debts` + countWhere + fmt.Sprintf(` LIMIT %d`, CountCap+1) + `) AS capped),
	-- page: the page's rows, one more than the limit to tell whether a next page exists.
	page AS (SELECT ` + debtColumns + ` FROM debts` + where + ` ORDER BY ` + q.order + fmt.Sprintf(` LIMIT $%d`, len(args)) + `)`
	return q, args
}

// selectSQL ends a page view's statement. Its result has three kinds of
// row: one of side data (the count of matches, how many references there
// are, then the view's side columns), one per reference (every agent,
// account and currency; none unless refs is set) and one per debt of the
// page. The full joins never match (each part against another): they only
// put the kinds of row in one result without listing the debt columns
// twice. Each kind numbers its rows in its own order, so no sort of the
// whole result is needed: query puts them in place. Rows rather than JSON:
// several hundred references and a hundred debts decode many times faster
// so.
func (q debtPageQuery) selectSQL(side string, refs bool) string {
	refRows, refCount := `SELECT 1 AS ref_part, row_number() OVER (ORDER BY kind, code) AS ref_n, kind, code, name, active, source
		FROM debt_refs`, `(SELECT count(*) FROM debt_refs)`
	if !refs {
		refRows, refCount = refRows+` WHERE false`, `0`
	}
	if side != "" {
		side = ", " + side
	}
	return `
	SELECT s.*, r.*, p.*
	FROM (SELECT 0 AS part, (SELECT n FROM matches) AS total, ` + refCount + ` AS refs` + side + `) s
	FULL JOIN (` + refRows + `) r ON r.ref_part = s.part
	FULL JOIN (SELECT 2 AS debt_part, row_number() OVER (ORDER BY ` + q.order + `) AS debt_n, page.* FROM page) p
		ON p.debt_part = s.part`
}

// debtNullable scans a column into *p, leaving *p as it is when the column is
// NULL: in selectSQL's result each kind of row has NULL in the others'
// columns.
type debtNullable[T any] struct{ p *T }

// Scan implements sql.Scanner.
func (n debtNullable[T]) Scan(src any) error {
	if src == nil {
		return nil
	}
	var v sql.Null[T]
	if err := v.Scan(src); err != nil {
		return err
	}
	*n.p = v.V
	return nil
}

// debtScan returns a destination for p that leaves it alone on NULL.
func debtScan[T any](p *T) sql.Scanner { return debtNullable[T]{p} }

// debtDest returns a debt's scan destinations, in debtColumns' order.
func debtDest(d *Debt) []any {
	return []any{debtScan(&d.ID), debtScan(&d.ErpCode), debtScan(&d.RemoteErpCode), debtScan(&d.FinrotaID),
		debtScan(&d.AgentErpCode), debtScan(&d.CurrentAccountErpCode), debtScan(&d.Amount), debtScan(&d.PaidAmount),
		debtScan(&d.DocumentNo), debtScan(&d.DocumentType), debtScan(&d.DueDate), debtScan(&d.TransactionDate),
		debtScan(&d.CurrencyID), debtScan(&d.Description), debtScan(&d.IsActive), debtScan(&d.State),
		debtScan(&d.Op), debtScan(&d.Version), debtScan(&d.RequestID), debtScan(&d.JobID),
		debtScan(&d.LastErrorStatus), debtScan(&d.LastErrorCode), debtScan(&d.LastErrorMessage),
		debtScan(&d.LastErrorFields), debtScan(&d.CreatedBy), debtScan(&d.UpdatedBy), debtScan(&d.CreatedAt),
		debtScan(&d.UpdatedAt), debtScan(&d.DeliveredAt), debtScan(&d.SeenAt)}
}

// query runs a statement ending in selectSQL: it scans the side row's own
// columns into side (debtScan destinations, in order) and returns the
// page of f (with the neighbours' cursors) and the references.
func (q debtPageQuery) query(ctx context.Context, db *sqlx.DB, f DebtFilter, query string, args []any, side ...any) (DebtPage, []DebtRef, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return DebtPage{}, nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err reports a failed read
	var page DebtPage
	// One set of destinations for every row: each kind's columns are NULL
	// in the others' rows, so they leave what another kind scanned alone.
	var part, refPart, refN, debtPart, debtN sql.NullInt64
	var nRefs int
	var r DebtRef
	var d Debt
	dest := append([]any{&part, debtScan(&page.Total), debtScan(&nRefs)}, side...)
	dest = append(dest, &refPart, &refN, debtScan(&r.Kind), debtScan(&r.Code), debtScan(&r.Name),
		debtScan(&r.Active), debtScan(&r.Source), &debtPart, &debtN)
	dest = append(dest, debtDest(&d)...)
	if cols, err := rows.Columns(); err != nil || len(cols) != len(dest) {
		return DebtPage{}, nil, fmt.Errorf("page columns: %d for %d destinations: %v", len(cols), len(dest), err)
	}
	var refs []DebtRef
	var refAt, debtAt []int64
	sideRow := false
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return DebtPage{}, nil, err
		}
		switch {
		case part.Valid:
			sideRow = true
		case refPart.Valid:
			refs, refAt = append(refs, r), append(refAt, refN.Int64)
			r = DebtRef{}
		case debtPart.Valid:
			page.Items, debtAt = append(page.Items, d), append(debtAt, debtN.Int64)
			d = Debt{}
		}
	}
	if err := rows.Err(); err != nil {
		return DebtPage{}, nil, err
	}
	if !sideRow || len(refs) != nRefs {
		return DebtPage{}, nil, fmt.Errorf("page side row missing or references lost")
	}
	// Put each kind's rows in their order (their numbers count from 1).
	refs, refsOK := debtInOrder(refs, refAt)
	items, itemsOK := debtInOrder(page.Items, debtAt)
	if !refsOK || !itemsOK {
		return DebtPage{}, nil, fmt.Errorf("page rows misnumbered")
	}
	page.Items = items
	if page.Total > CountCap {
		page.Total, page.Capped = CountCap, true
	}
	more := len(page.Items) > q.limit
	if more {
		page.Items = page.Items[:q.limit]
	}
	if q.backwards {
		for i, j := 0, len(page.Items)-1; i < j; i, j = i+1, j-1 {
			page.Items[i], page.Items[j] = page.Items[j], page.Items[i]
		}
	}
	if len(page.Items) == 0 {
		return page, refs, nil
	}
	first, last := cursorOf(page.Items[0], f.Sort), cursorOf(page.Items[len(page.Items)-1], f.Sort)
	switch {
	case q.backwards:
		page.Next = &last
		if more {
			page.Prev = &first
		}
	default:
		if more {
			page.Next = &last
		}
		if f.After != nil {
			page.Prev = &first
		}
	}
	return page, refs, nil
}

// debtInOrder returns items placed by their numbers at (1 for the first);
// nil and false when the numbers are not 1…len(items).
func debtInOrder[T any](items []T, at []int64) ([]T, bool) {
	out := make([]T, len(items))
	seen := make([]bool, len(items))
	for i, n := range at {
		if n < 1 || n > int64(len(items)) || seen[n-1] {
			return nil, false
		}
		out[n-1], seen[n-1] = items[i], true
	}
	return out, true
}
