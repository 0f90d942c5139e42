package vakifbank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"kasa/providers/apicall"
	"kasa/tz"
)

// wireLayout is how dates go to the bank: Istanbul wall time with its
// offset, as in the documentation's example request.
const wireLayout = "2006-01-02T15:04:05-07:00"

// wireLocalLayout is the documented date format without an offset.
const wireLocalLayout = "2006-01-02T15:04:05"

// TransactionType says which way money moved.
type TransactionType int

// The documented transaction types.
const (
	In  TransactionType = 1 // "1": hesaba giren para
	Out TransactionType = 2 // "2": hesaptan çıkan para
)

// String returns "in" or "out".
func (t TransactionType) String() string {
	switch t {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return fmt.Sprintf("TransactionType(%d)", int(t))
}

// Transaction is one account movement.
type Transaction struct {
	ID          string          // TransactionId, unique per account
	Date        time.Time       // in Europe/Istanbul
	Type        TransactionType // In or Out
	Amount      decimal.Decimal // signed as on the wire: money out is negative
	Balance     decimal.Decimal // the running balance after this movement
	Currency    string          // CurrencyCode as sent: "TL", "USD", "EUR"…
	Code        string          // TransactionCode, e.g. "EFTTHSBEFT"
	Name        string          // TransactionName, e.g. "Hesaba giden EFT"
	Description string
	// Raw is the row exactly as the bank sent it, kept for audit.
	Raw json.RawMessage
}

type transactionsRequest struct {
	AccountNumber string
	StartDate     string
	EndDate       string
}

// Transactions returns the movements of account between start and end, both
// inclusive at one-second resolution. The bank refuses ranges over one year
// (ACBH000134); use Range for longer ones. No movements is an empty slice,
// not an error.
func (c *Client) Transactions(ctx context.Context, account string, start, end time.Time) ([]Transaction, error) {
	txns, err := c.transactions(ctx, account, start, end)
	if err != nil {
		return nil, fmt.Errorf("vakifbank: account transactions: %w", err)
	}
	return txns, nil
}

// Range returns the movements of account from from to to (inclusive) of any
// length: one call per window of Windows, in order, de-duplicated by
// TransactionId and sorted by date (movements of the same second keep the
// bank's order, which the balance chain depends on).
func (c *Client) Range(ctx context.Context, account string, from, to time.Time) ([]Transaction, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("vakifbank: account transactions: range ends (%s) before it starts (%s)",
			to.In(tz.Istanbul).Format(wireLayout), from.In(tz.Istanbul).Format(wireLayout))
	}
	var all []Transaction
	for _, w := range Windows(from, to) {
		txns, err := c.transactions(ctx, account, w.Start, w.End)
		if err != nil {
			return nil, fmt.Errorf("vakifbank: account transactions %s to %s: %w",
				w.Start.Format(wireLayout), w.End.Format(wireLayout), err)
		}
		all = append(all, txns...)
	}
	return mergeTransactions(all), nil
}

// mergeTransactions drops repeated TransactionIds (keeping the first) and
// sorts stably by date.
func mergeTransactions(txns []Transaction) []Transaction {
	seen := make(map[string]bool, len(txns))
	out := make([]Transaction, 0, len(txns))
	for _, t := range txns {
		if seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		out = append(out, t)
	}
	slices.SortStableFunc(out, func(a, b Transaction) int { return a.Date.Compare(b.Date) })
	return out
}

func (c *Client) transactions(ctx context.Context, account string, start, end time.Time) ([]Transaction, error) {
	body, err := json.Marshal(transactionsRequest{
		AccountNumber: account,
		StartDate:     start.In(tz.Istanbul).Format(wireLayout),
		EndDate:       end.In(tz.Istanbul).Format(wireLayout),
	})
	if err != nil {
		return nil, err
	}
	// One id for the logical call, so the retry after a 401 carries it too.
	id := apicall.RequestID(ctx)
	tok, err := c.accessToken(ctx, "")
	if err != nil {
		return nil, err
	}
	txns, err := c.postTransactions(ctx, tok, id, body)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		if tok, err = c.accessToken(ctx, tok); err != nil {
			return nil, err
		}
		txns, err = c.postTransactions(ctx, tok, id, body)
	}
	return txns, err
}

// postTransactions makes one HTTP attempt. Each attempt names its operation
// afresh so that the first attempt's error code is not recorded on the retry.
func (c *Client) postTransactions(ctx context.Context, token, id string, body []byte) ([]Transaction, error) {
	ctx = apicall.WithOperation(ctx, provider, "account_transactions")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/accountTransactions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-ID", id)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	// The body is read in full below; a failed read is the error that
	// counts, and closing it only hands the connection back.
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err // the connection broke mid-answer: a transport failure
	}
	return interpret(ctx, resp.StatusCode, raw, id)
}

// interpret turns a status and body into movements or an *Error, and tells
// apicall the bank's message code before the caller closes the body.
func interpret(ctx context.Context, status int, raw []byte, id string) ([]Transaction, error) {
	ok := status >= 200 && status < 300
	if len(raw) > maxBody {
		return nil, &Error{Status: status, Malformed: ok, Message: "answer too large", RequestID: id}
	}
	a, perr := parseAnswer(raw)
	if perr == nil && a.code != "" && a.code != CodeCompleted {
		apicall.SetErrorCode(ctx, a.code)
	}
	switch {
	case perr == nil && a.code == CodeNoMovements:
		// "No movements in the range" is an empty answer, whatever the
		// status it came with.
		return []Transaction{}, nil
	case perr != nil && ok, perr == nil && ok && !a.envelope:
		msg := "not an account transactions answer"
		if perr != nil {
			msg = perr.Error()
		}
		return nil, &Error{Status: status, Malformed: true, Message: msg, RequestID: id}
	case !ok || isErrorCode(a.code):
		e := &Error{Status: status, Code: a.code, Message: a.message, RequestID: id}
		if e.Message == "" {
			e.Message, _ = MessageText(e.Code)
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		return nil, e
	}
	if a.txns == nil {
		a.txns = []Transaction{}
	}
	return a.txns, nil
}

// isErrorCode reports whether a message code on a 2xx answer means the
// request failed. Only the gateway's APIGW000000 (or no code at all) is
// success, and ACBH000202 (handled before) an empty list; any other code —
// an ACBH refusal, or a gateway code such as APIGW000500 — is an error, so
// that an unknown failure is never read as "no movements" and the range
// then taken as stored.
func isErrorCode(code string) bool {
	return code != "" && code != CodeCompleted
}
