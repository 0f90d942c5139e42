package vakifbanktest

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"kasa/tz"
)

// The message codes and texts of the documentation ("Mesaj Kodları").
const (
	codeCompleted       = "APIGW000000"
	codeStartDateFormat = "ACBH000025"
	codeEndDateFormat   = "ACBH000026"
	codeAccountEmpty    = "ACBH000034"
	codeAccountFormat   = "ACBH000035"
	codeAccountNotOwned = "ACBH000104"
	codeRangeTooLong    = "ACBH000134"
	codeNoMovements     = "ACBH000202"
)

var messages = map[string]string{
	codeCompleted:       "Completed",
	codeStartDateFormat: "Başlangıç tarihi formatı hatalıdır.",
	codeEndDateFormat:   "Bitiş tarihi formatı hatalıdır.",
	codeAccountEmpty:    "Hesap numarası boş olamaz.",
	codeAccountFormat:   "Hesap numarası uygun formatta girilmelidir.",
	codeAccountNotOwned: "İşlem yapmak istediğiniz hesap oturumdaki müşteri numarasına ait değildir.",
	codeRangeTooLong:    "Tarih aralığı maksimum 1 yıl olmalıdır.",
	codeNoMovements:     "Seçilen tarih aralığında hesap hareketi bulunmamaktadır.",
}

const localLayout = "2006-01-02T15:04:05"

// serveTransactions is POST /accountTransactions. The rules, in the order
// they are checked:
//   - AccountNumber empty or blank: 400 ACBH000034;
//   - AccountNumber not exactly 17 digits: 400 ACBH000035;
//   - StartDate / EndDate not yyyy-MM-ddTHH:mm:ss with an optional offset
//     (Z or ±hh:mm; none means Istanbul time): 400 ACBH000025 / ACBH000026;
//   - EndDate before StartDate, or after StartDate plus one calendar year
//     (Istanbul; so [1 Mar 00:00, 1 Mar next year 00:00] is allowed and one
//     second more is not): 400 ACBH000134;
//   - the account unknown or not the token's customer's: 403 ACBH000104;
//   - no movement with StartDate <= date <= EndDate (both inclusive):
//     ACBH000202 with 404 (Quirks.NoMovementsStatus to change it).
//
// A body that is not a JSON object of strings gets ASP.NET Core's 400
// validation problem, as the bank's servers answer a failed model binding.
func (s *Server) serveTransactions(w http.ResponseWriter, r *http.Request) {
	customer, ok := s.authorize(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	q := s.quirks
	s.mu.RUnlock()

	var req transactionsRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"type":   "https://tools.ietf.org/html/rfc9110#section-15.5.1",
			"title":  "One or more validation errors occurred.",
			"status": http.StatusBadRequest,
			"errors": map[string][]string{"$": {"The JSON value could not be converted."}},
		})
		return
	}
	fail := func(status int, code string) { s.writeEnvelope(w, status, code, q, nil) }
	switch {
	case strings.TrimSpace(req.AccountNumber) == "":
		fail(http.StatusBadRequest, codeAccountEmpty)
		return
	case !is17Digits(req.AccountNumber):
		fail(http.StatusBadRequest, codeAccountFormat)
		return
	}
	start, ok := parseWireDate(req.StartDate)
	if !ok {
		fail(http.StatusBadRequest, codeStartDateFormat)
		return
	}
	end, ok := parseWireDate(req.EndDate)
	if !ok {
		fail(http.StatusBadRequest, codeEndDateFormat)
		return
	}
	if end.Before(start) || end.After(start.In(tz.Istanbul).AddDate(1, 0, 0)) {
		fail(http.StatusBadRequest, codeRangeTooLong)
		return
	}
	s.mu.RLock()
	a := s.accounts[req.AccountNumber]
	var moves []movement
	var currency string
	if a != nil && a.Owner == customer {
		// a.moves is never changed in place, so the window may be read
		// after the lock is released.
		moves, currency = window(a.moves, start, end), a.Currency
	}
	s.mu.RUnlock()
	switch {
	case a == nil || a.Owner != customer:
		fail(http.StatusForbidden, codeAccountNotOwned)
	case len(moves) == 0 && q.NoMovementsCompleted:
		s.writeEnvelope(w, http.StatusOK, codeCompleted, q, nil)
	case len(moves) == 0:
		status := q.NoMovementsStatus
		if status == 0 {
			status = http.StatusNotFound
		}
		s.writeEnvelope(w, status, codeNoMovements, q, nil)
	default:
		s.writeEnvelope(w, http.StatusOK, codeCompleted, q, rows(moves, currency, q))
	}
}

// window returns the movements with start <= date <= end.
func window(moves []movement, start, end time.Time) []movement {
	lo := sort.Search(len(moves), func(i int) bool { return !moves[i].at.Before(start) })
	hi := sort.Search(len(moves), func(i int) bool { return moves[i].at.After(end) })
	if lo >= hi {
		return nil
	}
	return moves[lo:hi]
}

// parseWireDate accepts exactly yyyy-MM-ddTHH:mm:ss, optionally followed by
// Z or ±hh:mm; without an offset the time is Istanbul's.
func parseWireDate(s string) (time.Time, bool) {
	if len(s) < len(localLayout) {
		return time.Time{}, false
	}
	rest := s[len(localLayout):]
	if rest == "" {
		t, err := time.ParseInLocation(localLayout, s, tz.Istanbul)
		return t, err == nil
	}
	// Fractional seconds would pass time.Parse; the bank's format has none.
	if rest != "Z" && !(len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// writeEnvelope answers in the Header envelope, or the legacy Status one.
// txns nil means an answer without movements, spelt as Quirks.EmptyList says.
func (s *Server) writeEnvelope(w http.ResponseWriter, status int, code string, q Quirks, txns []transaction) {
	env := envelope{}
	id := uuid.NewString()
	if q.LegacyEnvelope {
		env.Status = &legacyStatus{Code: code, Description: messages[code], ObjectID: id}
	} else {
		env.Header = &header{StatusCode: code, StatusDescription: messages[code], ObjectID: id}
	}
	if code == codeCompleted || code == codeNoMovements {
		env.Data = map[string]any{}
		switch {
		case txns != nil:
			env.Data["AccountTransactions"] = txns
		case q.EmptyList == EmptyString:
			env.Data["AccountTransactions"] = ""
		case q.EmptyList == EmptyNull:
			env.Data["AccountTransactions"] = nil
		case q.EmptyList == EmptyArray:
			env.Data["AccountTransactions"] = []transaction{}
		}
	}
	writeJSON(w, status, env)
}

func rows(moves []movement, currency string, q Quirks) []transaction {
	out := make([]transaction, len(moves))
	layout := localLayout
	if q.OffsetDates {
		layout = time.RFC3339
	}
	for i, m := range moves {
		t := transaction{
			CurrencyCode:    currency,
			TransactionType: string(rune('0' + m.typ)),
			Description:     m.descr,
			Amount:          formatCents(m.amount),
			TransactionCode: m.code,
			Balance:         formatCents(m.balance),
			TransactionName: m.name,
			TransactionDate: m.at.In(tz.Istanbul).Format(layout),
			TransactionId:   m.id,
		}
		if q.NumericAmounts {
			t.Amount, t.Balance = json.Number(formatCents(m.amount)), json.Number(formatCents(m.balance))
		}
		if q.NumericIDs && isDigits(m.id) {
			t.TransactionId = json.Number(m.id)
		}
		out[i] = t
	}
	return out
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
