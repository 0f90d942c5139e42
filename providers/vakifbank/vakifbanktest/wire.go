package vakifbanktest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// These are the wire shapes of CONTRACTS.md section 3, declared here and not
// shared with the client, so that a misspelt field fails the client's tests.

type transactionsRequest struct {
	AccountNumber string
	StartDate     string
	EndDate       string
}

type header struct {
	StatusCode        string
	StatusDescription string
	ObjectID          string
}

// legacyStatus is the older envelope's status block.
type legacyStatus struct {
	Code        string
	Description string
	ObjectID    string
}

// envelope is either {"Header":…,"Data":…} or the legacy {"Status":…,"Data":…}.
type envelope struct {
	Header *header        `json:"Header,omitempty"`
	Status *legacyStatus  `json:"Status,omitempty"`
	Data   map[string]any `json:"Data,omitempty"`
}

// transaction is one row of Data.AccountTransactions. The id and money are
// any so that the quirks can send them as JSON numbers.
type transaction struct {
	CurrencyCode    string
	TransactionType string
	Description     string
	Amount          any
	TransactionCode string
	Balance         any
	TransactionName string
	TransactionDate string
	TransactionId   any
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   any    `json:"expires_in"`
	Scope       string `json:"scope"`
}

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// Every value passed here encodes; a failed write means the client hung
	// up first, and a fake has no one to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// formatCents writes an amount in kuruş/cents as a decimal string with two
// places: -20000 → "-200.00".
func formatCents(c int64) string {
	neg := c < 0
	if neg {
		c = -c
	}
	frac := c % 100
	s := strconv.FormatInt(c/100, 10) + "." + string(rune('0'+frac/10)) + string(rune('0'+frac%10))
	if neg {
		return "-" + s
	}
	return s
}
