package vakifbanktest

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/providers/faults"
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
	return template.HTML(`<h2>Balance-chain break</h2>
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
	day, err := time.ParseInLocation("2006-01-02", r.PostFormValue("date"), istanbul)
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
	http.Redirect(w, r, "/_fake/faults", http.StatusSeeOther)
}
