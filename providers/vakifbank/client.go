// Package vakifbank is the client of VakıfBank's account movements API
// ("Hesap Hareketleri", CONTRACTS.md section 3): B2B-credentials tokens shared
// through a tokens.Store, one-year windows of movements, and tolerant parsing
// of the envelopes the bank has been seen to send.
package vakifbank

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kasa/providers/apicall"
	"kasa/providers/tokens"
)

const provider = "vakifbank"

// tokenMargin is how long before its expiry a token is renewed, so that a
// token never expires between being read and reaching the bank.
const tokenMargin = 5 * time.Minute

// defaultTokenLife is assumed when the token answer omits expires_in; a
// shorter real life is still handled by renewing on 401.
const defaultTokenLife = 10 * time.Minute

// maxBody bounds what is read from one answer: a year of a busy account is
// a few megabytes, so anything near this is not an answer of this API.
const maxBody = 64 << 20

// Credentials are the B2B credentials of one corporate consent.
type Credentials struct {
	ClientID     string
	ClientSecret string
	ConsentID    string
	Resource     string // "sandbox" or "production"
}

// Client calls the account movements API. It is safe for concurrent use.
type Client struct {
	baseURL string
	hc      *http.Client
	creds   Credentials
	tokens  tokens.Store

	// Now is the clock used for token expiry; time.Now when nil. Set it
	// before the first call.
	Now func() time.Time
}

// New returns a client for the gateway at baseURL. hc should carry an
// apicall.Transport so that every call is recorded; tokens are kept in ts
// under "vakifbank:"+creds.ConsentID.
func New(baseURL string, hc *http.Client, creds Credentials, ts tokens.Store) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), hc: hc, creds: creds, tokens: ts}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// TokenKey is the tokens.Store key of the client's access token.
func (c *Client) TokenKey() string { return "vakifbank:" + c.creds.ConsentID }

// accessToken returns a token valid beyond the margin. rejected is a token
// the bank has just refused with 401; it is renewed even if it looks valid.
func (c *Client) accessToken(ctx context.Context, rejected string) (string, error) {
	stale := rejected
	if rejected == "" {
		v, exp, err := c.tokens.LoadToken(ctx, c.TokenKey())
		if err != nil {
			return "", fmt.Errorf("load token: %w", err)
		}
		if v != "" && c.now().UTC().Before(exp.UTC().Add(-tokenMargin)) {
			return v, nil
		}
		stale = v
	}
	v, _, err := c.tokens.RenewToken(ctx, c.TokenKey(), stale, tokenMargin, c.fetchToken)
	return v, err
}

type tokenAnswer struct {
	AccessToken      string     `json:"access_token"`
	TokenType        string     `json:"token_type"`
	ExpiresIn        flexString `json:"expires_in"`
	Scope            string     `json:"scope"`
	Error            string     `json:"error"`
	ErrorDescription string     `json:"error_description"`
}

// fetchToken asks the gateway for a new token with the B2B credentials.
func (c *Client) fetchToken(ctx context.Context) (string, time.Time, error) {
	ctx = apicall.WithOperation(ctx, provider, "token")
	form := url.Values{
		"grant_type":    {"b2b_credentials"},
		"client_id":     {c.creds.ClientID},
		"client_secret": {c.creds.ClientSecret},
		"scope":         {"account"},
		"consentId":     {c.creds.ConsentID},
		"resource":      {c.creds.Resource},
	}
	id := apicall.RequestID(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/auth/oauth/v2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Request-ID", id)
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: %w", err)
	}
	// The body is read in full below; a failed read is the error that
	// counts, and closing it only hands the connection back.
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: %w", err)
	}
	var ta tokenAnswer
	jsonErr := json.Unmarshal(body, &ta)
	if ta.Error != "" {
		apicall.SetErrorCode(ctx, ta.Error)
	}
	ok := resp.StatusCode == http.StatusOK
	if !ok || jsonErr != nil || ta.AccessToken == "" {
		e := &Error{Status: resp.StatusCode, Code: ta.Error, Message: ta.ErrorDescription, RequestID: id}
		if ok {
			e.Malformed, e.Message = true, "no access_token in the answer"
		} else if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return "", time.Time{}, fmt.Errorf("token: %w", e)
	}
	life := defaultTokenLife
	if ta.ExpiresIn != "" {
		secs, err := strconv.ParseFloat(string(ta.ExpiresIn), 64)
		if err != nil || secs < 0 {
			return "", time.Time{}, fmt.Errorf("token: %w", &Error{Status: resp.StatusCode, Malformed: true,
				Message: "expires_in is not a number of seconds", RequestID: id})
		}
		life = time.Duration(secs * float64(time.Second))
	}
	return ta.AccessToken, c.now().UTC().Add(life), nil
}
