package garanti

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Consent API paths. The seed names only the base; the others are the
// decision of CONTRACTS.md §2.3 and live here alone so a real deployment can
// correct them.
const (
	ConsentsPath        = "/cc/service/consents/v0/"
	ConsentProductsPath = ConsentsPath + "products"
	ConsentStatusPath   = ConsentsPath + "status"
	ConsentReadPath     = ConsentsPath
	ConsentDeletePath   = ConsentsPath + "delete"
)

// Authority is one permission a consent asks for. AttributeName and
// Attribute narrow it (for example "productId" and one tag's id); both are
// set or both empty.
type Authority struct {
	ID            string
	AttributeName string
	Attribute     string
}

// ConsentRequest is what the product asks the customer to consent to.
// Dates are calendar days: the date of each value in its own location.
type ConsentRequest struct {
	Recurring       bool
	ValidationDate  time.Time // last day the consent is valid
	FrequencyPerDay int       // data calls per day; 1 when not recurring
	TranBeginDate   time.Time // earliest transaction date that may be read
	TranEndDate     time.Time // latest transaction date that may be read
	Authorities     []Authority
}

// CreatedConsent is the bank's answer to a new consent.
type CreatedConsent struct {
	ConsentID string
	// Status is the raw consentStatus (MapStatus interprets it).
	Status string
	// CreationEndTime is the deadline for approving and activating the
	// consent; zero when the bank's value could not be read.
	CreationEndTime time.Time
	StrongIDType    string
	// SCAHref is _links.scaOAuth.href with state and the PKCE challenge
	// added: the address to send the customer's browser to.
	SCAHref string
	// Location is the created resource's Location header.
	Location string
}

// ConsentProduct is one row of a consent: a product (HGS tag) and an
// authority, and whether the authority is in force for it.
type ConsentProduct struct {
	ProductID   string
	AuthorityID string
	Flag        bool
}

// Consent is the content of a consent after the customer's approval.
type Consent struct {
	ConsentID       string
	Recurring       bool
	ValidationDate  time.Time
	FrequencyPerDay int
	// TranBeginDate and TranEndDate are zero unless the bank includes them:
	// its documents list them for creation only, not in this answer.
	TranBeginDate time.Time
	TranEndDate   time.Time
	Products      []ConsentProduct
}

// ProductIDs lists the products with at least one authority in force, in
// the bank's order.
func (c Consent) ProductIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range c.Products {
		if p.Flag && !seen[p.ProductID] {
			seen[p.ProductID] = true
			out = append(out, p.ProductID)
		}
	}
	return out
}

// AuthorityStatus is the status of one authority of a consent.
type AuthorityStatus struct {
	ConsentID   string
	AuthorityID string
	Status      string // raw; see Mapped
}

// Mapped is the product's reading of the raw status.
func (a AuthorityStatus) Mapped() Status { return MapStatus(a.Status) }

// DeleteItem selects what DeleteConsent withdraws: an authority for every
// product, a product for every authority, or one authority of one product.
type DeleteItem struct {
	AuthorityID string `json:"authorityID,omitempty"`
	ProductID   string `json:"productId,omitempty"`
}

type authorityWire struct {
	AuthorityID   string `json:"authorityID"`
	AttributeName string `json:"authorityAttributeName,omitempty"`
	Attribute     string `json:"authorityAttribute,omitempty"`
}

type createWire struct {
	RecurringIndicator bool            `json:"recurringIndicator"`
	ValidationDate     string          `json:"validationDate"`
	FrequencyPerDay    int             `json:"frequencyPerDay"`
	TranBeginDate      string          `json:"tranBeginDate"`
	TranEndDate        string          `json:"tranEndDate"`
	AuthorityList      []authorityWire `json:"authorityConsentList"`
}

type createdWire struct {
	ConsentStatus   string `json:"consentStatus"`
	ConsentID       string `json:"consentId"`
	CreationEndTime string `json:"creationEndTime"`
	StrongIDType    string `json:"strongIdType"`
	Links           struct {
		SCAOAuth struct {
			Href string `json:"href"`
		} `json:"scaOAuth"`
	} `json:"_links"`
}

type consentWire struct {
	ConsentID          string   `json:"consentId"`
	RecurringIndicator flexBool `json:"recurringIndicator"`
	ValidationDate     string   `json:"validationDate"`
	FrequencyPerDay    flexInt  `json:"frequencyPerDay"`
	TranBeginDate      string   `json:"tranBeginDate"`
	TranEndDate        string   `json:"tranEndDate"`
	AuthorityList      []struct {
		ProductID     flexString `json:"productId"`
		AuthorityID   string     `json:"authorityID"`
		AuthorityFlag flexBool   `json:"authorityFLAG"`
	} `json:"authorityConsentList"`
}

func (w consentWire) consent() Consent {
	c := Consent{ConsentID: w.ConsentID, Recurring: bool(w.RecurringIndicator), FrequencyPerDay: int(w.FrequencyPerDay)}
	c.ValidationDate, _ = parseDate(w.ValidationDate)
	c.TranBeginDate, _ = parseDate(w.TranBeginDate)
	c.TranEndDate, _ = parseDate(w.TranEndDate)
	for _, a := range w.AuthorityList {
		c.Products = append(c.Products, ConsentProduct{ProductID: string(a.ProductID), AuthorityID: a.AuthorityID, Flag: bool(a.AuthorityFlag)})
	}
	return c
}

// CreateConsent fetches a single-use client-credentials token and creates a
// consent awaiting the customer's approval.
//
// state and codeChallenge (S256, from NewPKCE) are conveyed as query
// parameters of the scaOAuth link – state, code_challenge and
// code_challenge_method=S256, as in an OAuth 2.0 authorization request –
// because the consent API has no fields for them; values the bank already
// put in the link under those names are replaced by ours. Empty values are
// not added.
func (c *Client) CreateConsent(ctx context.Context, req ConsentRequest, state, codeChallenge string) (CreatedConsent, error) {
	tok, err := c.ClientToken(ctx)
	if err != nil {
		return CreatedConsent{}, wrap("create consent", err)
	}
	body := createWire{RecurringIndicator: req.Recurring, ValidationDate: isoDate(req.ValidationDate), FrequencyPerDay: req.FrequencyPerDay,
		TranBeginDate: isoDate(req.TranBeginDate), TranEndDate: isoDate(req.TranEndDate), AuthorityList: []authorityWire{}}
	for _, a := range req.Authorities {
		body.AuthorityList = append(body.AuthorityList, authorityWire{AuthorityID: a.ID, AttributeName: a.AttributeName, Attribute: a.Attribute})
	}
	h := c.consentHeaders("", tok.AccessToken)
	h.Set("TPP-ID", c.app.TPPID)
	h.Set("TPP-Name", c.app.TPPName)
	h.Set("TPP-Redirect-URI", c.app.RedirectURI)
	var out createdWire
	var location string
	err = c.do(ctx, request{op: "create_consent", method: http.MethodPost, path: ConsentsPath, header: h,
		body: jsonBody(body), contentType: "application/json",
		check: func() string {
			if out.ConsentID == "" || out.Links.SCAOAuth.Href == "" {
				return "consent response lacks consentId or _links.scaOAuth.href"
			}
			return ""
		}, location: &location}, &out)
	if err != nil {
		return CreatedConsent{}, wrap("create consent", err)
	}
	href, err := c.scaLink(out.Links.SCAOAuth.Href, state, codeChallenge)
	if err != nil {
		return CreatedConsent{}, wrap("create consent", err)
	}
	cc := CreatedConsent{ConsentID: out.ConsentID, Status: out.ConsentStatus, StrongIDType: out.StrongIDType, SCAHref: href, Location: location}
	cc.CreationEndTime, _ = parseTimestamp(out.CreationEndTime)
	return cc, nil
}

// scaLink resolves the bank's link against the base URL and sets state and
// the PKCE challenge, replacing any the bank already set.
func (c *Client) scaLink(href, state, challenge string) (string, error) {
	base, err := url.Parse(c.baseURL + "/")
	if err != nil {
		return "", err
	}
	u, err := base.Parse(strings.TrimSpace(href))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", &Error{Status: http.StatusCreated, Code: CodeMalformed, Info: "scaOAuth link is not an http(s) URL"}
	}
	q := u.Query()
	// Ours replace any the bank put in the link: the callback accepts only
	// the state this product issued, and the code exchange sends the
	// verifier of our challenge.
	add := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	add("state", state)
	if challenge != "" {
		add("code_challenge", challenge)
		add("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// ConsentProducts is the call after the code exchange: it returns the
// products and authorities the customer granted and makes the consent
// active (A).
func (c *Client) ConsentProducts(ctx context.Context, consentID, accessToken string) (Consent, error) {
	var out consentWire
	err := c.do(ctx, request{op: "consent_products", method: http.MethodPost, path: ConsentProductsPath,
		header: c.consentHeaders(consentID, accessToken), body: []byte("{}"), contentType: "application/json"}, &out)
	if err != nil {
		return Consent{}, wrap("consent products", err)
	}
	return out.consent(), nil
}

// ConsentStatus returns the status of each authority of the consent. The
// seed lists no Authorization header for this call, so none is sent: the
// status stays readable after the customer's tokens are gone.
func (c *Client) ConsentStatus(ctx context.Context, consentID string) ([]AuthorityStatus, error) {
	var out struct {
		List []struct {
			ConsentID     string `json:"consentId"`
			AuthorityID   string `json:"authorityID"`
			ConsentStatus string `json:"consentStatus"`
		} `json:"consentStatusList"`
	}
	err := c.do(ctx, request{op: "consent_status", method: http.MethodGet, path: ConsentStatusPath,
		header: c.consentHeaders(consentID, "")}, &out)
	if err != nil {
		return nil, wrap("consent status", err)
	}
	list := make([]AuthorityStatus, 0, len(out.List))
	for _, s := range out.List {
		list = append(list, AuthorityStatus{ConsentID: s.ConsentID, AuthorityID: s.AuthorityID, Status: s.ConsentStatus})
	}
	return list, nil
}

// ReadConsent returns the consent's content as the bank holds it now (the
// seed's "Consent Read"), which may differ from what was approved: the
// customer can change a consent at the bank. The bank counts the call
// against the consent's frequencyPerDay.
func (c *Client) ReadConsent(ctx context.Context, consentID, accessToken string) (Consent, error) {
	var out consentWire
	err := c.do(ctx, request{op: "read_consent", method: http.MethodGet, path: ConsentReadPath,
		header: c.consentHeaders(consentID, accessToken)}, &out)
	if err != nil {
		return Consent{}, wrap("read consent", err)
	}
	return out.consent(), nil
}

// DeleteConsent withdraws the whole consent (no items), authorities,
// products, or authorities of products, and returns the bank's raw
// consentStatus afterwards.
func (c *Client) DeleteConsent(ctx context.Context, consentID, accessToken string, items []DeleteItem) (string, error) {
	body := []byte("{}") // the whole consent: the seed's "without filling the body"
	if len(items) > 0 {
		body = jsonBody(struct {
			List []DeleteItem `json:"authorityConsentList"`
		}{items})
	}
	var out struct {
		ConsentStatus string `json:"consentStatus"`
	}
	err := c.do(ctx, request{op: "delete_consent", method: http.MethodPost, path: ConsentDeletePath,
		header: c.consentHeaders(consentID, accessToken), body: body, contentType: "application/json"}, &out)
	if err != nil {
		return "", wrap("delete consent", err)
	}
	return out.ConsentStatus, nil
}
