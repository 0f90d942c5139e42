// Package finrotatest is an in-memory fake of Finrota's CAT API that enforces
// every rule of CONTRACTS.md section 1 with the real error shapes. The
// client's tests, the end-to-end tests and sandbox mode run against it.
//
// It shares no types with package finrota on purpose: its wire structs are
// written from the contract, so a misspelt JSON field cannot pass both sides.
package finrotatest

import (
	crand "crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"kasa/providers/faults"
)

const (
	// SandboxAPIKey is the API key the fake accepts unless Options says
	// otherwise.
	SandboxAPIKey = "sandbox-finrota-api-key"
	// SandboxSecretKey is the secret key the fake accepts unless Options
	// says otherwise.
	SandboxSecretKey = "sandbox-finrota-secret-key"
)

// Options configure a Server; the zero value is a usable sandbox with no data.
type Options struct {
	APIKey    string // SandboxAPIKey when empty
	SecretKey string // SandboxSecretKey when empty
	// TokenLifetime is how long issued tokens stay valid (24h when 0).
	TokenLifetime time.Duration
	// RequestsPerMinute limits API requests in any 60-second window; 0 is
	// unlimited, as in the portal's settings.
	RequestsPerMinute int
	// Now is the fake's clock (time.Now when nil).
	Now func() time.Time
	// Seed loads the deterministic sample agents, current accounts and debts.
	Seed bool
	// Rand seeds the generator of the sample data (and its ids). Ids of
	// records created later and tokens are random whatever Rand is, so a
	// restarted fake never issues them again.
	Rand int64
}

// Server is the fake Finrota. It is an http.Handler safe for concurrent use.
type Server struct {
	// Faults injects failures into API requests (not into the /_fake pages).
	Faults faults.Faults

	opts    Options
	handler http.Handler

	mu            sync.Mutex
	rng           *rand.Rand
	tokens        map[string]time.Time // token → expiry
	hits          []time.Time          // accepted API requests in the last minute
	agents        map[string]*Agent
	agentOrder    []string
	accounts      map[string]*CurrentAccount
	accountOrder  []string
	currencies    map[string]bool
	debts         []*Debt
	used          map[string]string // every ERP code ever held → the debt's id
	notifications []Notification
}

// New returns a fake Finrota configured by opts.
func New(opts Options) *Server {
	if opts.APIKey == "" {
		opts.APIKey = SandboxAPIKey
	}
	if opts.SecretKey == "" {
		opts.SecretKey = SandboxSecretKey
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 24 * time.Hour
	}
	s := &Server{
		opts:       opts,
		rng:        rand.New(rand.NewPCG(uint64(opts.Rand), 0x46696e726f7461)),
		tokens:     map[string]time.Time{},
		agents:     map[string]*Agent{},
		accounts:   map[string]*CurrentAccount{},
		currencies: map[string]bool{"TRY": true, "USD": true, "EUR": true},
		used:       map[string]string{},
	}
	if opts.Seed {
		s.seed()
	}

	api := http.NewServeMux()
	api.HandleFunc("POST /auth/api/token/connect", s.handleToken)
	api.Handle("POST /cat/cat", s.authorized(s.handleCreate))
	api.Handle("PUT /cat/cat", s.authorized(s.handleUpdate))
	api.Handle("GET /cat/cat/list", s.authorized(s.handleList))
	api.Handle("POST /cat/cat/SendCATDebtInfoMail", s.authorized(s.handleNotify))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeGateway(w, http.StatusNotFound, "No route matches "+r.Method+" "+r.URL.Path+".")
	})

	root := http.NewServeMux()
	root.HandleFunc("GET /_fake/notifications", s.handleNotificationsPage)
	root.Handle("/_fake/faults", s.Faults.ControlPage(faults.Page{Title: "Finrota", Answers: faultAnswers()}))
	root.Handle("/", s.Faults.Middleware(s.limited(api)))
	s.handler = root
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// limited enforces RequestsPerMinute over a sliding window, answering 429
// with the seconds until the oldest counted request leaves the window.
func (s *Server) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := s.admit(); !ok {
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeGateway(w, http.StatusTooManyRequests, "API calls quota exceeded! maximum admitted "+strconv.Itoa(s.opts.RequestsPerMinute)+" per 1m.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) admit() (time.Duration, bool) {
	limit := s.opts.RequestsPerMinute
	if limit <= 0 {
		return 0, true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := s.hits[:0]
	for _, t := range s.hits {
		if now.Sub(t) < time.Minute {
			keep = append(keep, t)
		}
	}
	s.hits = keep
	if len(s.hits) >= limit {
		return s.hits[0].Add(time.Minute).Sub(now), false
	}
	s.hits = append(s.hits, now)
	return 0, true
}

// tokenRequest is the body of POST /auth/api/token/connect.
type tokenRequest struct {
	APIKey    string `json:"apiKey"`
	SecretKey string `json:"secretKey"`
}

// tokenResponse is its answer: not wrapped in the result envelope.
type tokenResponse struct {
	Token  string `json:"token"`
	Expiry string `json:"expiry"`
	Type   string `json:"type"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if !jsonContent(w, r) {
		return
	}
	var req tokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeStatus(w, http.StatusBadRequest, "Request body is not valid JSON.")
		return
	}
	if req.APIKey == "" || req.SecretKey == "" {
		writeValidation(w, missingKeys(req))
		return
	}
	keyOK := subtle.ConstantTimeCompare([]byte(req.APIKey), []byte(s.opts.APIKey)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(req.SecretKey), []byte(s.opts.SecretKey)) == 1
	if !keyOK || !secretOK {
		writeStatus(w, http.StatusUnauthorized, "Invalid apiKey or secretKey.")
		return
	}
	now := s.now()
	s.mu.Lock()
	for t, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, t)
		}
	}
	exp := now.Add(s.opts.TokenLifetime)
	tok := s.newTokenLocked(now, exp)
	s.tokens[tok] = exp
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, tokenResponse{Token: tok, Expiry: exp.UTC().Format(time.RFC3339Nano), Type: "Bearer"})
}

func missingKeys(req tokenRequest) map[string][]string {
	f := map[string][]string{}
	if req.APIKey == "" {
		f["apiKey"] = []string{"The apiKey field is required."}
	}
	if req.SecretKey == "" {
		f["secretKey"] = []string{"The secretKey field is required."}
	}
	return f
}

// newTokenLocked makes a JWT-shaped token, so that clients treating it as
// opaque (as they must) are tested with something of the real length.
func (s *Server) newTokenLocked(now, exp time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	jti := make([]byte, 8)
	crand.Read(jti)
	body := enc.EncodeToString(fmt.Appendf(nil, `{"scope":["catv1.api"],"role":"service","jti":"%x","nbf":%d,"exp":%d,"iat":%d,"iss":"sso.api","aud":"ecozum.sso"}`,
		jti, now.Unix(), exp.Unix(), now.Unix()))
	sig := make([]byte, 32)
	crand.Read(sig)
	return head + "." + body + "." + enc.EncodeToString(sig)
}

// authorized lets through requests bearing a token the fake issued and
// that has not expired.
func (s *Server) authorized(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			writeGateway(w, http.StatusUnauthorized, "Authorization header is missing or is not 'Bearer <token>'.")
			return
		}
		s.mu.Lock()
		exp, known := s.tokens[tok]
		s.mu.Unlock()
		switch {
		case !known:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeGateway(w, http.StatusUnauthorized, "The token is not valid for this environment.")
		case !s.now().Before(exp):
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The token expired"`)
			writeGateway(w, http.StatusUnauthorized, "The token has expired.")
		default:
			next(w, r)
		}
	})
}

// jsonContent refuses bodies not declared as JSON with 415, as ASP.NET's
// [FromBody] binding does.
func jsonContent(w http.ResponseWriter, r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if strings.EqualFold(strings.TrimSpace(ct), "application/json") {
		return true
	}
	writeGateway(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json.")
	return false
}

// statusEnvelope is Finrota's application error shape, with field errors
// in the ASP.NET validation style.
type statusEnvelope struct {
	Status      string              `json:"status"`
	Message     string              `json:"message"`
	MessageCode string              `json:"messageCode"`
	Errors      map[string][]string `json:"errors,omitempty"`
}

// gatewayEnvelope is the shape of the gateway's own errors (auth,
// throttling, routing) and of conflicts.
type gatewayEnvelope struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
}

// successEnvelope wraps every successful CAT answer.
type successEnvelope struct {
	Result  any    `json:"result,omitempty"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func writeStatus(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, statusEnvelope{Status: "error", Message: msg, MessageCode: strconv.Itoa(status)})
}

func writeValidation(w http.ResponseWriter, fields map[string][]string) {
	writeJSON(w, http.StatusBadRequest, statusEnvelope{Status: "error", Message: "One or more validation errors occurred.", MessageCode: "400", Errors: fields})
}

func writeGateway(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, gatewayEnvelope{StatusCode: status, Error: http.StatusText(status), Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client hung up first: a fake has no one to tell
}
