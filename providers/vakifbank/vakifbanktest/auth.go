package vakifbanktest

import (
	"crypto/rand"
	"encoding/hex"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// serveToken is the B2B credentials grant. Errors follow RFC 6749 5.2, as
// the bank's OAuth gateway does: 401 invalid_client for wrong client
// credentials, 400 for everything else about the request.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, desc string) {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, status, oauthError{Error: code, ErrorDescription: desc})
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		fail(http.StatusBadRequest, "invalid_request", "The request must be application/x-www-form-urlencoded.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	f := r.PostForm
	switch gt := f.Get("grant_type"); {
	case gt == "":
		fail(http.StatusBadRequest, "invalid_request", "Missing or duplicate parameters: grant_type.")
		return
	case gt != "b2b_credentials":
		fail(http.StatusBadRequest, "unsupported_grant_type", "The grant type "+gt+" is not supported.")
		return
	}
	if f.Get("client_id") != s.opts.ClientID || f.Get("client_secret") != s.opts.ClientSecret {
		fail(http.StatusUnauthorized, "invalid_client", "The given client credentials were not valid.")
		return
	}
	if f.Get("scope") != "account" {
		fail(http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown or malformed.")
		return
	}
	consent := f.Get("consentId")
	if consent == "" {
		fail(http.StatusBadRequest, "invalid_request", "Missing or duplicate parameters: consentId.")
		return
	}
	s.mu.RLock()
	_, known := s.consents[consent]
	s.mu.RUnlock()
	if !known {
		fail(http.StatusBadRequest, "invalid_grant", "The consent is unknown, revoked or not granted to this client.")
		return
	}
	switch res := f.Get("resource"); {
	case res != "sandbox" && res != "production":
		fail(http.StatusBadRequest, "invalid_request", "resource must be sandbox or production.")
		return
	case res != s.opts.Resource:
		fail(http.StatusBadRequest, "invalid_request", "This gateway serves the "+s.opts.Resource+" resource.")
		return
	}

	token := newToken()
	now := s.now()
	s.mu.Lock()
	for t, is := range s.tokens { // keep the map small in a long sandbox session
		if !now.Before(is.expiry) {
			delete(s.tokens, t)
		}
	}
	s.tokens[token] = issued{consent: consent, expiry: now.Add(s.opts.TokenLifetime)}
	q := s.quirks
	s.mu.Unlock()

	secs := int64(s.opts.TokenLifetime / 1e9)
	var expiresIn any = secs
	if q.ExpiresInString {
		expiresIn = strconv.FormatInt(secs, 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenAnswer{AccessToken: token, TokenType: "Bearer", ExpiresIn: expiresIn, Scope: "account"})
}

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// authorize checks the bearer token and returns the customer it acts for;
// on failure it has answered 401 as an RFC 6750 resource server does.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (customer string, ok bool) {
	deny := func(code, desc string) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="apigw", error="`+code+`"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{Error: code, ErrorDescription: desc})
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		deny("invalid_request", "The request requires a Bearer access token.")
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	is, found := s.tokens[strings.TrimSpace(token)]
	switch {
	case !found:
		deny("invalid_token", "The access token is invalid.")
		return "", false
	case !s.now().Before(is.expiry):
		deny("invalid_token", "The access token has expired.")
		return "", false
	}
	customer, ok = s.consents[is.consent]
	if !ok {
		deny("invalid_token", "The consent behind the access token is no longer valid.")
	}
	return customer, ok
}
