// Package vakifbanktest is an in-memory stand-in for VakıfBank's account
// movements API (CONTRACTS.md section 3): the B2B token endpoint and
// POST /accountTransactions with every documented rule and message code,
// seeded with three years of realistic movements, plus switches for the
// envelope variants integrators have met and for transport faults. The
// client's tests, the end-to-end tests and sandbox mode run against it.
package vakifbanktest

import (
	"net/http"
	"sync"
	"time"

	"kasa/providers/faults"
)

// The sandbox's credentials and parties, used when Options leaves them empty.
const (
	SandboxClientID     = "kasa-sandbox-client"
	SandboxClientSecret = "kasa-sandbox-secret"
	SandboxConsentID    = "b2b-consent-0001"
	SandboxResource     = "sandbox"

	SandboxCustomer = "60012345" // müşteri numarası of the sandbox company
	OtherCustomer   = "60098765" // a different customer of the bank

	SandboxAccountTRY = "00158000000000001"
	SandboxAccountUSD = "00158000000000002"
	SandboxAccountEUR = "00158000000000003"
	OtherAccount      = "00158000000009001" // owned by OtherCustomer
)

// Options configure a Server; the zero value is the sandbox without data.
type Options struct {
	ClientID     string // SandboxClientID when empty
	ClientSecret string // SandboxClientSecret when empty
	ConsentID    string // SandboxConsentID when empty; granted by SandboxCustomer
	Resource     string // "sandbox" (default) or "production": the one this gateway serves

	TokenLifetime time.Duration    // 1h when zero
	Now           func() time.Time // time.Now when nil; token expiry and the seed's end

	Seed     bool   // create the sandbox accounts with three years of movements up to Now
	RandSeed uint64 // the same RandSeed and Now give the same movements
}

// Server is the fake gateway. It is safe for concurrent use.
type Server struct {
	// Faults are applied to every API request; /_fake/faults switches them
	// (and /_fake/quirks the answer shapes).
	Faults faults.Faults

	opts    Options
	handler http.Handler

	mu       sync.RWMutex
	consents map[string]string // consent id → customer number
	accounts map[string]*account
	order    []string          // account numbers, in the order they were added
	tokens   map[string]issued // access token → what it grants
	quirks   Quirks
	nextSeq  int64 // TransactionId sequence
	// breaks are the balance-chain breaks in force, for the control page
	// to show and undo.
	breaks    []BalanceBreak
	nextBreak int
}

type issued struct {
	consent string
	expiry  time.Time
}

// New returns a fake gateway configured by opts.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = SandboxClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = SandboxClientSecret
	}
	if opts.ConsentID == "" {
		opts.ConsentID = SandboxConsentID
	}
	if opts.Resource == "" {
		opts.Resource = SandboxResource
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:     opts,
		consents: map[string]string{opts.ConsentID: SandboxCustomer},
		accounts: map[string]*account{},
		tokens:   map[string]issued{},
	}
	api := http.NewServeMux()
	api.HandleFunc("POST /auth/oauth/v2/token", s.serveToken)
	api.HandleFunc("POST /accountTransactions", s.serveTransactions)
	root := http.NewServeMux()
	root.HandleFunc("/_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		// Built per request: the account list changes as accounts are added.
		s.Faults.ControlPage(faults.Page{Title: "VakıfBank", Answers: s.faultAnswers(), Extra: s.balanceBreakForm()}).ServeHTTP(w, r)
	})
	root.HandleFunc("POST /_fake/balance-break", s.serveBalanceBreak)
	root.HandleFunc("POST /_fake/balance-break/undo", s.serveBalanceBreakUndo)
	root.HandleFunc("/_fake/quirks", s.serveQuirks)
	root.Handle("/", s.Faults.Middleware(api))
	s.handler = root
	if opts.Seed {
		s.seed()
	}
	return s
}

// ServeHTTP serves the gateway's API and the fault control page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get("X-Request-ID"); id != "" {
		w.Header().Set("X-Request-ID", id)
	}
	s.handler.ServeHTTP(w, r)
}

func (s *Server) now() time.Time { return s.opts.Now() }

// EmptyList is how an answer without movements spells AccountTransactions.
type EmptyList int

// The spellings of an empty AccountTransactions seen from the real gateway.
const (
	EmptyArray   EmptyList = iota // []
	EmptyString                   // ""
	EmptyNull                     // null
	EmptyMissing                  // the field is left out
)

// Quirks switch between the answer shapes integrators have met; the zero
// value is the documented shape.
type Quirks struct {
	LegacyEnvelope bool      // {"Status":{"Code","Description","ObjectID"}} instead of Header
	EmptyList      EmptyList // AccountTransactions of an answer without movements
	// NoMovementsStatus is the HTTP status that comes with ACBH000202: 404
	// when zero; 200 is what some integrators have seen.
	NoMovementsStatus int
	// NoMovementsCompleted answers a range without movements with
	// APIGW000000 and an empty list instead of ACBH000202.
	NoMovementsCompleted bool
	NumericIDs           bool // TransactionId as a JSON number
	NumericAmounts       bool // Amount and Balance as JSON numbers
	OffsetDates          bool // TransactionDate with its +03:00 offset
	ExpiresInString      bool // the token answer's expires_in as "3600"
}

// SetQuirks switches the answer shapes.
func (s *Server) SetQuirks(q Quirks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quirks = q
}

// Quirks returns the answer shapes in force.
func (s *Server) Quirks() Quirks {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.quirks
}

// RevokeTokens invalidates every access token issued so far, as a gateway
// restart or a revoked consent does: the next call meets a 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// TokensIssued returns how many access tokens are currently valid.
func (s *Server) TokensIssued() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	n := 0
	for _, t := range s.tokens {
		if now.Before(t.expiry) {
			n++
		}
	}
	return n
}
