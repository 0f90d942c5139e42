package garantitest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Registration is one dynamic registration the fake has accepted.
type Registration struct {
	ClientID     string
	ClientSecret string
	CompanyName  string
	RedirectURIs []string
}

type registration = Registration

type ccToken struct {
	clientID string
	expires  time.Time
	used     bool
}

// ccRefresh is the refresh token of a client-credentials answer: it buys
// one more single-use client-credentials token (and is then spent).
type ccRefresh struct {
	clientID string
	expires  time.Time
}

type authCode struct {
	clientID, redirectURI, consentID, customerNo string
	challenge                                    string // S256 code_challenge, "" when none was sent
	expires                                      time.Time
	used                                         bool
}

type accessToken struct {
	clientID, consentID, customerNo string
	expires                         time.Time
}

type refreshToken struct {
	clientID, consentID, customerNo string
	expires                         time.Time
}

type registrationBody struct {
	RedirectURIs []string `json:"redirect_uris"`
	CompanyName  string   `json:"company_name"`
}

type registrationResult struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type tokenResult struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    any    `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var b registrationBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: body is not JSON")
		return
	}
	b.CompanyName = strings.TrimSpace(b.CompanyName)
	if b.CompanyName == "" || chars(b.CompanyName) > maxTPPNameLen {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: company_name is mandatory")
		return
	}
	if len(b.RedirectURIs) == 0 {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: redirect_uris is mandatory")
		return
	}
	for _, u := range b.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || !p.IsAbs() || p.Host == "" || p.Fragment != "" || (p.Scheme != "https" && p.Scheme != "http") {
			writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: redirect_uris must be absolute http(s) URLs")
			return
		}
	}
	reg := &registration{ClientID: randomToken(10), ClientSecret: randomToken(16), CompanyName: b.CompanyName,
		RedirectURIs: append([]string(nil), b.RedirectURIs...)}
	s.mu.Lock()
	s.regs[reg.ClientID] = reg
	s.regOrder = append(s.regOrder, reg.ClientID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, registrationResult{ClientID: reg.ClientID, ClientSecret: reg.ClientSecret})
}

// clientAuth finds the registration for the id and secret, or nil. Callers
// hold s.mu.
func (s *Server) clientAuth(id, secret string) *registration {
	reg := s.regs[id]
	if reg == nil || subtle.ConstantTimeCompare([]byte(reg.ClientSecret), []byte(secret)) != 1 {
		return nil
	}
	return reg
}

// tokenParams reads a token request as JSON or as a form: the seed's page
// says JSON while its sample is form-encoded, so the fake takes both.
func tokenParams(r *http.Request) (url.Values, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, false
		}
		v := url.Values{}
		for k, val := range m {
			if str, ok := val.(string); ok {
				v.Set(k, str)
			}
		}
		return v, true
	}
	if err := r.ParseForm(); err != nil {
		return nil, false
	}
	return r.PostForm, true
}

func (s *Server) handleClientToken(w http.ResponseWriter, r *http.Request) {
	v, ok := tokenParams(r)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unreadable body")
		return
	}
	if v.Get("grant_type") != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := s.clientAuth(v.Get("client_id"), v.Get("client_secret"))
	if reg == nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if !contains(reg.RedirectURIs, v.Get("redirect_uri")) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is not registered")
		return
	}
	s.issueClientToken(w, reg.ClientID)
}

// issueClientToken answers with a new single-use client-credentials token
// and, as the seed's response table lists, a refresh token. Callers hold
// s.mu.
func (s *Server) issueClientToken(w http.ResponseWriter, clientID string) {
	tok, rt := randomToken(20), randomToken(20)
	now := s.now()
	s.ccTokens[tok] = &ccToken{clientID: clientID, expires: now.Add(s.opts.AccessTokenLifetime)}
	s.ccRefresh[rt] = &ccRefresh{clientID: clientID, expires: now.Add(s.opts.RefreshTokenLifetime)}
	writeJSON(w, http.StatusOK, tokenResult{AccessToken: tok, RefreshToken: rt, TokenType: "Bearer",
		ExpiresIn: int(s.opts.AccessTokenLifetime / time.Second), Scope: "oob"})
}

// useClientToken spends a client-credentials token: each one is good for one
// API call. Callers hold s.mu.
func (s *Server) useClientToken(r *http.Request, clientID string) string {
	tok, ok := bearer(r)
	if !ok {
		return "Authorization header with a Bearer token is mandatory"
	}
	t := s.ccTokens[tok]
	switch {
	case t == nil:
		return "invalid access token"
	case t.used:
		return "access token has already been used"
	case !s.now().Before(t.expires):
		return "access token has expired"
	case t.clientID != clientID:
		return "access token was not issued to this client"
	}
	t.used = true
	return ""
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

func (s *Server) handleGetToken(w http.ResponseWriter, r *http.Request) {
	v, ok := tokenParams(r)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unreadable body")
		return
	}
	if v.Get("grant_type") != "authorization_code" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := s.clientAuth(v.Get("client_id"), v.Get("client_secret"))
	if reg == nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if v.Get("code") == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "code is mandatory")
		return
	}
	code := s.codes[v.Get("code")]
	if code == nil || code.clientID != reg.ClientID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authorization code is invalid")
		return
	}
	if code.used {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authorization code has already been used")
		return
	}
	// Any attempt spends the code, so a wrong verifier cannot be retried
	// until one matches.
	code.used = true
	now := s.now()
	switch {
	case !now.Before(code.expires):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authorization code has expired")
		return
	case v.Get("redirect_uri") != code.redirectURI:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		return
	case code.challenge != "" && !pkceMatches(code.challenge, v.Get("code_verifier")):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	c := s.consents[code.consentID]
	if c == nil || c.effectiveStatus(now) != "Y" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "the consent is no longer awaiting activation")
		return
	}
	c.status = "K"
	s.issuePair(w, reg.ClientID, c, code.customerNo, now)
}

// issuePair answers with a new access and refresh token for the consent.
// expires_in is a string here, as some of the bank's gateways send it.
func (s *Server) issuePair(w http.ResponseWriter, clientID string, c *consent, customerNo string, now time.Time) {
	at, rt := randomToken(20), randomToken(20)
	s.access[at] = &accessToken{clientID: clientID, consentID: c.id, customerNo: customerNo, expires: now.Add(s.opts.AccessTokenLifetime)}
	rexp := now.Add(s.opts.RefreshTokenLifetime)
	if end := c.validationDate.AddDate(0, 0, 1); end.Before(rexp) {
		rexp = end
	}
	s.refresh[rt] = &refreshToken{clientID: clientID, consentID: c.id, customerNo: customerNo, expires: rexp}
	writeJSON(w, http.StatusOK, tokenResult{AccessToken: at, RefreshToken: rt, TokenType: "Bearer",
		ExpiresIn: strconv.Itoa(int(s.opts.AccessTokenLifetime / time.Second)), Scope: "consents hgs"})
}

func pkceMatches(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (s *Server) handleRefreshToken(w http.ResponseWriter, r *http.Request) {
	v, ok := tokenParams(r)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unreadable body")
		return
	}
	if v.Get("grant_type") != "refresh_token" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be refresh_token")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := s.clientAuth(v.Get("client_id"), v.Get("client_secret"))
	if reg == nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	// The seed's sample sends the refresh token as "code"; its table calls
	// it "Token". refresh_token is the OAuth name and comes first.
	val := v.Get("refresh_token")
	if val == "" {
		val = v.Get("code")
	}
	if val == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the refresh token is mandatory (as refresh_token or code)")
		return
	}
	now := s.now()
	if cr := s.ccRefresh[val]; cr != nil {
		// A client-credentials refresh token: spent once, it buys another
		// single-use client-credentials token.
		delete(s.ccRefresh, val)
		if cr.clientID != reg.ClientID || !now.Before(cr.expires) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "refresh token is invalid or expired")
			return
		}
		s.issueClientToken(w, reg.ClientID)
		return
	}
	rt := s.refresh[val]
	if rt == nil || rt.clientID != reg.ClientID || !now.Before(rt.expires) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "refresh token is invalid or expired")
		return
	}
	c := s.consents[rt.consentID]
	if st := c.effectiveStatus(now); st != "K" && st != "A" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "the consent is not active")
		return
	}
	// Rotation: the old refresh token stops working once used.
	delete(s.refresh, val)
	s.issuePair(w, reg.ClientID, c, rt.customerNo, now)
}
