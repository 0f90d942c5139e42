package garanti

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Token endpoint paths.
const (
	RegisterPath     = "/cards/service/registiration/v0" // sic: the bank's spelling
	ClientTokenPath  = "/auth/oauth/v2/token"
	GetTokenPath     = "/cards/service/gettoken/v0"
	RefreshTokenPath = "/cards/service/refreshtoken/v0"
)

// Token is an access token with what the bank said about it.
type Token struct {
	AccessToken  string
	RefreshToken string
	// Expiry is when the access token stops working, zero when unknown.
	Expiry time.Time
	Scope  string
}

// Expired reports whether the token is past its expiry (with margin to
// spare) at now. A token of unknown expiry is used until the bank says 401.
func (t Token) Expired(now time.Time, margin time.Duration) bool {
	return !t.Expiry.IsZero() && !now.Add(margin).Before(t.Expiry)
}

// tokenResponse is the token endpoints' answer; expires_in arrives as a
// number from some gateways and as a string from others.
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	Scope        string          `json:"scope"`
}

func (c *Client) token(tr tokenResponse) Token {
	t := Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Scope: tr.Scope}
	if secs, ok := expiresIn(tr.ExpiresIn); ok {
		t.Expiry = c.now().Add(time.Duration(secs) * time.Second)
	} else if c.DefaultTokenLifetime > 0 {
		t.Expiry = c.now().Add(c.DefaultTokenLifetime)
	}
	return t
}

// expiresIn reads expires_in as a number or a numeric string of seconds.
func expiresIn(raw json.RawMessage) (int64, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || f > 10*365*24*3600 {
		return 0, false
	}
	return int64(f), true
}

// Register performs the one-time dynamic registration and returns the
// client id and secret to keep (encrypted). It needs no credentials.
func (c *Client) Register(ctx context.Context, redirectURIs []string, companyName string) (clientID, clientSecret string, err error) {
	var out struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	body := jsonBody(struct {
		RedirectURIs []string `json:"redirect_uris"`
		CompanyName  string   `json:"company_name"`
	}{redirectURIs, companyName})
	err = c.do(ctx, request{op: "register", method: http.MethodPost, path: RegisterPath, body: body, contentType: "application/json",
		check: func() string {
			if out.ClientID == "" || out.ClientSecret == "" {
				return "registration response lacks client_id or client_secret"
			}
			return ""
		}}, &out)
	if err != nil {
		return "", "", wrap("register", err)
	}
	return out.ClientID, out.ClientSecret, nil
}

// ClientToken fetches a client-credentials token. The bank's tokens of this
// kind are single-use, so callers fetch one per call and never cache it.
func (c *Client) ClientToken(ctx context.Context) (Token, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.app.ClientID},
		"client_secret": {c.app.ClientSecret},
		"redirect_uri":  {c.app.RedirectURI},
	}
	t, err := c.tokenCall(ctx, request{op: "client_token", method: http.MethodPost, path: ClientTokenPath,
		body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded"})
	return t, wrap("client token", err)
}

// ExchangeCode trades the authorization code from the redirect for an
// access and refresh token. codeVerifier is the PKCE verifier whose
// challenge went into the scaOAuth link ("" when none was sent).
func (c *Client) ExchangeCode(ctx context.Context, code, codeVerifier string) (Token, error) {
	body := jsonBody(struct {
		GrantType    string `json:"grant_type"`
		Code         string `json:"code"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		RedirectURI  string `json:"redirect_uri"`
		CodeVerifier string `json:"code_verifier,omitempty"`
	}{"authorization_code", code, c.app.ClientID, c.app.ClientSecret, c.app.RedirectURI, codeVerifier})
	t, err := c.tokenCall(ctx, request{op: "exchange_code", method: http.MethodPost, path: GetTokenPath, body: body, contentType: "application/json"})
	return t, wrap("exchange code", err)
}

// Refresh trades a refresh token for a new pair. The bank may rotate the
// refresh token: store the returned one. When the answer carries none, the
// old one stays valid and is returned.
//
// The token goes under two names: refresh_token (OAuth's) and code (the
// seed's sample; its table calls the field "Token"), so whichever the bank
// reads, it finds the token.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	body := jsonBody(struct {
		GrantType    string `json:"grant_type"`
		RefreshToken string `json:"refresh_token"`
		Code         string `json:"code"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}{"refresh_token", refreshToken, refreshToken, c.app.ClientID, c.app.ClientSecret})
	t, err := c.tokenCall(ctx, request{op: "refresh_token", method: http.MethodPost, path: RefreshTokenPath, body: body, contentType: "application/json"})
	if err != nil {
		return Token{}, wrap("refresh token", err)
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, nil
}

func (c *Client) tokenCall(ctx context.Context, r request) (Token, error) {
	var tr tokenResponse
	r.check = func() string {
		if tr.AccessToken == "" {
			return "token response has no access_token"
		}
		return ""
	}
	if err := c.do(ctx, r, &tr); err != nil {
		return Token{}, err
	}
	return c.token(tr), nil
}
