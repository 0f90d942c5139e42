package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"kasa/connect"
	"kasa/consents"
	"kasa/i18n"
	"kasa/providers/garanti"
	"kasa/store"
	"kasa/views"
)

// garantiRoutes registers the Garanti BBVA consent, OAuth callback and HGS pages.
func (h *Handler) garantiRoutes() {
	m := h.mux
	viewer, operator, admin := store.RoleViewer, store.RoleOperator, store.RoleAdmin
	m.HandleFunc("GET /consents", h.require(viewer, h.consentsPage))
	m.HandleFunc("GET /consents/setup", h.require(admin, h.garantiSetupPage))
	m.HandleFunc("POST /consents/setup/register", h.require(admin, h.garantiRegister))
	m.HandleFunc("POST /consents/setup/credentials", h.require(admin, h.garantiCredentials))
	m.HandleFunc("GET /consents/new", h.require(operator, h.newConsentPage))
	m.HandleFunc("POST /consents", h.require(operator, h.createConsent))
	m.HandleFunc("GET /consents/{id}", h.require(viewer, h.consentPage))
	m.HandleFunc("POST /consents/{id}/refresh", h.require(operator, h.refreshConsent))
	m.HandleFunc("POST /consents/{id}/activate", h.require(operator, h.activateConsent))
	m.HandleFunc("POST /consents/{id}/bank", h.require(operator, h.consentAtBank))
	m.HandleFunc("GET /consents/{id}/revoke", h.require(operator, h.revokeConsentPage))
	m.HandleFunc("POST /consents/{id}/revoke", h.require(operator, h.revokeConsent))
	m.HandleFunc("GET /oauth/garanti/callback", h.require(operator, h.garantiCallback))
	m.HandleFunc("GET /hgs", h.require(viewer, h.hgsPage))
	m.HandleFunc("GET /hgs/export.csv", h.require(viewer, h.hgsExport))
	m.HandleFunc("POST /hgs/refresh", h.require(operator, h.hgsRefresh))
}

// Settings keys of the Garanti application.
const (
	garantiClientID     = "garanti.client_id"
	garantiClientSecret = "garanti.client_secret"
	garantiPortal       = "garanti.client_id_portal"
	garantiTPPID        = "garanti.tpp_id"
	garantiTPPName      = "garanti.tpp_name"
	garantiCompany      = "garanti.company_name"
	garantiBaseURL      = "garanti.base_url"
	// When and with which redirect URI the product last registered the
	// application (unset for credentials entered by hand).
	garantiRegisteredAt  = "garanti.registered_at"
	garantiRegisteredURI = "garanti.registered_redirect_uri"
)

// sessionGarantiBinding holds a random value that binds OAuth states to the
// session that started them; only its hash is stored with each state.
const sessionGarantiBinding = "garanti_bind"

// garantiBinding returns the session's binding, creating it when create.
func (h *Handler) garantiBinding(w http.ResponseWriter, r *http.Request, create bool) (string, error) {
	s := h.session(r)
	if b, ok := s.Values[sessionGarantiBinding].(string); ok && b != "" {
		return b, nil
	}
	if !create {
		return "", nil
	}
	b := garanti.NewState()
	s.Values[sessionGarantiBinding] = b
	return b, s.Save(r, w)
}

// garantiClient returns a client, and whether the application has the
// credentials to create consents.
func (h *Handler) garantiClient(ctx context.Context) (*garanti.Client, bool, error) {
	cl, app, err := h.conn.Garanti(ctx)
	if errors.Is(err, connect.ErrNotConfigured) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return cl, app.ClientID != "" && app.ClientSecret != "" && app.ClientIDPortal != "", nil
}

// garantiConfigured reports, from the garanti.* settings, what
// garantiClient does: whether the application has a base URL and the
// credentials to create consents.
func (h *Handler) garantiConfigured(s map[string]string) bool {
	return s[garantiBaseURL] != "" && s[garantiClientID] != "" && s[garantiClientSecret] != "" && s[garantiPortal] != ""
}

// garantiBase is the address the bank's links must point at: the
// configured base URL. A link elsewhere is not followed.
func (h *Handler) garantiBase(ctx context.Context) (*url.URL, error) {
	s, err := h.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s[garantiBaseURL])
	if err != nil || u.Hostname() == "" {
		return nil, errors.New("garanti: no base URL")
	}
	return u, nil
}

// bankLinkAllowed reports whether the bank's approval link may be followed:
// the same scheme (so never a downgrade from https to http), host name and
// effective port as the base URL; ":443" written or not is the same port.
func bankLinkAllowed(base, link *url.URL) bool {
	if base == nil || link == nil || link.User != nil {
		return false
	}
	if link.Scheme != base.Scheme || (link.Scheme != "https" && link.Scheme != "http") {
		return false
	}
	return strings.EqualFold(base.Hostname(), link.Hostname()) && effectivePort(base) == effectivePort(link)
}

// effectivePort is the URL's port, or its scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// explain turns a failed Garanti call into the user's message.
func explain(r *http.Request, err error) string {
	return views.GarantiCodeText(r.Context(), consents.ErrorCode(err))
}

func (h *Handler) garantiSetupView(ctx context.Context) (views.GarantiSetupView, error) {
	s, err := h.store.Settings(ctx)
	if err != nil {
		return views.GarantiSetupView{}, err
	}
	v := views.GarantiSetupView{RedirectURI: h.conn.GarantiRedirectURI(), ClientID: s[garantiClientID],
		SecretSet: s[garantiClientSecret] != "", Company: s[garantiCompany], Portal: s[garantiPortal],
		TPPID: s[garantiTPPID], TPPName: s[garantiTPPName], Errors: views.Errors{},
		RegisteredURI: s[garantiRegisteredURI]}
	if t, err := time.Parse(time.RFC3339, s[garantiRegisteredAt]); err == nil {
		v.RegisteredAt = t
	}
	return v, nil
}

func (h *Handler) garantiSetupPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.garantiSetupView(r.Context())
	if err != nil {
		h.serverError(w, r, errorf("garanti setup", err))
		return
	}
	h.render(w, r, http.StatusOK, views.GarantiSetupPage(v))
}

// appFormFields maps the field names of the setup forms and of the
// settings page to the AppCredentials fields the bank limits (E014–E017).
var appFormFields = map[string]string{
	"client_id": "ClientID", "client_id_portal": "ClientIDPortal", "tpp_id": "TPPID", "tpp_name": "TPPName", "company_name": "TPPName",
	garantiClientID: "ClientID", garantiPortal: "ClientIDPortal", garantiTPPID: "TPPID", garantiTPPName: "TPPName",
}

// appLimitErrors checks the values typed into a setup or settings form
// (form field → value; fields the bank does not limit are ignored) against the bank's length limits and adds a message next to each
// field the bank would refuse: the limit, the length typed, the E-code the
// bank would answer at the next consent, and what to do.
func appLimitErrors(lang i18n.Lang, values map[string]string, errs views.Errors) {
	for field, v := range values {
		name := appFormFields[field]
		var app garanti.AppCredentials
		switch name {
		case "ClientID":
			app.ClientID = v
		case "ClientIDPortal":
			app.ClientIDPortal = v
		case "TPPID":
			app.TPPID = v
		case "TPPName":
			app.TPPName = v
		}
		for _, fe := range garanti.ValidateAppCredentials(app) {
			if _, taken := errs[field]; taken {
				continue
			}
			l := garanti.AppFieldLimits[fe.Field]
			n := utf8.RuneCountInString(v)
			if fe.Field == "TPPName" {
				errs[field] = lang.T("garanti.valid.toolong.name", l.Max, n, fe.Code)
			} else {
				errs[field] = lang.T("garanti.valid.toolong.id", l.Max, n, appHeaderName[fe.Field], fe.Code)
			}
		}
	}
}

// appHeaderName is the header each identifier travels in.
var appHeaderName = map[string]string{"ClientID": "Client-ID", "ClientIDPortal": "Client-ID-Portal", "TPPID": "TPP-ID", "TPPName": "TPP-Name"}

// garantiRegister performs the one-time dynamic registration and keeps the
// application's credentials, encrypted.
func (h *Handler) garantiRegister(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	v, err := h.garantiSetupView(ctx)
	if err != nil {
		h.serverError(w, r, errorf("garanti register", err))
		return
	}
	v.Company = strings.TrimSpace(r.PostFormValue("company_name"))
	v.Portal = strings.TrimSpace(r.PostFormValue("client_id_portal"))
	if v.Company == "" {
		v.Errors["company_name"] = lang.T("garanti.valid.company")
	}
	appLimitErrors(lang, map[string]string{"company_name": v.Company, "client_id_portal": v.Portal}, v.Errors)
	// Registering again gives the application new credentials: every
	// consent given to the old ones stops working. Only after the admin
	// has read that and confirmed.
	if v.ClientID != "" && r.PostFormValue("confirm_reregister") != "yes" {
		v.Errors["confirm_reregister"] = lang.T("garanti.setup.reregister.confirm.required")
	}
	textErrors(r, v.Errors)
	if len(v.Errors) > 0 {
		v.Reregistering = v.ClientID != ""
		h.render(w, r, http.StatusUnprocessableEntity, views.GarantiSetupPage(v))
		return
	}
	values, err := h.register(ctx, v.Company, v.Portal)
	if err != nil {
		h.log.Warn("garanti register", "request_id", requestID(ctx), "err", err)
		v.Error = explain(r, err)
		h.render(w, r, http.StatusBadGateway, views.GarantiSetupPage(v))
		return
	}
	h.flash(w, r, "success", lang.T("garanti.setup.registered", values[garantiClientID]))
	h.redirect(w, r, "/consents/setup")
}

// register asks the bank for new application credentials and stores them.
func (h *Handler) register(ctx context.Context, company, portal string) (map[string]string, error) {
	cl, _, err := h.conn.Garanti(ctx)
	if err != nil {
		return nil, err
	}
	id, secret, err := cl.Register(ctx, []string{h.conn.GarantiRedirectURI()}, company)
	if err != nil {
		return nil, err
	}
	if portal == "" {
		portal = id // the API Store shows its own value; until entered, the client id stands in
	}
	values := map[string]string{garantiClientID: id, garantiClientSecret: secret, garantiPortal: portal,
		garantiTPPID: id, garantiTPPName: company, garantiCompany: company,
		garantiRegisteredAt: h.now().UTC().Format(time.RFC3339), garantiRegisteredURI: h.conn.GarantiRedirectURI()}
	var by int64
	if u := currentUser(ctx); u != nil {
		by = u.ID
	}
	if err := h.store.ChangeSettings(ctx, values, store.AuditRecord{By: by, Action: "garanti.register", Subject: "settings",
		Details: map[string]any{"clientId": id, "company": company}}); err != nil {
		return nil, err
	}
	return values, nil
}

// garantiCredentials stores credentials obtained outside the product.
func (h *Handler) garantiCredentials(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	v, err := h.garantiSetupView(ctx)
	if err != nil {
		h.serverError(w, r, errorf("garanti credentials", err))
		return
	}
	v.ClientID = strings.TrimSpace(r.PostFormValue("client_id"))
	secret := strings.TrimSpace(r.PostFormValue("client_secret"))
	v.Portal = strings.TrimSpace(r.PostFormValue("client_id_portal"))
	v.TPPID = strings.TrimSpace(r.PostFormValue("tpp_id"))
	v.TPPName = strings.TrimSpace(r.PostFormValue("tpp_name"))
	for field, val := range map[string]string{"client_id": v.ClientID, "client_id_portal": v.Portal, "tpp_name": v.TPPName} {
		if val == "" {
			v.Errors[field] = lang.T("garanti.valid.required")
		}
	}
	appLimitErrors(lang, map[string]string{"client_id": v.ClientID, "client_id_portal": v.Portal, "tpp_id": v.TPPID, "tpp_name": v.TPPName}, v.Errors)
	if secret == "" && !v.SecretSet {
		v.Errors["client_secret"] = lang.T("garanti.valid.required")
	}
	textErrors(r, v.Errors)
	if len(v.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.GarantiSetupPage(v))
		return
	}
	if v.TPPID == "" {
		v.TPPID = v.ClientID
	}
	values := map[string]string{garantiClientID: v.ClientID, garantiPortal: v.Portal, garantiTPPID: v.TPPID, garantiTPPName: v.TPPName}
	if secret != "" {
		values[garantiClientSecret] = secret
	}
	admin := currentUser(ctx)
	if err := h.store.ChangeSettings(ctx, values, store.AuditRecord{By: admin.ID, Action: "garanti.credentials", Subject: "settings",
		Details: map[string]any{"clientId": v.ClientID}}); err != nil {
		h.serverError(w, r, errorf("garanti credentials", err))
		return
	}
	h.flash(w, r, "success", lang.T("settings.saved"))
	h.redirect(w, r, "/consents/setup")
}
