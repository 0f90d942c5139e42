// Package garantitest is an in-memory stand-in for the Garanti BBVA API
// Store: dynamic registration, the client-credentials and authorization-code
// token endpoints, the consent API, the HGS transaction list, and the bank's
// own login and consent approval pages that the SCA redirect leads to.
//
// It enforces the rules of the bank's documentation with the bank's error
// shapes and E-codes (see rules.go), so that a client which passes its tests
// has a fair chance against the real bank. It deliberately shares no Go types
// with package garanti: its wire structs are written from CONTRACTS.md, so a
// misspelt JSON field fails a test instead of passing on both sides.
//
// Sandbox credentials for the login page are SandboxCustomerNo,
// SandboxPassword and SandboxOTP (every seeded customer uses the same
// password and one-time code).
//
// Decisions where the seed is silent (the client follows the same ones):
//   - state, code_challenge and code_challenge_method=S256 arrive as query
//     parameters of the scaOAuth link (GET AuthorizePath); the code is bound
//     to the challenge and gettoken requires the matching code_verifier.
//   - Token endpoints answer RFC 6749 errors ({"error":"invalid_grant"});
//     the consent and HGS services answer the apiError envelope. 401s carry
//     no apiResponseCode: the catalogue has none for credentials.
//   - Dates (validationDate, tranBeginDate, tranEndDate, startInstanceId,
//     stopInstanceId) are ISODate 2006-01-02, Istanbul calendar days, both
//     ends inclusive. Timestamps (entranceTs, departureTs, creationEndTime)
//     are ISO 8601 with the +03:00 offset.
//   - debitCreditInd: B borç (debit: a passage), A alacak (credit: a top-up).
//     sortOption: "" or A ascending, D descending.
//   - Statuses: B awaiting, Y approved, K code exchanged, A active (after the
//     product list call), R declined, I deleted, S ended (validationDate
//     passed, or not activated within ConsentCreationWindow).
//   - frequencyPerDay counts read and txnlist calls per consent per Istanbul
//     day; beyond it: 429 with Retry-After until midnight.
//
// E-codes enforced: E001, E004–E007, E010–E017, E020, E022–E029, E031–E033,
// E040–E057 (E045 on the login page); E058–E061, the bank's back-end
// failures, on demand through FailNextTxnList. Not applicable to what the
// fake serves: E003, E008, E009.
package garantitest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"kasa/providers/faults"
	"kasa/tz"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Now is the fake's clock; time.Now when nil. Tests move it forward to
	// expire codes, tokens and consents without sleeping.
	Now func() time.Time
	// PublicURL is the external base URL used in the scaOAuth link. When
	// empty it is derived from each create-consent request (scheme + Host).
	PublicURL string
	// MaxValidationDays is the bank-set limit on how far ahead a consent's
	// validationDate may be (E044); 180 when zero.
	MaxValidationDays int
	// MaxFrequencyPerDay is the largest frequencyPerDay accepted (E020); 99
	// (the field's two characters) when zero.
	MaxFrequencyPerDay int
	// AccessTokenLifetime is how long access tokens (client-credentials and
	// authorization-code) live; one hour when zero.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is how long a refresh token lives (never beyond the
	// consent's validationDate); 30 days when zero.
	RefreshTokenLifetime time.Duration
	// Seed generates two years of HGS passages and top-ups up to Now for the
	// seeded tags. Customers and tags exist either way, so the login page
	// always works.
	Seed bool
	// RandSeed makes the generated history reproducible; the same seed and
	// day give the same transactions.
	RandSeed uint64
	// ShowCredentials prints the sandbox customer number, password and
	// one-time code on the login page, so that a person trying the sandbox
	// needs no documentation. Sandbox mode only: a test of the login page
	// must not find its answers on it.
	ShowCredentials bool
}

// CodeLifetime is how long an authorization code may be exchanged.
const CodeLifetime = 10 * time.Minute

// ConsentCreationWindow is how long after creation a consent may still be
// approved and activated (the response's creationEndTime).
const ConsentCreationWindow = time.Hour

// Server is the fake bank. It is an http.Handler and safe for concurrent use.
type Server struct {
	// Faults injects latency, errors and malformed bodies into the API
	// routes (not into the login pages or the control page).
	Faults faults.Faults

	opts    Options
	handler http.Handler

	mu        sync.Mutex
	regs      map[string]*registration // by client_id
	regOrder  []string
	ccTokens  map[string]*ccToken
	ccRefresh map[string]*ccRefresh
	consents  map[string]*consent
	authReqs  map[string]*authRequest
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]*refreshToken
	customers []*customer
	products  map[string]*product // by productId
	txns      map[string][]txn    // by productId, ascending by entrance time
	hgsFails  []string            // back-end error codes for the next txnlist calls
	linkBase  string              // when set, the base of the scaOAuth links instead of ours
}

// New returns a fake bank with its seeded customers.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxValidationDays <= 0 {
		opts.MaxValidationDays = 180
	}
	if opts.MaxFrequencyPerDay <= 0 {
		opts.MaxFrequencyPerDay = 99
	}
	if opts.AccessTokenLifetime <= 0 {
		opts.AccessTokenLifetime = time.Hour
	}
	if opts.RefreshTokenLifetime <= 0 {
		opts.RefreshTokenLifetime = 30 * 24 * time.Hour
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	s := &Server{
		opts:      opts,
		regs:      map[string]*registration{},
		ccTokens:  map[string]*ccToken{},
		ccRefresh: map[string]*ccRefresh{},
		consents:  map[string]*consent{},
		authReqs:  map[string]*authRequest{},
		codes:     map[string]*authCode{},
		access:    map[string]*accessToken{},
		refresh:   map[string]*refreshToken{},
		products:  map[string]*product{},
		txns:      map[string][]txn{},
	}
	s.seed()

	api := http.NewServeMux()
	api.HandleFunc("/cards/service/registiration/v0", only(http.MethodPost, s.handleRegister))
	api.HandleFunc("/auth/oauth/v2/token", only(http.MethodPost, s.handleClientToken))
	api.HandleFunc("/cards/service/gettoken/v0", only(http.MethodPost, s.handleGetToken))
	api.HandleFunc("/cards/service/refreshtoken/v0", only(http.MethodPost, s.handleRefreshToken))
	api.HandleFunc(ConsentsPath+"{$}", s.handleConsentRoot)
	api.HandleFunc(ConsentsPath+"products", only(http.MethodPost, s.handleProducts))
	api.HandleFunc(ConsentsPath+"status", only(http.MethodGet, s.handleStatus))
	api.HandleFunc(ConsentsPath+"delete", only(http.MethodPost, s.handleDelete))
	api.HandleFunc(TxnListPath, only(http.MethodPost, s.handleTxnList))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, http.StatusNotFound, "", "resource not found")
	})

	root := http.NewServeMux()
	root.Handle("/_fake/faults", s.Faults.ControlPage(faults.Page{Title: "Garanti BBVA", Answers: faultAnswers()}))
	root.HandleFunc("GET "+AuthorizePath, s.handleAuthorize)
	root.HandleFunc("POST "+LoginPath, s.handleLogin)
	root.HandleFunc("POST "+ApprovePath, s.handleApprove)
	root.Handle("/", s.Faults.Middleware(api))
	s.handler = root
	return s
}

// Paths served by the fake, named once so tests and the scaOAuth link agree.
const (
	ConsentsPath  = "/cc/service/consents/v0/"
	TxnListPath   = "/cards/hgs/service/v0/txnlist"
	AuthorizePath = "/oauth/authorize"
	LoginPath     = "/oauth/login"
	ApprovePath   = "/oauth/approve"
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get("X-Request-ID"); id != "" {
		w.Header().Set("X-Request-ID", id)
	}
	s.handler.ServeHTTP(w, r)
}

// only answers other methods with the bank's 405 apiError.
func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeAPIError(w, r, http.StatusMethodNotAllowed, "", r.Method+" Method Not Allowed")
			return
		}
		h(w, r)
	}
}

func (s *Server) now() time.Time { return s.opts.Now() }

// baseURL is the fake's external address for links it hands out.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// randomToken returns n random bytes, hex-encoded: opaque identifiers for
// secrets, tokens and codes.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// day returns the Istanbul calendar date of t at midnight.
func day(t time.Time) time.Time {
	t = t.In(tz.Istanbul)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, tz.Istanbul)
}

const dateLayout = "2006-01-02"

// tsLayout is the fake's format for transaction timestamps and
// creationEndTime: ISO 8601 with the Istanbul offset.
const tsLayout = "2006-01-02T15:04:05-07:00"
