package finrota

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

// Credentials are the API key pair issued by the Finrota portal for one
// environment (demo or production).
type Credentials struct {
	APIKey    string
	SecretKey string
}

// DocumentType is one of the document types Finrota accepts for a debt: the
// Turkish value goes on the wire, the English label is what the update page
// of the documentation (and an English UI) shows.
type DocumentType struct {
	Wire    string
	English string
}

// DocumentTypes lists the nine document types in the order of the contract,
// so that a form can offer them as choices.
var DocumentTypes = []DocumentType{
	{Wire: "Senet", English: "Promissory Note"},
	{Wire: "Çek", English: "Cheque"},
	{Wire: "Kredi Kartı", English: "Credit Card"},
	{Wire: "Borç dekont", English: "Debt Receipt"},
	{Wire: "Fatura", English: "Invoice"},
	{Wire: "Havale", English: "Wire Transfer"},
	{Wire: "Sipariş", English: "Order"},
	{Wire: "Devir", English: "Carryover"},
	{Wire: "Virman", English: "Transfer"},
}

// LookupDocumentType finds a document type by its Turkish wire value or its
// English label, so that input from either language maps to the wire value.
func LookupDocumentType(s string) (DocumentType, bool) {
	for _, t := range DocumentTypes {
		if s == t.Wire || s == t.English {
			return t, true
		}
	}
	return DocumentType{}, false
}

// Debt is a current account transaction (CAT) at Finrota.
type Debt struct {
	// ID is Finrota's GUID; read-only, empty on a debt not yet created.
	ID                    string
	AgentErpCode          string
	Amount                decimal.Decimal
	PaidAmount            decimal.Decimal
	DocumentNo            string
	CurrentAccountErpCode string
	// DocumentType is the Turkish wire value (see DocumentTypes).
	DocumentType string
	// DueDate and TransactionDate are calendar dates: only the year, month
	// and day in the value's own location are sent. Read back, they are
	// midnight UTC of the date Finrota reports (in Europe/Istanbul).
	DueDate         time.Time
	TransactionDate time.Time
	// CurrencyID is the ISO code (TRY, USD, EUR).
	CurrencyID  string
	ErpCode     string
	Description string
	// IsActive, CreatedAt and UpdatedAt are read-only.
	IsActive  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Receipt is what Finrota answers to a successful create or update.
type Receipt struct {
	ErpCode   string
	CreatedAt time.Time
}

// Ref names the debt an update applies to: its current ERP code, its
// Finrota ID, or both (then both must name the same record).
type Ref struct {
	UpdateErpCode string
	ID            string
}

// Page is one page of the debt list.
type Page struct {
	Items      []Debt
	Page       int
	PageSize   int
	TotalCount int
}

// MaxPageSize is the largest page Finrota serves.
const MaxPageSize = 100

// debtRequest is the body of create and update. The currency goes under both
// names because the seed's own example contradicts its field table.
type debtRequest struct {
	UpdateErpCode         string      `json:"updateErpCode,omitempty"`
	ID                    string      `json:"id,omitempty"`
	AgentErpCode          string      `json:"agentErpCode"`
	Amount                json.Number `json:"amount"`
	PaidAmount            json.Number `json:"paidAmount"`
	DocumentNo            string      `json:"documentNo"`
	CurrentAccountErpCode string      `json:"currentAccountErpCode"`
	DocumentType          string      `json:"documentType"`
	DueDate               string      `json:"dueDate"`
	TransactionDate       string      `json:"transactionDate"`
	CurrencyID            string      `json:"currencyId"`
	CurrencyCode          string      `json:"currencyCode"`
	ErpCode               string      `json:"erpCode"`
	Description           string      `json:"description,omitempty"`
}

// newDebtRequest converts d to the wire, refusing amounts that would be
// rounded: money must reach Finrota exactly as the user typed it.
func newDebtRequest(d Debt) (debtRequest, error) {
	amount, err := wireAmount("amount", d.Amount)
	if err != nil {
		return debtRequest{}, err
	}
	paid, err := wireAmount("paidAmount", d.PaidAmount)
	if err != nil {
		return debtRequest{}, err
	}
	if d.DueDate.IsZero() || d.TransactionDate.IsZero() {
		return debtRequest{}, fmt.Errorf("%w: dueDate and transactionDate are required", ErrInvalidArgument)
	}
	// Finrota stores the Turkish value; an English label from the UI is
	// translated here rather than relying on the server's alias.
	if t, ok := LookupDocumentType(d.DocumentType); ok {
		d.DocumentType = t.Wire
	}
	return debtRequest{
		AgentErpCode:          d.AgentErpCode,
		Amount:                amount,
		PaidAmount:            paid,
		DocumentNo:            d.DocumentNo,
		CurrentAccountErpCode: d.CurrentAccountErpCode,
		DocumentType:          d.DocumentType,
		DueDate:               d.DueDate.Format(time.DateOnly),
		TransactionDate:       d.TransactionDate.Format(time.DateOnly),
		CurrencyID:            d.CurrencyID,
		CurrencyCode:          d.CurrencyID,
		ErpCode:               d.ErpCode,
		Description:           d.Description,
	}, nil
}

func wireAmount(field string, d decimal.Decimal) (json.Number, error) {
	if !d.Equal(d.Round(2)) {
		return "", fmt.Errorf("%w: %s %s has more than 2 decimals", ErrInvalidArgument, field, d.String())
	}
	return json.Number(d.StringFixed(2)), nil
}

// debtWire is a debt as Finrota returns it. Lenient types absorb the
// variations an ASP.NET backend produces (numbers as strings, dates with or
// without a time, the account as an array).
type debtWire struct {
	ID                            string      `json:"id"`
	AgentErpCode                  string      `json:"agentErpCode"`
	Amount                        wireDecimal `json:"amount"`
	PaidAmount                    wireDecimal `json:"paidAmount"`
	DocumentNo                    string      `json:"documentNo"`
	CurrentAccountErpCode         wireStrings `json:"currentAccountErpCode"`
	DocumentType                  string      `json:"documentType"`
	CurrentAccountTransactionType string      `json:"currentAccountTransactionType"`
	DueDate                       wireTime    `json:"dueDate"`
	TransactionDate               wireTime    `json:"transactionDate"`
	CurrencyID                    string      `json:"currencyId"`
	CurrencyCode                  string      `json:"currencyCode"`
	ErpCode                       string      `json:"erpCode"`
	Description                   string      `json:"description"`
	IsActive                      bool        `json:"isActive"`
	CreatedAt                     wireTime    `json:"createdAt"`
	UpdatedAt                     wireTime    `json:"updatedAt"`
}

func (w debtWire) debt() Debt {
	d := Debt{
		ID:              w.ID,
		AgentErpCode:    w.AgentErpCode,
		Amount:          decimal.Decimal(w.Amount),
		PaidAmount:      decimal.Decimal(w.PaidAmount),
		DocumentNo:      w.DocumentNo,
		DocumentType:    w.DocumentType,
		DueDate:         dateOf(time.Time(w.DueDate)),
		TransactionDate: dateOf(time.Time(w.TransactionDate)),
		CurrencyID:      w.CurrencyID,
		ErpCode:         w.ErpCode,
		Description:     w.Description,
		IsActive:        w.IsActive,
		CreatedAt:       time.Time(w.CreatedAt),
		UpdatedAt:       time.Time(w.UpdatedAt),
	}
	if len(w.CurrentAccountErpCode) > 0 {
		d.CurrentAccountErpCode = w.CurrentAccountErpCode[0]
	}
	if d.DocumentType == "" {
		d.DocumentType = w.CurrentAccountTransactionType
	}
	if t, ok := LookupDocumentType(d.DocumentType); ok {
		d.DocumentType = t.Wire
	}
	if d.CurrencyID == "" {
		d.CurrencyID = w.CurrencyCode
	}
	return d
}

type receiptWire struct {
	ErpCode   string   `json:"erpCode"`
	CreatedAt wireTime `json:"createdAt"`
}

type pageWire struct {
	Items      []debtWire `json:"items"`
	Page       int        `json:"page"`
	PageSize   int        `json:"pageSize"`
	TotalCount int        `json:"totalCount"`
}

type tokenWire struct {
	Token  string   `json:"token"`
	Expiry wireTime `json:"expiry"`
	Type   string   `json:"type"`
}

// wireDecimal reads a JSON number or a numeric string.
type wireDecimal decimal.Decimal

// UnmarshalJSON implements json.Unmarshaler.
func (w *wireDecimal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("amount %.40q: %w", s, err)
	}
	*w = wireDecimal(d)
	return nil
}

// wireStrings reads a string or an array of strings.
type wireStrings []string

// UnmarshalJSON implements json.Unmarshaler.
func (w *wireStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '[':
		var ss []string
		if err := json.Unmarshal(b, &ss); err != nil {
			return err
		}
		*w = ss
		return nil
	default:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*w = wireStrings{s}
		return nil
	}
}

// wireTime reads a date, or a timestamp with or without a zone (ASP.NET
// writes DateTime values without one; those are taken as Istanbul time).
type wireTime time.Time

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", time.DateOnly}

// UnmarshalJSON implements json.Unmarshaler.
func (w *wireTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := parseTime(s)
	if err != nil {
		return err
	}
	*w = wireTime(t)
	return nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range timeLayouts {
		var t time.Time
		var err error
		if layout == time.RFC3339Nano {
			t, err = time.Parse(layout, s)
		} else {
			t, err = time.ParseInLocation(layout, s, tz.Istanbul)
		}
		if err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %.40q is not ISO 8601", s)
}

// dateOf returns midnight UTC of t's calendar date in Istanbul, the form in
// which the app (and lib/pq for DATE columns) holds dates.
func dateOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.In(tz.Istanbul).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
