package vakifbanktest

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/providers/faults"
	"kasa/tz"
)

// faultAnswers is what the control page can make the gateway answer instead
// of the real handler, so that the product's explanation of each can be
// seen: every documented ACBH code with the status the fake gives it, in the
// envelope the quirks select, and the gateway's 401 for a rejected token.
func (s *Server) faultAnswers() []faults.Answer {
	codes := []struct {
		code   string
		status int
	}{
		{codeStartDateFormat, http.StatusBadRequest},
		{codeEndDateFormat, http.StatusBadRequest},
		{codeAccountEmpty, http.StatusBadRequest},
		{codeAccountFormat, http.StatusBadRequest},
		{codeAccountNotOwned, http.StatusForbidden},
		{codeRangeTooLong, http.StatusBadRequest},
		{codeNoMovements, 0}, // the quirks' status, 404 by default
	}
	out := make([]faults.Answer, 0, len(codes)+1)
	for _, c := range codes {
		label := fmt.Sprintf("%d %s %s", c.status, c.code, messages[c.code])
		if c.status == 0 {
			label = c.code + " " + messages[c.code] + " (status as on the answer-shapes page)"
		}
		out = append(out, faults.Answer{Key: c.code, Label: label, Write: func(w http.ResponseWriter, r *http.Request) {
			q := s.Quirks()
			status := c.status
			if status == 0 {
				status = q.NoMovementsStatus
				if status == 0 {
					status = http.StatusNotFound
				}
			}
			s.writeEnvelope(w, status, c.code, q, nil)
		}})
	}
	return append(out, faults.Answer{Key: "invalid_token", Label: "401 invalid_token (the access token is rejected)",
		Write: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, oauthError{Error: "invalid_token", ErrorDescription: "The access token is invalid or has expired"})
		}})
}

// balanceBreakForm is the control page's form for breaking an account's
// balance chain.
func (s *Server) balanceBreakForm() template.HTML {
	var opts strings.Builder
	for _, a := range s.Accounts() {
		fmt.Fprintf(&opts, `<option value="%s">%s (%s)</option>`, template.HTMLEscapeString(a.Number),
			template.HTMLEscapeString(a.Number), template.HTMLEscapeString(a.Currency))
	}
	var inForce strings.Builder
	if bs := s.BalanceBreaks(); len(bs) > 0 {
		inForce.WriteString(`<div data-testid="balance-breaks-in-force"><p><strong>In force:</strong></p><ul>`)
		for _, b := range bs {
			fmt.Fprintf(&inForce, `<li data-testid="balance-break-in-force">Balance chain broken for account %s from %s (movement %s) by %s
<form method="post" action="/_fake/balance-break/undo"><input type="hidden" name="id" value="%d"><button>Undo</button></form></li>`,
				template.HTMLEscapeString(b.Number), b.At.In(tz.Istanbul).Format("2006-01-02 15:04"),
				template.HTMLEscapeString(b.MovementID), b.Delta.StringFixed(2), b.ID)
		}
		inForce.WriteString(`</ul></div>`)
	}
	return template.HTML(`<h2 id="balance-break">Balance-chain break</h2>` + inForce.String() + `
<p>Shifts the balance of the first movement on or after the date, and of every later one, by the
amount, as if a movement were missing before it. Movements already stored by Kasa keep their
balances; fetch the period again to see the break.</p>
<form method="post" action="/_fake/balance-break">
<p><label>Account <select name="account">` + opts.String() + `</select></label></p>
<p><label>From date <input name="date" type="date" required></label>
<label>Amount <input name="delta" value="100.00" required></label></p>
<p><button>Break the chain</button></p>
</form>`)
}

// serveBalanceBreak applies the control page's balance-chain break.
func (s *Server) serveBalanceBreak(w http.ResponseWriter, r *http.Request) {
	number := r.PostFormValue("account")
	day, err := time.ParseInLocation("2006-01-02", r.PostFormValue("date"), tz.Istanbul)
	if err != nil {
		http.Error(w, "date: want YYYY-MM-DD", http.StatusBadRequest)
		return
	}
	delta, err := decimal.NewFromString(strings.TrimSpace(r.PostFormValue("delta")))
	if err != nil {
		http.Error(w, "amount: want a decimal such as 100.00", http.StatusBadRequest)
		return
	}
	index := -1
	for i, m := range s.Movements(number) {
		if !m.Date.Before(day) {
			index = i
			break
		}
	}
	if index < 0 {
		http.Error(w, "no movement of "+number+" on or after "+day.Format("2006-01-02"), http.StatusBadRequest)
		return
	}
	if err := s.InjectBalanceBreak(number, index, delta); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/_fake/faults#balance-break", http.StatusSeeOther)
}

// serveBalanceBreakUndo takes back a break listed as in force.
func (s *Server) serveBalanceBreakUndo(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PostFormValue("id"))
	if err == nil {
		err = s.UndoBalanceBreak(id)
	}
	if err != nil {
		http.Error(w, "undo: "+err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/_fake/faults#balance-break", http.StatusSeeOther)
}
