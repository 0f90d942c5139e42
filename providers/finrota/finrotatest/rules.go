package finrotatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"kasa/tz"
)

// documentTypes are the nine accepted types: the Turkish wire value, which
// is stored, and the English spelling of the update page, accepted as an
// alias.
var documentTypes = [][2]string{
	{"Senet", "Promissory Note"},
	{"Çek", "Cheque"},
	{"Kredi Kartı", "Credit Card"},
	{"Borç dekont", "Debt Receipt"},
	{"Fatura", "Invoice"},
	{"Havale", "Wire Transfer"},
	{"Sipariş", "Order"},
	{"Devir", "Carryover"},
	{"Virman", "Transfer"},
}

func turkishDocumentType(s string) (string, bool) {
	for _, t := range documentTypes {
		if s == t[0] || s == t[1] {
			return t[0], true
		}
	}
	return "", false
}

// debtBody is the body of create and update as Finrota binds it: names
// match case-insensitively (encoding/json does that), and every value is
// kept raw so that a wrong type becomes a field error, not a lost request.
type debtBody struct {
	UpdateErpCode                 json.RawMessage `json:"updateErpCode"`
	ID                            json.RawMessage `json:"id"`
	AgentErpCode                  json.RawMessage `json:"agentErpCode"`
	Amount                        json.RawMessage `json:"amount"`
	PaidAmount                    json.RawMessage `json:"paidAmount"`
	DocumentNo                    json.RawMessage `json:"documentNo"`
	CurrentAccountErpCode         json.RawMessage `json:"currentAccountErpCode"`
	DocumentType                  json.RawMessage `json:"documentType"`
	CurrentAccountTransactionType json.RawMessage `json:"currentAccountTransactionType"`
	DueDate                       json.RawMessage `json:"dueDate"`
	TransactionDate               json.RawMessage `json:"transactionDate"`
	CurrencyID                    json.RawMessage `json:"currencyId"`
	CurrencyCode                  json.RawMessage `json:"currencyCode"`
	ErpCode                       json.RawMessage `json:"erpCode"`
	Description                   json.RawMessage `json:"description"`
}

// debtInput is a validated create or update.
type debtInput struct {
	updateErpCode, id string // update only
	agent             string
	amount, paid      decimal.Decimal
	documentNo        string
	accounts          []string // the first is stored
	documentType      string   // Turkish
	due, transaction  string   // YYYY-MM-DD
	currency          string
	erpCode           string
	description       string
}

// readDebtBody decodes the body, answering 415 or 400 itself when it
// cannot be read as one JSON object.
func readDebtBody(w http.ResponseWriter, r *http.Request) (debtBody, bool) {
	var b debtBody
	if !jsonContent(w, r) {
		return b, false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&b); err != nil {
		msg := "Request body is not valid JSON."
		if _, ok := err.(*json.UnmarshalTypeError); ok {
			msg = "Request body must be a JSON object."
		}
		writeStatus(w, http.StatusBadRequest, msg)
		return b, false
	}
	if dec.More() {
		writeStatus(w, http.StatusBadRequest, "Request body is not valid JSON.")
		return b, false
	}
	return b, true
}

// fieldErrors collects validation messages by field, as ASP.NET does.
type fieldErrors map[string][]string

func (f fieldErrors) add(field, format string, args ...any) {
	f[field] = append(f[field], fmt.Sprintf(format, args...))
}

// validateDebt applies every value rule of create (and, with update, the
// reference rule of update). Rules needing the data (agents, accounts,
// currencies, ERP codes) are checked afterwards under the lock.
func validateDebt(b debtBody, update bool) (debtInput, fieldErrors) {
	f := fieldErrors{}
	var in debtInput
	in.agent = requiredString(f, "agentErpCode", b.AgentErpCode)
	in.documentNo = requiredString(f, "documentNo", b.DocumentNo)
	in.erpCode = requiredString(f, "erpCode", b.ErpCode)
	in.description, _ = optionalString(f, "description", b.Description)
	in.accounts = accountCodes(f, b.CurrentAccountErpCode)

	if a, ok := amount(f, "amount", b.Amount, true); ok {
		in.amount = a
		if !a.IsPositive() {
			f.add("amount", "amount must be greater than 0.")
		}
	}
	if p, ok := amount(f, "paidAmount", b.PaidAmount, false); ok {
		in.paid = p
		switch {
		case p.IsNegative():
			f.add("paidAmount", "paidAmount must not be negative.")
		case in.amount.IsPositive() && p.GreaterThan(in.amount):
			f.add("paidAmount", "paidAmount cannot be greater than amount.")
		}
	}

	typeField, typeRaw := "documentType", b.DocumentType
	if isAbsent(typeRaw) && !isAbsent(b.CurrentAccountTransactionType) {
		typeField, typeRaw = "currentAccountTransactionType", b.CurrentAccountTransactionType
	}
	if t := requiredString(f, typeField, typeRaw); t != "" {
		if tr, ok := turkishDocumentType(t); ok {
			in.documentType = tr
		} else {
			f.add(typeField, "'%s' is not a valid document type. Valid values: Senet, Çek, Kredi Kartı, Borç dekont, Fatura, Havale, Sipariş, Devir, Virman.", t)
		}
	}

	in.due = date(f, "dueDate", b.DueDate)
	in.transaction = date(f, "transactionDate", b.TransactionDate)
	if in.due != "" && in.transaction != "" && in.transaction > in.due {
		f.add("transactionDate", "transactionDate cannot be later than dueDate.")
	}

	id, _ := optionalString(f, "currencyId", b.CurrencyID)
	code, _ := optionalString(f, "currencyCode", b.CurrencyCode)
	switch {
	case strings.TrimSpace(id) == "" && strings.TrimSpace(code) == "":
		f.add("currencyId", "The currencyId field is required.")
	case id != "" && code != "" && id != code:
		f.add("currencyId", "currencyId '%s' and currencyCode '%s' disagree.", id, code)
	case id != "":
		in.currency = id
	default:
		in.currency = code
	}

	if update {
		in.updateErpCode, _ = optionalString(f, "updateErpCode", b.UpdateErpCode)
		rawID, _ := optionalString(f, "id", b.ID)
		if strings.TrimSpace(rawID) != "" {
			if u, err := uuid.Parse(strings.TrimSpace(rawID)); err != nil {
				f.add("id", "The value '%s' is not a valid Guid.", rawID)
			} else {
				in.id = u.String()
			}
		}
		if strings.TrimSpace(in.updateErpCode) == "" && strings.TrimSpace(rawID) == "" {
			f.add("updateErpCode", "Either updateErpCode or id is required.")
		}
	}
	return in, f
}

func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// optionalString reads a JSON string; a value of another type is an error.
func optionalString(f fieldErrors, field string, raw json.RawMessage) (string, bool) {
	if isAbsent(raw) {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.add(field, "The JSON value could not be converted to System.String.")
		return "", false
	}
	return s, true
}

func requiredString(f fieldErrors, field string, raw json.RawMessage) string {
	s, ok := optionalString(f, field, raw)
	if ok && strings.TrimSpace(s) == "" {
		f.add(field, "The %s field is required.", field)
		return ""
	}
	return s
}

// accountCodes reads currentAccountErpCode as a string or, for multi-branch
// setups, an array of strings.
func accountCodes(f fieldErrors, raw json.RawMessage) []string {
	const field = "currentAccountErpCode"
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var codes []string
		if err := json.Unmarshal(trimmed, &codes); err != nil {
			f.add(field, "The JSON value could not be converted to System.String[].")
			return nil
		}
		if len(codes) == 0 {
			f.add(field, "The %s field is required.", field)
			return nil
		}
		for _, c := range codes {
			if strings.TrimSpace(c) == "" {
				f.add(field, "%s must not contain empty codes.", field)
				return nil
			}
		}
		return codes
	}
	if c := requiredString(f, field, raw); c != "" {
		return []string{c}
	}
	return nil
}

var numericString = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// maxAmount is the bound of a decimal(18,2) column.
var maxAmount = decimal.New(1, 16)

// amount reads a JSON number or a numeric string with at most 2 decimals.
func amount(f fieldErrors, field string, raw json.RawMessage, required bool) (decimal.Decimal, bool) {
	if isAbsent(raw) {
		if required {
			f.add(field, "The %s field is required.", field)
			return decimal.Decimal{}, false
		}
		return decimal.Decimal{}, true
	}
	text := string(bytes.TrimSpace(raw))
	if text[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil || !numericString.MatchString(strings.TrimSpace(text)) {
			f.add(field, "The value %s is not a valid decimal.", clip(string(raw)))
			return decimal.Decimal{}, false
		}
		text = strings.TrimSpace(text)
	}
	d, err := decimal.NewFromString(text)
	if err != nil || (text[0] != '-' && (text[0] < '0' || text[0] > '9')) {
		f.add(field, "The value %s is not a valid decimal.", clip(string(raw)))
		return decimal.Decimal{}, false
	}
	if d.Abs().GreaterThanOrEqual(maxAmount) {
		f.add(field, "%s is out of range.", field)
		return decimal.Decimal{}, false
	}
	if !d.Equal(d.Round(2)) {
		f.add(field, "%s must have at most 2 decimal places.", field)
		return decimal.Decimal{}, false
	}
	return d, true
}

var dateLayouts = []string{time.DateOnly, time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// date reads an ISO date or timestamp and returns its calendar date in
// Istanbul ("YYYY-MM-DD"), the only part Finrota keeps.
func date(f fieldErrors, field string, raw json.RawMessage) string {
	s, ok := optionalString(f, field, raw)
	if !ok {
		return ""
	}
	if strings.TrimSpace(s) == "" {
		f.add(field, "The %s field is required.", field)
		return ""
	}
	for _, layout := range dateLayouts {
		t, err := time.ParseInLocation(layout, s, tz.Istanbul)
		if err != nil {
			continue
		}
		if t.Year() < 1900 {
			f.add(field, "%s is out of range.", field)
			return ""
		}
		return t.In(tz.Istanbul).Format(time.DateOnly)
	}
	f.add(field, "The value '%s' is not a valid date; use YYYY-MM-DD.", clip(s))
	return ""
}

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
