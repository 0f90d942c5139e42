package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kasa/consents"
	"kasa/i18n"
	"kasa/providers/garanti"
	"kasa/store"
	"kasa/views"
)

func consentPath(c consents.Consent) string { return "/consents/" + strconv.FormatInt(c.ID, 10) }

// refreshConsent asks the bank for the consent's status now.
func (h *Handler) refreshConsent(w http.ResponseWriter, r *http.Request) {
	c, ok := h.loadConsent(w, r)
	if !ok {
		return
	}
	lang := i18n.FromContext(r.Context())
	if err := h.app.Consents.Refresh(r.Context(), c); err != nil {
		h.log.Warn("refresh consent", "request_id", requestID(r.Context()), "err", err)
		h.flash(w, r, "error", explain(r, err))
	} else {
		h.flash(w, r, "success", lang.T("garanti.consent.refreshed"))
	}
	h.redirect(w, r, consentPath(c))
}

// activateConsent retries the product list call after it failed in the
// callback, with the tokens already obtained.
func (h *Handler) activateConsent(w http.ResponseWriter, r *http.Request) {
	c, ok := h.loadConsent(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	if err := h.app.Consents.Activate(ctx, c); err != nil {
		h.log.Warn("activate consent", "request_id", requestID(ctx), "err", err)
		h.flash(w, r, "error", explain(r, err))
	} else {
		h.flash(w, r, "success", lang.T("garanti.callback.done"))
	}
	h.redirect(w, r, consentPath(c))
}

// revokeChoice reads and checks a revoke request: the mode and the
// authority and product it needs, which must belong to the consent.
func revokeChoice(r *http.Request, lang i18n.Lang, v views.ConsentView) (views.RevokeView, []garanti.DeleteItem) {
	rv := views.RevokeView{ConsentView: v, Errors: views.Errors{},
		Mode: r.FormValue("mode"), AuthorityID: strings.TrimSpace(r.FormValue("authority")), ProductID: strings.TrimSpace(r.FormValue("product"))}
	known := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	var auths []string
	for _, a := range v.C.Authorities {
		auths = append(auths, a.ID)
	}
	needAuth, needProduct := false, false
	switch rv.Mode {
	case "all":
	case "authority":
		needAuth = true
	case "product":
		needProduct = true
	case "both":
		needAuth, needProduct = true, true
	default:
		rv.Errors["mode"] = lang.T("garanti.revoke.mode.invalid")
	}
	if !needAuth {
		rv.AuthorityID = ""
	} else if !known(auths, rv.AuthorityID) {
		rv.Errors["authority"] = lang.T("garanti.revoke.authority.invalid")
	}
	if !needProduct {
		rv.ProductID = ""
	} else if !known(v.ProductIDs(), rv.ProductID) {
		rv.Errors["product"] = lang.T("garanti.revoke.product.invalid")
	}
	if len(rv.Errors) > 0 || rv.Mode == "all" {
		return rv, nil
	}
	return rv, []garanti.DeleteItem{{AuthorityID: rv.AuthorityID, ProductID: rv.ProductID}}
}

// revokeConsentPage is the confirmation step of a revoke.
func (h *Handler) revokeConsentPage(w http.ResponseWriter, r *http.Request) {
	v, ok := h.consentView(w, r)
	if !ok {
		return
	}
	rv, _ := revokeChoice(r, i18n.FromContext(r.Context()), v)
	status := http.StatusOK
	if len(rv.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	h.render(w, r, status, views.RevokeConfirmPage(rv))
}

// revokeConsent withdraws the whole consent, an authority, a product, or an
// authority of a product at the bank, once confirmed.
func (h *Handler) revokeConsent(w http.ResponseWriter, r *http.Request) {
	v, ok := h.consentView(w, r)
	if !ok {
		return
	}
	c := v.C
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	rv, _ := revokeChoice(r, lang, v)
	if len(rv.Errors) > 0 || r.PostFormValue("confirm") != "yes" {
		if len(rv.Errors) == 0 {
			rv.Errors["confirm"] = lang.T("garanti.revoke.unconfirmed")
		}
		h.render(w, r, http.StatusUnprocessableEntity, views.RevokeConfirmPage(rv))
		return
	}
	u := currentUser(ctx)
	if !c.HasTokens && (c.Status == consents.Awaiting || c.Status == consents.Authorised) {
		// Never approved: the bank's delete needs the customer's token, which
		// this consent does not have. It is cancelled here and lapses at the
		// bank's approval deadline.
		if rv.Mode != "all" {
			rv.Errors["mode"] = lang.T("garanti.revoke.pending.whole")
			h.render(w, r, http.StatusUnprocessableEntity, views.RevokeConfirmPage(rv))
			return
		}
		err := h.app.Consents.CancelPending(ctx, c.ID, u.ID, "", "")
		switch {
		case errors.Is(err, store.ErrConflict):
			h.flash(w, r, "error", lang.T("garanti.revoke.changed"))
		case err != nil:
			h.serverError(w, r, errorf("revoke consent", err))
			return
		default:
			h.flash(w, r, "success", lang.T("garanti.revoke.cancelled"))
		}
		h.redirect(w, r, consentPath(c))
		return
	}
	// The withdrawal and its delivery job are stored together (the outbox):
	// if the bank is down it stays pending and is retried, never lost.
	revID, jobID, err := h.app.Consents.Revoke(ctx, consents.RevocationRequest{ConsentID: c.ID, Mode: rv.Mode,
		AuthorityID: rv.AuthorityID, ProductID: rv.ProductID, RequestedBy: &u.ID})
	if err != nil {
		h.serverError(w, r, errorf("revoke consent", err))
		return
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.JobWait)
	if _, err := h.app.Consents.Wait(wctx, jobID); err != nil && wctx.Err() == nil {
		h.log.Warn("wait for job", "request_id", requestID(ctx), "job", jobID, "err", err)
	}
	cancel()
	rev, err := h.app.Consents.Revocation(ctx, revID)
	if err != nil {
		h.serverError(w, r, errorf("revoke consent", err))
		return
	}
	switch rev.State {
	case consents.RevocationFailed:
		h.flash(w, r, "error", lang.T("garanti.revoke.failed")+" "+views.GarantiCodeText(ctx, rev.LastErrorCode))
		h.redirect(w, r, consentPath(c))
		return
	case consents.RevocationPending:
		h.flash(w, r, "info", lang.T("garanti.revoke.pending"))
		h.redirect(w, r, consentPath(c))
		return
	}
	h.flash(w, r, "success", lang.T("garanti.revoke.done"))
	h.redirect(w, r, consentPath(c))
}
