// Package finrota is the client of Finrota's CAT API, where the finance team
// records the debts (current account transactions) of dealers and customers.
// Its contract is section 1 of CONTRACTS.md; finrotatest is its fake.
package finrota

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"kasa/providers/apicall"
	"kasa/providers/tokens"
)

const (
	// Provider names Finrota in the API call log.
	Provider = "finrota"
	// TokenKey is the key of Finrota's access token in the tokens.Store.
	TokenKey = "finrota"
	// TokenMargin is how long before its expiry a token is renewed, so that
	// a request never leaves with a token that lapses on the way.
	TokenMargin = 5 * time.Minute

	maxBody = 10 << 20
)

// Client calls Finrota's CAT API. It is safe for concurrent use once its
// exported fields are set.
type Client struct {
	baseURL string
	hc      *http.Client
	creds   Credentials
	tokens  tokens.Store

	// Now is the clock for token expiry and Retry-After dates; time.Now
	// when nil.
	Now func() time.Time
	// Wait pauses for d or until ctx ends; a sleep when nil. Tests replace
	// it so that honouring Retry-After costs no time.
	Wait func(ctx context.Context, d time.Duration) error
	// MaxReadRetries bounds how often a read throttled with 429 is retried
	// (3 when 0; negative disables retries).
	MaxReadRetries int
	// MaxRetryWait is the longest Retry-After a read waits out (10s when
	// 0); a longer one fails at once rather than hold a page view.
	MaxRetryWait time.Duration
}

// New returns a client of the Finrota API at baseURL (for example
// https://prodtest_gw.finrota.com). hc should carry apicall.Transport so that
// calls are recorded; ts keeps the access token shared by all instances.
func New(baseURL string, hc *http.Client, creds Credentials, ts tokens.Store) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), hc: hc, creds: creds, tokens: ts}
}

// Create records a new debt; d.ErpCode must never have been used before.
func (c *Client) Create(ctx context.Context, d Debt) (Receipt, error) {
	const verb = "create debt"
	body, err := newDebtRequest(d)
	if err != nil {
		return Receipt{}, fmt.Errorf("finrota: %s: %w", verb, err)
	}
	var rw receiptWire
	err = c.do(ctx, request{op: "create_debt", verb: verb, method: http.MethodPost, path: "/cat/cat", body: body}, &rw)
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{ErpCode: rw.ErpCode, CreatedAt: time.Time(rw.CreatedAt)}, nil
}

// Update replaces the debt named by ref with d; d.ErpCode is the record's
// new ERP code (the same as ref.UpdateErpCode to keep it).
func (c *Client) Update(ctx context.Context, ref Ref, d Debt) (Receipt, error) {
	const verb = "update debt"
	if strings.TrimSpace(ref.UpdateErpCode) == "" && strings.TrimSpace(ref.ID) == "" {
		return Receipt{}, fmt.Errorf("finrota: %s: %w: the reference needs an ERP code or an ID", verb, ErrInvalidArgument)
	}
	body, err := newDebtRequest(d)
	if err != nil {
		return Receipt{}, fmt.Errorf("finrota: %s: %w", verb, err)
	}
	body.UpdateErpCode, body.ID = ref.UpdateErpCode, ref.ID
	var rw receiptWire
	err = c.do(ctx, request{op: "update_debt", verb: verb, method: http.MethodPut, path: "/cat/cat", body: body}, &rw)
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{ErpCode: rw.ErpCode, CreatedAt: time.Time(rw.CreatedAt)}, nil
}

// List returns one page of debts; page starts at 1 and pageSize is at most
// MaxPageSize.
func (c *Client) List(ctx context.Context, page, pageSize int) (Page, error) {
	const verb = "list debts"
	if page < 1 || pageSize < 1 || pageSize > MaxPageSize {
		return Page{}, fmt.Errorf("finrota: %s: %w: page %d, pageSize %d (page ≥ 1, pageSize 1..%d)", verb, ErrInvalidArgument, page, pageSize, MaxPageSize)
	}
	q := url.Values{"page": {fmt.Sprint(page)}, "pageSize": {fmt.Sprint(pageSize)}}
	var pw pageWire
	if err := c.do(ctx, request{op: "list_debts", verb: verb, method: http.MethodGet, path: "/cat/cat/list", query: q, read: true}, &pw); err != nil {
		return Page{}, err
	}
	p := Page{Items: make([]Debt, 0, len(pw.Items)), Page: pw.Page, PageSize: pw.PageSize, TotalCount: pw.TotalCount}
	for _, w := range pw.Items {
		p.Items = append(p.Items, w.debt())
	}
	return p, nil
}

// GetByErpCode returns the debt whose current ERP code is code; the error
// satisfies IsNotFound when there is none.
func (c *Client) GetByErpCode(ctx context.Context, code string) (Debt, error) {
	return c.get(ctx, "ErpCode", code, func(d Debt) bool { return d.ErpCode == code })
}

// GetByID returns the debt with Finrota ID id; the error satisfies
// IsNotFound when there is none.
func (c *Client) GetByID(ctx context.Context, id string) (Debt, error) {
	return c.get(ctx, "Id", id, func(d Debt) bool { return strings.EqualFold(d.ID, id) })
}

// get looks one debt up. Finrota answers "no match" with an empty list, so
// the client checks the item itself rather than trust a non-empty page.
func (c *Client) get(ctx context.Context, param, value string, match func(Debt) bool) (Debt, error) {
	const verb = "get debt"
	if strings.TrimSpace(value) == "" {
		return Debt{}, fmt.Errorf("finrota: %s: %w: empty %s", verb, ErrInvalidArgument, param)
	}
	var pw pageWire
	q := url.Values{param: {value}}
	if err := c.do(ctx, request{op: "get_debt", verb: verb, method: http.MethodGet, path: "/cat/cat/list", query: q, read: true}, &pw); err != nil {
		return Debt{}, err
	}
	for _, w := range pw.Items {
		if d := w.debt(); match(d) {
			return d, nil
		}
	}
	return Debt{}, fmt.Errorf("finrota: %s: %s %q: %w", verb, param, value, ErrNotFound)
}

// SendOverdueNotifications asks Finrota to mail or text the owner of every
// debt its FAQ rule selects: PaidAmount ≤ Amount (fully paid ones too) and
// DueDate < now, with an active current account and owner. It is global and
// not idempotent: each call notifies everyone again.
func (c *Client) SendOverdueNotifications(ctx context.Context) error {
	return c.do(ctx, request{op: "send_overdue_notifications", verb: "send overdue notifications", method: http.MethodPost, path: "/cat/cat/SendCATDebtInfoMail"}, nil)
}

// request is one logical call.
type request struct {
	op     string // operation in the API call log
	verb   string // operation in error messages
	method string
	path   string
	query  url.Values
	body   any
	read   bool // reads are retried on 429; writes go back to the outbox
}

// do performs r with a valid token: once more with a renewed token after a
// 401, and for reads again after a 429 as Retry-After allows. Every attempt
// carries the same X-Request-ID.
func (c *Client) do(ctx context.Context, r request, out any) error {
	ctx = apicall.WithOperation(ctx, Provider, r.op)
	rid := apicall.RequestID(ctx)
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("finrota: %s: %w", r.verb, err)
		}
	}
	tok, err := c.token(ctx)
	if err != nil {
		return fmt.Errorf("finrota: %s: token: %w", r.verb, err)
	}
	renewed, retries := false, 0
	for {
		err := c.send(ctx, r, rid, tok, body, func(status int, h http.Header, b []byte) error {
			return parseResponse(status, h, b, out, c.now())
		})
		var e *Error
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &e):
		case e.Status == http.StatusUnauthorized && !renewed:
			renewed = true
			if tok, _, err = c.tokens.RenewToken(ctx, TokenKey, tok, TokenMargin, c.fetchToken); err != nil {
				return fmt.Errorf("finrota: %s: token: %w", r.verb, err)
			}
			continue
		case e.Status == http.StatusTooManyRequests && r.read && retries < c.maxReadRetries():
			wait := e.RetryAfter
			if wait <= 0 {
				wait = time.Second
			}
			if wait <= c.maxRetryWait() && c.wait(ctx, wait) == nil {
				retries++
				continue
			}
		}
		return fmt.Errorf("finrota: %s: %w", r.verb, err)
	}
}

// send makes one HTTP request and hands the response to decode, whose
// error code is noted for the call log before the body is closed.
func (c *Client) send(ctx context.Context, r request, rid, tok string, body []byte, decode func(int, http.Header, []byte) error) error {
	u := c.baseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rb)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", rid)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &transportError{err}
	}
	// The body is read in full below; a failed read is the error that
	// counts, and closing it only hands the connection back.
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &transportError{fmt.Errorf("reading response: %w", err)}
	}
	err = decode(resp.StatusCode, resp.Header, data)
	var e *Error
	if errors.As(err, &e) {
		e.RequestID = rid
		if e.Code != "" {
			apicall.SetErrorCode(ctx, e.Code)
		}
	}
	return err
}

// token returns a token valid for at least TokenMargin, renewing it through
// the shared store (which lets one instance renew while the others wait).
func (c *Client) token(ctx context.Context) (string, error) {
	v, exp, err := c.tokens.LoadToken(ctx, TokenKey)
	if err != nil {
		return "", err
	}
	if v != "" && c.now().UTC().Before(exp.Add(-TokenMargin)) {
		return v, nil
	}
	v, _, err = c.tokens.RenewToken(ctx, TokenKey, v, TokenMargin, c.fetchToken)
	return v, err
}

// fetchToken is tokens.Fetch. It is a logical call of its own, with its own
// request id, recorded as the "token" operation.
func (c *Client) fetchToken(ctx context.Context) (string, time.Time, error) {
	ctx = apicall.WithOperation(ctx, Provider, "token")
	body, err := json.Marshal(struct {
		APIKey    string `json:"apiKey"`
		SecretKey string `json:"secretKey"`
	}{c.creds.APIKey, c.creds.SecretKey})
	if err != nil {
		return "", time.Time{}, err
	}
	var tw tokenWire
	r := request{op: "token", verb: "token", method: http.MethodPost, path: "/auth/api/token/connect"}
	err = c.send(ctx, r, uuid.NewString(), "", body, func(status int, h http.Header, b []byte) error {
		return parseToken(status, h, b, &tw, c.now())
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return tw.Token, time.Time(tw.Expiry).UTC(), nil
}

// parseToken reads the token answer, which (unlike the CAT endpoints) is not
// wrapped in a result envelope; a wrapped one is accepted too.
func parseToken(status int, h http.Header, b []byte, tw *tokenWire, now time.Time) error {
	if err := parseResponse(status, h, b, nil, now); err != nil {
		return err
	}
	if err := json.Unmarshal(b, tw); err != nil || tw.Token == "" {
		var env struct {
			Result tokenWire `json:"result"`
		}
		if json.Unmarshal(b, &env) == nil && env.Result.Token != "" {
			*tw = env.Result
		}
	}
	if tw.Token == "" || time.Time(tw.Expiry).IsZero() {
		return &Error{Status: status, Code: CodeMalformed, Message: "malformed response: token or expiry missing"}
	}
	return nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if c.Wait != nil {
		return c.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) maxReadRetries() int {
	if c.MaxReadRetries == 0 {
		return 3
	}
	return c.MaxReadRetries
}

func (c *Client) maxRetryWait() time.Duration {
	if c.MaxRetryWait <= 0 {
		return 10 * time.Second
	}
	return c.MaxRetryWait
}
