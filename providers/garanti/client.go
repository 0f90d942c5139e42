// Package garanti is the client of the Garanti BBVA API Store: dynamic
// registration, the client-credentials and authorization-code tokens, the
// consent API with its SCA redirect, and the HGS (motorway toll tag)
// transaction list. The contract and the decisions taken where the bank's
// documentation is silent are in CONTRACTS.md, section 2.
//
// Every call names its operation for the call log (apicall.WithOperation),
// carries X-Request-ID, and turns any non-2xx or unreadable answer into a
// *Error carrying the bank's E-code. Secrets and tokens never appear in
// errors.
package garanti

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"kasa/providers/apicall"
)

// Provider is the provider name in the call log.
const Provider = "garanti"

// AppCredentials identify the installation at the bank. ClientID and
// ClientSecret come from dynamic registration (Register); ClientIDPortal from
// the API Store's Dashboard/Applications page; TPPID defaults to ClientID,
// which is what the bank's documentation says it is.
type AppCredentials struct {
	ClientID       string
	ClientSecret   string
	ClientIDPortal string
	TPPID          string
	TPPName        string
	RedirectURI    string // one of the registered redirect URIs, matched exactly
}

// Client talks to one Garanti BBVA API Store deployment. It is safe for
// concurrent use; it keeps no tokens of its own.
type Client struct {
	baseURL string
	hc      *http.Client
	app     AppCredentials

	// Now is the clock used to compute token expiry; time.Now when nil.
	Now func() time.Time
	// DefaultTokenLifetime is assumed when a token response carries no
	// usable expires_in. Zero leaves Token.Expiry zero (unknown).
	DefaultTokenLifetime time.Duration
}

// New returns a client for baseURL (for example
// https://apis.garantibbva.com.tr:443). hc should use apicall.Transport so
// calls are recorded; http.DefaultClient is used when nil. The zero
// AppCredentials are enough for Register.
func New(baseURL string, hc *http.Client, app AppCredentials) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	if app.TPPID == "" {
		app.TPPID = app.ClientID
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), hc: hc, app: app, DefaultTokenLifetime: 30 * time.Minute}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// maxBody bounds how much of a response the client reads; HGS histories
// for a year of a busy truck stay well below it.
const maxBody = 16 << 20

// request is one HTTP exchange of a logical call.
type request struct {
	op          string // operation name for the call log
	method      string
	path        string
	header      http.Header
	body        []byte
	contentType string
	// check inspects the decoded answer and names what is missing, so an
	// incomplete answer is a CodeMalformed *Error recorded as such.
	check func() string
	// location, when set, receives the response's Location header.
	location *string
}

// jsonBody marshals v for a request body.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("garanti: marshal request: " + err.Error()) // only our own structs are marshalled
	}
	return b
}

// consentHeaders are the headers of every consent and HGS call.
func (c *Client) consentHeaders(consentID, accessToken string) http.Header {
	h := http.Header{}
	h.Set("Client-ID", c.app.ClientID)
	h.Set("Client-Secret", c.app.ClientSecret)
	h.Set("Client-ID-Portal", c.app.ClientIDPortal)
	if consentID != "" {
		h.Set("Consent-ID", consentID)
	}
	if accessToken != "" {
		h.Set("Authorization", "Bearer "+accessToken)
	}
	return h
}

// do performs r and decodes a 2xx JSON answer into out (when not nil).
// Anything else becomes a *Error, whose code is reported to the call log
// before the body is closed.
func (c *Client) do(ctx context.Context, r request, out any) error {
	ctx = apicall.WithOperation(ctx, Provider, r.op)
	reqID := apicall.RequestID(ctx)
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.baseURL+r.path, body)
	if err != nil {
		return err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("X-Request-ID", reqID)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	if r.location != nil {
		*r.location = resp.Header.Get("Location")
	}
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	var e *Error
	switch {
	case readErr != nil:
		e = &Error{Status: resp.StatusCode, Code: CodeMalformed, Info: "response body could not be read", RequestID: reqID}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		e = parseError(resp.StatusCode, resp.Header, raw, reqID)
	default:
		e = decodeSuccess(resp.StatusCode, raw, reqID, out)
		if e == nil && r.check != nil {
			if why := r.check(); why != "" {
				e = &Error{Status: resp.StatusCode, Code: CodeMalformed, Info: why, RequestID: reqID}
			}
		}
	}
	if e != nil {
		apicall.SetErrorCode(ctx, e.Code)
	}
	_ = resp.Body.Close() // read in full above; closing only hands the connection back
	if e != nil {
		return e
	}
	return nil
}

// decodeSuccess reads a 2xx body. A 2xx that carries the bank's error
// envelope is an error all the same.
func decodeSuccess(status int, raw []byte, reqID string, out any) *Error {
	if bytes.Contains(raw, []byte(`"apiError"`)) {
		if e := parseError(status, nil, raw, reqID); e.Code != CodeMalformed && e.Code != "" {
			return e
		}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &Error{Status: status, Code: CodeMalformed, Info: "response is not the expected JSON", RequestID: reqID}
	}
	return nil
}

// wrap names the operation in an error ("garanti: create consent: ..."),
// leaving nil alone.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("garanti: %s: %w", op, err)
}
