package vakifbanktest

import (
	"fmt"
	"net/http"
	"strconv"
)

var emptyListNames = []string{EmptyArray: "[]", EmptyString: `""`, EmptyNull: "null", EmptyMissing: "left out"}

// serveQuirks is the sandbox's page for switching answer shapes, next to
// /_fake/faults: GET shows the quirks in force, POST sets them (form fields
// legacy, empty_list, no_movements_status, no_movements_completed,
// numeric_ids, numeric_amounts, offset_dates, expires_in_string).
func (s *Server) serveQuirks(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		q := Quirks{
			LegacyEnvelope:       r.FormValue("legacy") != "",
			NoMovementsCompleted: r.FormValue("no_movements_completed") != "",
			NumericIDs:           r.FormValue("numeric_ids") != "",
			NumericAmounts:       r.FormValue("numeric_amounts") != "",
			OffsetDates:          r.FormValue("offset_dates") != "",
			ExpiresInString:      r.FormValue("expires_in_string") != "",
		}
		if n, err := strconv.Atoi(r.FormValue("empty_list")); err == nil && n >= 0 && n < len(emptyListNames) {
			q.EmptyList = EmptyList(n)
		}
		if st, err := strconv.Atoi(r.FormValue("no_movements_status")); err == nil && st >= 200 && st <= 599 {
			q.NoMovementsStatus = st
		}
		s.SetQuirks(q)
		http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
		return
	}
	q := s.Quirks()
	status := q.NoMovementsStatus
	if status == 0 {
		status = http.StatusNotFound
	}
	box := func(name, label string, on bool) string {
		c := ""
		if on {
			c = " checked"
		}
		return fmt.Sprintf(`<p><label><input type="checkbox" name="%s" value="1"%s> %s</label></p>`, name, c, label)
	}
	options := ""
	for i, name := range emptyListNames {
		sel := ""
		if EmptyList(i) == q.EmptyList {
			sel = " selected"
		}
		options += fmt.Sprintf(`<option value="%d"%s>%s</option>`, i, sel, name)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// A failed write means the browser left; a fake has no one to tell.
	_, _ = fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>VakıfBank quirks</title></head><body>
<h1>VakıfBank: answer shapes</h1>
<form method="post">
%s
<p><label>Empty AccountTransactions <select name="empty_list">%s</select></label></p>
<p><label>HTTP status of ACBH000202 <input name="no_movements_status" type="number" min="200" max="599" value="%d"></label></p>
%s%s%s%s%s
<p><button>Apply</button></p>
</form></body></html>`,
		box("legacy", `Legacy envelope ("Status" instead of "Header")`, q.LegacyEnvelope),
		options, status,
		box("no_movements_completed", "No movements as APIGW000000 instead of ACBH000202", q.NoMovementsCompleted),
		box("numeric_ids", "TransactionId as a JSON number", q.NumericIDs),
		box("numeric_amounts", "Amount and Balance as JSON numbers", q.NumericAmounts),
		box("offset_dates", "TransactionDate with +03:00", q.OffsetDates),
		box("expires_in_string", `Token expires_in as a string`, q.ExpiresInString))
}
