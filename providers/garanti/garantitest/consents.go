package garantitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"kasa/tz"
)

// consent is one consent as the bank keeps it. status follows the Turkish
// open-banking letters: B awaiting authorisation, Y authorised, K token
// issued, A active (after the product list call), R rejected by the
// customer, I cancelled, S ended (expired).
type consent struct {
	id, clientID, tppID, tppName, redirectURI string
	status                                    string
	recurring                                 bool
	validationDate, tranBegin, tranEnd        time.Time
	frequency                                 int
	authorities                               []authorityItem
	created                                   time.Time
	customerNo                                string
	grants                                    []*grant
	usage                                     map[string]int // data calls per Istanbul day
}

// grant is one (product, authority) row of authorityConsentList.
type grant struct {
	productID, authorityID string
	flag                   bool // false once the authority is made inactive
	revoked                bool // the product's authorisation was withdrawn
}

// effectiveStatus applies the clock: a live consent ends after its
// validationDate, and one not activated within the creation window ends too.
func (c *consent) effectiveStatus(now time.Time) string {
	switch c.status {
	case "B", "Y", "K":
		if !now.Before(c.created.Add(ConsentCreationWindow)) {
			return "S"
		}
		fallthrough
	case "A":
		if !day(now).Before(c.validationDate.AddDate(0, 0, 1)) {
			return "S"
		}
	}
	return c.status
}

// ConsentState is a snapshot of a consent for tests.
type ConsentState struct {
	ConsentID       string
	ClientID        string
	Status          string // effective status letter (B, Y, K, A, R, I, S)
	CustomerNo      string
	Recurring       bool
	ValidationDate  time.Time
	FrequencyPerDay int
	RedirectURI     string
	Grants          []GrantState
	UsageToday      int
}

// GrantState is one product/authority row of a consent.
type GrantState struct {
	ProductID, AuthorityID string
	Flag, Revoked          bool
}

// wire structs of the consent API

type createdConsentBody struct {
	ConsentStatus   string            `json:"consentStatus"`
	ConsentID       string            `json:"consentId"`
	CreationEndTime string            `json:"creationEndTime"`
	StrongIDType    string            `json:"strongIdType"`
	Links           map[string]hrefTo `json:"_links"`
}

type hrefTo struct {
	Href string `json:"href"`
}

type consentObject struct {
	ConsentID          string        `json:"consentId"`
	RecurringIndicator bool          `json:"recurringIndicator"`
	ValidationDate     string        `json:"validationDate"`
	FrequencyPerDay    int           `json:"frequencyPerDay"`
	AuthorityList      []grantObject `json:"authorityConsentList"`
}

type grantObject struct {
	ProductID     string `json:"productId"`
	AuthorityID   string `json:"authorityID"`
	AuthorityFlag bool   `json:"authorityFLAG"`
}

type statusList struct {
	List []statusItem `json:"consentStatusList"`
}

type statusItem struct {
	ConsentID     string `json:"consentId"`
	AuthorityID   string `json:"authorityID"`
	ConsentStatus string `json:"consentStatus"`
}

// clientHeaders checks X-Request-ID, Client-ID, Client-Secret and
// Client-ID-Portal, present on every consent and HGS call. Callers hold s.mu.
func (s *Server) clientHeaders(w http.ResponseWriter, r *http.Request) (*registration, bool) {
	h := r.Header
	switch {
	case h.Get("X-Request-ID") == "":
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: X-Request-ID header is mandatory")
		return nil, false
	case chars(h.Get("Client-ID")) > maxIDLen:
		fail(w, r, "E014")
		return nil, false
	case h.Get("Client-ID") == "" || h.Get("Client-Secret") == "":
		unauthorized(w, r, "Client-ID and Client-Secret headers are mandatory")
		return nil, false
	case h.Get("Client-ID-Portal") == "" || chars(h.Get("Client-ID-Portal")) > maxIDLen:
		fail(w, r, "E015")
		return nil, false
	}
	reg := s.clientAuth(h.Get("Client-ID"), h.Get("Client-Secret"))
	if reg == nil {
		unauthorized(w, r, "Client-ID or Client-Secret is wrong")
		return nil, false
	}
	return reg, true
}

// consentCall checks the headers of a call about an existing consent and,
// when withToken, its authorization-code access token. Callers hold s.mu.
func (s *Server) consentCall(w http.ResponseWriter, r *http.Request, withToken bool) (*consent, *accessToken, bool) {
	reg, ok := s.clientHeaders(w, r)
	if !ok {
		return nil, nil, false
	}
	id := r.Header.Get("Consent-ID")
	if len(id) != consentIDLen {
		fail(w, r, "E001")
		return nil, nil, false
	}
	c := s.consents[id]
	if c == nil || c.clientID != reg.ClientID {
		fail(w, r, "E032", id, reg.ClientID)
		return nil, nil, false
	}
	if !withToken {
		return c, nil, true
	}
	tok, ok := bearer(r)
	if !ok {
		unauthorized(w, r, "Authorization header with a Bearer token is mandatory")
		return nil, nil, false
	}
	at := s.access[tok]
	switch {
	case at == nil:
		unauthorized(w, r, "invalid access token")
		return nil, nil, false
	case !s.now().Before(at.expires):
		unauthorized(w, r, "access token has expired")
		return nil, nil, false
	case at.consentID != c.id || at.clientID != reg.ClientID:
		unauthorized(w, r, "access token was not issued for this consent")
		return nil, nil, false
	}
	return c, at, true
}

func (s *Server) handleConsentRoot(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.handleCreate(w, r)
	case http.MethodGet:
		s.handleRead(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeAPIError(w, r, http.StatusMethodNotAllowed, "", r.Method+" Method Not Allowed")
	}
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg, ok := s.clientHeaders(w, r)
	if !ok {
		return
	}
	h := r.Header
	switch {
	case h.Get("TPP-ID") == "" || chars(h.Get("TPP-ID")) > maxIDLen:
		fail(w, r, "E016")
		return
	case h.Get("TPP-Name") == "" || chars(h.Get("TPP-Name")) > maxTPPNameLen:
		fail(w, r, "E017")
		return
	case !contains(reg.RedirectURIs, h.Get("TPP-Redirect-URI")):
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: TPP-Redirect-URI is not a registered redirect URI")
		return
	}
	if why := s.useClientToken(r, reg.ClientID); why != "" {
		unauthorized(w, r, why)
		return
	}
	var b consentBody
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: body is not valid JSON")
		return
	}
	now := s.now()
	c, rerr := s.validateConsent(b, now)
	if rerr != nil {
		fail(w, r, rerr.code, rerr.args...)
		return
	}
	c.id = uuid.NewString()
	c.clientID, c.tppID, c.tppName, c.redirectURI = reg.ClientID, h.Get("TPP-ID"), h.Get("TPP-Name"), h.Get("TPP-Redirect-URI")
	c.status, c.created, c.usage = "B", now, map[string]int{}
	s.consents[c.id] = c

	q := url.Values{"consentId": {c.id}, "client_id": {reg.ClientID}, "response_type": {"code"}, "redirect_uri": {c.redirectURI}}
	w.Header().Set("Location", ConsentsPath+c.id)
	w.Header().Set("ASPSP-SCA-Approach", "REDIRECT")
	// 200, not 201: the seed lists 200 as the only success code.
	writeJSON(w, http.StatusOK, createdConsentBody{
		ConsentStatus: c.status, ConsentID: c.id,
		CreationEndTime: c.created.Add(ConsentCreationWindow).In(tz.Istanbul).Format(tsLayout),
		StrongIDType:    "OTP",
		Links:           map[string]hrefTo{"scaOAuth": {Href: s.linkBaseFor(r) + AuthorizePath + "?" + q.Encode()}},
	})
}

func (c *consent) object() consentObject {
	o := consentObject{ConsentID: c.id, RecurringIndicator: c.recurring, ValidationDate: c.validationDate.Format(dateLayout),
		FrequencyPerDay: c.frequency, AuthorityList: []grantObject{}}
	for _, g := range c.grants {
		if g.revoked {
			continue
		}
		o.AuthorityList = append(o.AuthorityList, grantObject{ProductID: g.productID, AuthorityID: g.authorityID, AuthorityFlag: g.flag})
	}
	return o
}

// handleProducts is the consent product list call: after the code exchange
// it returns what the customer granted and makes the consent active.
func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _, ok := s.consentCall(w, r, true)
	if !ok {
		return
	}
	switch c.effectiveStatus(s.now()) {
	case "Y", "K":
		c.status = "A"
	case "A": // a repeat after a lost reply answers the same
	default:
		fail(w, r, "E033", c.id, c.clientID)
		return
	}
	writeJSON(w, http.StatusOK, c.object())
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _, ok := s.consentCall(w, r, true)
	if !ok || !s.dataCall(w, r, c) {
		return
	}
	writeJSON(w, http.StatusOK, c.object())
}

// dataCall admits a call that reads customer data: the consent must be
// active and within its daily frequency. Callers hold s.mu.
func (s *Server) dataCall(w http.ResponseWriter, r *http.Request, c *consent) bool {
	now := s.now()
	if st := c.effectiveStatus(now); st != "A" {
		fail(w, r, "E031", c.id)
		return false
	}
	today := day(now)
	key := today.Format(dateLayout)
	if c.usage[key] >= c.frequency {
		wait := today.AddDate(0, 0, 1).Sub(now)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		writeAPIError(w, r, http.StatusTooManyRequests, "", "frequencyPerDay of the consent exceeded")
		return false
	}
	c.usage[key]++
	return true
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _, ok := s.consentCall(w, r, false)
	if !ok {
		return
	}
	st := c.effectiveStatus(s.now())
	out := statusList{List: []statusItem{}}
	for _, a := range c.authorities {
		as := st
		if st == "A" && !c.authorityLive(a.AuthorityID) {
			as = "I"
		}
		out.List = append(out.List, statusItem{ConsentID: c.id, AuthorityID: a.AuthorityID, ConsentStatus: as})
	}
	writeJSON(w, http.StatusOK, out)
}

// authorityLive reports whether any product still holds the authority.
func (c *consent) authorityLive(authorityID string) bool {
	for _, g := range c.grants {
		if g.authorityID == authorityID && g.flag && !g.revoked {
			return true
		}
	}
	return false
}

// SetApprovalLinkBase makes new consents' scaOAuth links start with base
// (scheme, host and port) instead of the fake's own address: a fault switch
// for a bank whose link points somewhere the product must not follow.
// "" restores the fake's own address.
func (s *Server) SetApprovalLinkBase(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.linkBase = base
}

// linkBaseFor is the base of the scaOAuth link. Callers hold s.mu.
func (s *Server) linkBaseFor(r *http.Request) string {
	if s.linkBase != "" {
		return s.linkBase
	}
	return s.baseURL(r)
}
