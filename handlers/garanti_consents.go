package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kasa/consents"
	"kasa/i18n"
	"kasa/providers/garanti"
	"kasa/store"
	"kasa/views"
)

// stateLifetime is how long a consent redirect may take to come back.
const stateLifetime = 10 * time.Minute

// knownAuthorities are the authorities the consent form offers.
var knownAuthorities = []string{garanti.AuthorityProductInfo, garanti.AuthorityTransactionInfo}

func (h *Handler) consentsPage(w http.ResponseWriter, r *http.Request) {
	p, err := h.app.Consents.ListView(r.Context(), h.now())
	if err != nil {
		h.serverError(w, r, errorf("consents", err))
		return
	}
	v := views.ConsentsView{Configured: h.garantiConfigured(p.Settings), Now: h.now()}
	for _, c := range p.Consents {
		v.Rows = append(v.Rows, views.ConsentRow{C: c.Consent, Used: c.Used})
	}
	h.render(w, r, http.StatusOK, views.ConsentsPage(v))
}

// defaultConsentForm proposes a recurring consent for 90 days over the last
// year of transactions, with both HGS authorities.
func (h *Handler) defaultConsentForm() views.ConsentForm {
	today := i18n.Today(h.now())
	f := views.ConsentForm{Recurring: true, ValidationDate: today.AddDate(0, 0, 90).Format("2006-01-02"), Frequency: "10",
		TranBegin: today.AddDate(-1, 0, 0).Format("2006-01-02"), TranEnd: today.Format("2006-01-02"), Errors: views.Errors{}}
	for _, id := range knownAuthorities {
		f.Authorities = append(f.Authorities, views.AuthorityInput{ID: id, Checked: true})
	}
	return f
}

func (h *Handler) newConsentPage(w http.ResponseWriter, r *http.Request) {
	f := h.defaultConsentForm()
	if id, err := strconv.ParseInt(r.URL.Query().Get("renew"), 10, 64); err == nil && id > 0 {
		old, err := h.app.Consents.Consent(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			h.notFound(w, r)
			return
		}
		if err != nil {
			h.serverError(w, r, errorf("renew consent", err))
			return
		}
		f.RenewsID, f.Recurring, f.Frequency = old.ID, old.Recurring, strconv.Itoa(old.FrequencyPerDay)
		for i := range f.Authorities {
			f.Authorities[i].Checked = false
			for _, a := range old.Authorities {
				if a.ID == f.Authorities[i].ID {
					f.Authorities[i] = views.AuthorityInput{ID: a.ID, AttrName: a.AttributeName, Attr: a.Attribute, Checked: true}
				}
			}
		}
	}
	h.render(w, r, http.StatusOK, views.ConsentFormPage(f))
}

// parseConsentForm reads the form as typed and, where it can be read, the
// request it asks for; errors are messages next to their fields.
func parseConsentForm(r *http.Request, lang i18n.Lang, now time.Time) (views.ConsentForm, garanti.ConsentRequest) {
	f := views.ConsentForm{Errors: views.Errors{},
		ValidationDate: strings.TrimSpace(r.PostFormValue("validation_date")), Frequency: strings.TrimSpace(r.PostFormValue("frequency")),
		TranBegin: strings.TrimSpace(r.PostFormValue("tran_begin")), TranEnd: strings.TrimSpace(r.PostFormValue("tran_end"))}
	if raw := strings.TrimSpace(r.PostFormValue("renews")); raw != "" {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
			f.RenewsID = id
		} else {
			f.Errors["renews"] = lang.T("garanti.consent.renews.invalid")
		}
	}
	var req garanti.ConsentRequest
	switch r.PostFormValue("recurring") {
	case "true":
		f.Recurring, req.Recurring = true, true
	case "false":
	default:
		f.Errors["recurring"] = lang.T("garanti.valid.recurring")
	}
	date := func(field, val string) time.Time {
		t, err := i18n.ParseDate(val)
		if err != nil {
			f.Errors[field] = lang.T("garanti.valid.date")
		}
		return t
	}
	req.ValidationDate = date("validation_date", f.ValidationDate)
	req.TranBeginDate = date("tran_begin", f.TranBegin)
	req.TranEndDate = date("tran_end", f.TranEnd)
	if n, err := strconv.Atoi(f.Frequency); err != nil {
		f.Errors["frequency"] = lang.T("garanti.valid.frequency", garanti.MaxFrequencyPerDay)
	} else {
		req.FrequencyPerDay = n
	}
	chosen := map[string]bool{}
	for _, id := range r.PostForm["authority"] {
		chosen[id] = true
	}
	fieldOf := map[int]string{}
	for _, id := range knownAuthorities {
		a := views.AuthorityInput{ID: id, Checked: chosen[id], AttrName: strings.TrimSpace(r.PostFormValue("attr_name_" + id)),
			Attr: strings.TrimSpace(r.PostFormValue("attr_" + id))}
		f.Authorities = append(f.Authorities, a)
		if a.Checked {
			fieldOf[len(req.Authorities)] = id
			req.Authorities = append(req.Authorities, garanti.Authority{ID: id, AttributeName: a.AttrName, Attribute: a.Attr})
		}
	}
	for _, fe := range garanti.ValidateConsentRequest(req, now) {
		field := map[string]string{"ValidationDate": "validation_date", "FrequencyPerDay": "frequency",
			"TranBeginDate": "tran_begin", "TranEndDate": "tran_end"}[fe.Field]
		if fe.Field == "Authorities" {
			field = "authorities"
			if id, ok := fieldOf[fe.Index]; ok {
				switch fe.Code {
				case "E010", "E012":
					field = "attr_name_" + id
				case "E011", "E013":
					field = "attr_" + id
				}
			}
		}
		if _, taken := f.Errors[field]; !taken {
			f.Errors[field] = lang.T("garanti.code." + fe.Code)
		}
	}
	return f, req
}

// createConsent asks the bank for a consent and sends the browser to the
// bank's approval page with a one-time state bound to this session and a
// PKCE challenge.
func (h *Handler) createConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	f, req := parseConsentForm(r, lang, h.now())
	if err := h.checkRenews(ctx, lang, &f); err != nil {
		h.serverError(w, r, errorf("create consent", err))
		return
	}
	textErrors(r, f.Errors)
	if len(f.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.ConsentFormPage(f))
		return
	}
	cl, configured, err := h.garantiClient(ctx)
	if err != nil {
		h.serverError(w, r, errorf("create consent", err))
		return
	}
	if !configured {
		f.Error, f.SetupLink = lang.T("garanti.setup.needed"), true
		h.render(w, r, http.StatusConflict, views.ConsentFormPage(f))
		return
	}
	binding, err := h.garantiBinding(w, r, true)
	if err != nil {
		h.serverError(w, r, errorf("create consent", err))
		return
	}
	verifier, challenge := garanti.NewPKCE()
	state := garanti.NewState()
	cc, err := cl.CreateConsent(ctx, req, state, challenge)
	if garanti.IsUnauthorized(err) && !currentUser(ctx).Role.AtLeast(store.RoleAdmin) {
		// The bank refused the application's credentials. Correcting them
		// or registering the application again is an admin's task (the
		// setup page is admin-only), so an operator is asked to fetch one;
		// an admin gets the bank's reason and a link to the setup page.
		h.log.Warn("create consent: the bank refused the application's credentials", "request_id", requestID(ctx), "err", err)
		f.Error = lang.T("garanti.setup.reregister.ask")
		h.render(w, r, http.StatusBadGateway, views.ConsentFormPage(f))
		return
	}
	if err != nil {
		h.log.Warn("create consent", "request_id", requestID(ctx), "err", err)
		f.Error, f.SetupLink = explain(r, err), garanti.IsUnauthorized(err)
		h.render(w, r, http.StatusBadGateway, views.ConsentFormPage(f))
		return
	}
	base, err := h.garantiBase(ctx)
	if err != nil {
		h.serverError(w, r, errorf("create consent", err))
		return
	}
	href, perr := url.Parse(cc.SCAHref)
	linkOK := perr == nil && bankLinkAllowed(base, href)
	var auths []consents.Authority
	for _, a := range req.Authorities {
		auths = append(auths, consents.Authority{ID: a.ID, AttributeName: a.AttributeName, Attribute: a.Attribute})
	}
	id, err := h.app.Consents.Create(ctx, consents.NewConsent{ConsentID: cc.ConsentID, RawStatus: cc.Status,
		Status: string(garanti.MapStatus(cc.Status)), Recurring: req.Recurring, ValidationDate: req.ValidationDate,
		FrequencyPerDay: req.FrequencyPerDay, TranBegin: req.TranBeginDate, TranEnd: req.TranEndDate, Authorities: auths,
		RenewsID: f.RenewsID, CreationEndTime: cc.CreationEndTime, CreatedBy: currentUser(ctx).ID,
		State: state, Binding: binding, Verifier: verifier, StateExpires: h.now().Add(stateLifetime)})
	if err != nil {
		h.serverError(w, r, errorf("create consent", err))
		return
	}
	if !linkOK {
		// The consent exists at the bank but its approval link is not
		// followed: it is kept, cancelled in the product with the reason,
		// and lapses at the bank's approval deadline. The form keeps what
		// was typed.
		where := ""
		if href != nil {
			where = href.Scheme + "://" + href.Host
		}
		h.log.Error("create consent: bank link points elsewhere", "request_id", requestID(ctx), "consent", cc.ConsentID, "link", where)
		if err := h.app.Consents.CancelPending(ctx, id, currentUser(ctx).ID, "badlink", "approval link "+where); err != nil {
			h.log.Error("create consent: cancel", "request_id", requestID(ctx), "err", err)
		}
		f.Error = lang.T("garanti.consent.badlink")
		h.render(w, r, http.StatusBadGateway, views.ConsentFormPage(f))
		return
	}
	http.Redirect(w, r, href.String(), http.StatusSeeOther)
}

// checkRenews checks the consent a renewal form names (a hidden field a
// user can alter): it must exist and not have been renewed already. When it
// fails, the message stands over the form and the form no longer renews, so
// sending it again creates a plain new consent with what was typed.
func (h *Handler) checkRenews(ctx context.Context, lang i18n.Lang, f *views.ConsentForm) error {
	if f.RenewsID == 0 {
		return nil
	}
	old, err := h.app.Consents.Consent(ctx, f.RenewsID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case old.SupersededBy == nil:
		return nil
	}
	f.Errors["renews"] = lang.T("garanti.consent.renews.invalid")
	f.RenewsID = 0
	return nil
}

// loadConsent reads the consent named in the path, answering 404 itself.
func (h *Handler) loadConsent(w http.ResponseWriter, r *http.Request) (consents.Consent, bool) {
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return consents.Consent{}, false
	}
	c, err := h.app.Consents.Consent(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return c, false
	}
	if err != nil {
		h.serverError(w, r, errorf("consent", err))
		return c, false
	}
	return c, true
}

// consentView reads the page of the consent named in the path in one
// statement, answering 404 or 500 itself.
func (h *Handler) consentView(w http.ResponseWriter, r *http.Request) (views.ConsentView, bool) {
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return views.ConsentView{}, false
	}
	now := h.now()
	p, err := h.app.Consents.View(r.Context(), id, now, 20)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return views.ConsentView{}, false
	}
	if err != nil {
		h.serverError(w, r, errorf("consent", err))
		return views.ConsentView{}, false
	}
	return views.ConsentView{C: p.Consent, Products: p.Products, Used: p.Used, Next: p.Consent.NextCall(p.Used, now), Now: now,
		Trail: p.Trail, Revocations: p.Revocations}, true
}

func (h *Handler) consentPage(w http.ResponseWriter, r *http.Request) {
	v, ok := h.consentView(w, r)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, views.ConsentPage(v))
}
