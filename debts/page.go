package debts

import (
	"context"
	"fmt"
)

// ListDebts returns one page of the debts matching f: the count of matches
// (up to CountCap) and the page's rows, each an ordinary query that the
// debts' indexes serve. Pages are keyset-paginated from a cursor (After or
// Before), so a late page costs what the first does.
func (s *Service) ListDebts(ctx context.Context, f DebtFilter) (DebtPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 500)
	where, args := f.where(nil)

	var page DebtPage
	// Counted no further than CountCap+1: an exact count of 100,000 rows
	// would cost more than the page.
	if err := s.st.DB().GetContext(ctx, &page.Total, `SELECT count(*) FROM (SELECT 1 FROM debts`+where+
		fmt.Sprintf(` LIMIT %d`, CountCap+1)+`) AS capped`, args...); err != nil {
		return DebtPage{}, fmt.Errorf("debts: count debts: %w", err)
	}
	if page.Total > CountCap {
		page.Total, page.Capped = CountCap, true
	}

	// Going back a page reads backwards from the cursor, then flips the rows.
	backwards := f.Before != nil && f.After == nil
	query, args := f.pageSQL(where, args, backwards, limit)
	if err := s.st.DB().SelectContext(ctx, &page.Items, query, args...); err != nil {
		return DebtPage{}, fmt.Errorf("debts: list debts: %w", err)
	}
	more := len(page.Items) > limit
	if more {
		page.Items = page.Items[:limit]
	}
	if backwards {
		for i, j := 0, len(page.Items)-1; i < j; i, j = i+1, j-1 {
			page.Items[i], page.Items[j] = page.Items[j], page.Items[i]
		}
	}
	if len(page.Items) == 0 {
		return page, nil
	}
	first, last := cursorOf(page.Items[0], f.Sort), cursorOf(page.Items[len(page.Items)-1], f.Sort)
	switch {
	case backwards:
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
	return page, nil
}

// pageSQL is the query of a page of f's debts after the filter's where (with
// its args): from the cursor on, in the list's order (reversed when reading
// backwards), one row more than limit to tell whether a next page exists.
// Every value travels as an argument; only fixed fragments are joined.
func (f DebtFilter) pageSQL(where string, args []any, backwards bool, limit int) (string, []any) {
	col, cast := sortColumn(f.Sort)
	desc := f.Desc != backwards
	cursor := f.After
	if backwards {
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
	order := "id " + dir
	if col != "" {
		order = col + " " + dir + ", id " + dir
	}
	args = append(args, limit+1)
	return `SELECT ` + debtColumns + ` FROM debts` + where + ` ORDER BY ` + order + fmt.Sprintf(` LIMIT $%d`, len(args)), args
}
