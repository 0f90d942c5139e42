package vakifbank

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

// answer is what a response body said, whichever envelope it used.
type answer struct {
	code    string // Header.StatusCode, Status.Code or the OAuth "error"
	message string // the matching description
	txns    []Transaction
	// envelope is true when the body had a Header, Status or Data object:
	// a 2xx answer without one is not an answer of this API.
	envelope bool
}

// wireEnvelope accepts the current Header envelope, the older Status one,
// and the gateway's OAuth-style and plain error bodies. encoding/json matches
// field names case-insensitively, as the bank's ASP.NET servers bind them.
// Header and Status stay raw because some gateways send "status" as a string
// or number, which must not make an otherwise readable body malformed.
type wireEnvelope struct {
	Header           json.RawMessage
	Status           json.RawMessage
	Data             json.RawMessage
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
	Message          json.RawMessage `json:"message"`
}

type wireHeader struct {
	StatusCode        flexString
	StatusDescription flexString
}

type wireStatus struct {
	Code        flexString
	Description flexString
}

type wireData struct {
	AccountTransactions json.RawMessage
}

type wireTransaction struct {
	CurrencyCode    flexString
	TransactionType flexString
	Description     flexString
	Amount          flexString
	TransactionCode flexString
	Balance         flexString
	TransactionName flexString
	TransactionDate flexString
	TransactionId   flexString
}

// flexString takes a JSON string, number or null as text. The bank documents
// strings, but integrators have seen TransactionId and amounts as numbers;
// keeping the literal text avoids float rounding of 16-digit ids and money.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0:
		// The decoder has validated the literal: without escapes, its text
		// is what lies between the quotes.
		*f = flexString(strings.TrimSpace(string(b[1 : len(b)-1])))
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(strings.TrimSpace(s))
	case string(b) == "null":
		*f = ""
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = flexString(b) // json.Unmarshal has already checked the literal
	default:
		return fmt.Errorf("want a string or number, got %.20s", b)
	}
	return nil
}

// parseAnswer reads a response body. An error means the body is not the JSON
// the contract describes; the caller decides what that means for the status.
func parseAnswer(body []byte) (answer, error) {
	var env wireEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return answer{}, fmt.Errorf("decode body: %w", err)
	}
	var a answer
	if isObject(env.Header) {
		var h wireHeader
		if err := json.Unmarshal(env.Header, &h); err != nil {
			return answer{}, fmt.Errorf("decode Header: %w", err)
		}
		a.code, a.message = string(h.StatusCode), string(h.StatusDescription)
		a.envelope = true
	} else if isObject(env.Status) {
		var s wireStatus
		if err := json.Unmarshal(env.Status, &s); err != nil {
			return answer{}, fmt.Errorf("decode Status: %w", err)
		}
		a.code, a.message = string(s.Code), string(s.Description)
		a.envelope = true
	}
	if a.code == "" {
		// Gateway errors (401, 5xx) come as {"error":…} or {"message":…}.
		a.code = rawText(env.Error)
		a.message = rawText(env.ErrorDescription)
		if a.message == "" {
			a.message = rawText(env.Message)
		}
	}
	if !isObject(env.Data) {
		return a, nil
	}
	a.envelope = true
	var d wireData
	if err := json.Unmarshal(env.Data, &d); err != nil {
		return answer{}, fmt.Errorf("decode Data: %w", err)
	}
	list := bytes.TrimSpace(d.AccountTransactions)
	if len(list) == 0 || string(list) == "null" {
		return a, nil
	}
	if list[0] == '"' {
		// "" stands for an empty list; any other text is not a list at all.
		var s string
		if err := json.Unmarshal(list, &s); err != nil || strings.TrimSpace(s) != "" {
			return answer{}, fmt.Errorf("AccountTransactions is text, not a list")
		}
		return a, nil
	}
	// Each row is kept as sent, for the audit copy the product stores.
	var rows []json.RawMessage
	if err := json.Unmarshal(list, &rows); err != nil {
		return answer{}, fmt.Errorf("decode AccountTransactions: %w", err)
	}
	a.txns = make([]Transaction, 0, len(rows))
	for i, raw := range rows {
		var r wireTransaction
		if err := json.Unmarshal(raw, &r); err != nil {
			return answer{}, fmt.Errorf("decode AccountTransactions: transaction %d: %w", i, err)
		}
		t, err := r.transaction()
		if err != nil {
			return answer{}, fmt.Errorf("transaction %d: %w", i, err)
		}
		t.Raw = raw
		a.txns = append(a.txns, t)
	}
	return a, nil
}

func (r wireTransaction) transaction() (Transaction, error) {
	amount, err := parseMoney(string(r.Amount))
	if err != nil {
		return Transaction{}, fmt.Errorf("field Amount: %w", err)
	}
	balance, err := parseMoney(string(r.Balance))
	if err != nil {
		return Transaction{}, fmt.Errorf("field Balance: %w", err)
	}
	date, err := parseDate(string(r.TransactionDate))
	if err != nil {
		return Transaction{}, fmt.Errorf("TransactionDate: %w", err)
	}
	if r.TransactionId == "" {
		return Transaction{}, errors.New("TransactionId is missing")
	}
	t := Transaction{
		ID:          string(r.TransactionId),
		Date:        date,
		Amount:      amount,
		Balance:     balance,
		Currency:    string(r.CurrencyCode),
		Code:        string(r.TransactionCode),
		Name:        string(r.TransactionName),
		Description: string(r.Description),
	}
	switch r.TransactionType {
	case "1":
		t.Type = In
	case "2":
		t.Type = Out
	default:
		// The type is documented as 1 or 2; should it be missing, the sign
		// of the amount says the same thing.
		t.Type = In
		if amount.IsNegative() {
			t.Type = Out
		}
	}
	return t, nil
}

func parseMoney(s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, errors.New("missing")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal", s)
	}
	return d, nil
}

// dateLayouts are tried in order; a date without an offset is Istanbul time,
// as the documentation's examples are.
var dateLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339, true},
	{"2006-01-02T15:04:05-0700", true},
	{wireLocalLayout, false},
	{"2006-01-02 15:04:05", false},
	{time.DateOnly, false},
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	for _, l := range dateLayouts {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, s)
		} else {
			t, err = time.ParseInLocation(l.layout, s, tz.Istanbul)
		}
		if err == nil {
			return t.In(tz.Istanbul), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not yyyy-MM-ddTHH:mm:ss", s)
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// rawText returns a JSON string's text, or a number's literal; anything else
// (objects, null) gives "".
func rawText(raw json.RawMessage) string {
	var f flexString
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &f) != nil {
		return ""
	}
	return string(f)
}
