package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"kasa/i18n"
	"kasa/jobs"
	"kasa/providers/garanti"
	"kasa/store"
	"kasa/views"
)

// garantiCallback is where the bank sends the browser back. Only a state
// this session started, unused and younger than ten minutes, is accepted;
// anything else is a 4xx page and changes nothing. With a good state, the
// code is exchanged (with the PKCE verifier) and the consent activated; a
// failure at any step is recorded on the consent, which the user lands on
// with a way to try again.
func (h *Handler) garantiCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		h.renderError(w, r, http.StatusBadRequest, "garanti.callback.nostate")
		return
	}
	binding, _ := h.garantiBinding(w, r, false)
	id, verifier, err := h.store.ConsumeGarantiState(ctx, state, binding)
	switch {
	case errors.Is(err, store.ErrStateUnknown):
		h.renderError(w, r, http.StatusBadRequest, "garanti.callback.unknown")
		return
	case errors.Is(err, store.ErrStateUsed):
		h.renderError(w, r, http.StatusBadRequest, "garanti.callback.used")
		return
	case errors.Is(err, store.ErrStateExpired):
		h.renderError(w, r, http.StatusBadRequest, "garanti.callback.expired")
		return
	case errors.Is(err, store.ErrStateForeign):
		h.log.Warn("garanti callback: state from another session", "request_id", requestID(ctx))
		h.renderError(w, r, http.StatusForbidden, "garanti.callback.foreign")
		return
	case err != nil:
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	c, err := h.store.GarantiConsent(ctx, id)
	if err != nil {
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	back := "/consents/" + strconv.FormatInt(c.ID, 10)
	fail := func(code, detail string) {
		if err := h.store.SetGarantiConsentError(ctx, c.ID, code, detail); err != nil {
			h.log.Error("garanti callback", "request_id", requestID(ctx), "err", err)
		}
		h.flash(w, r, "error", lang.T("garanti.callback.failed")+" "+views.GarantiCodeText(ctx, code))
		h.redirect(w, r, back)
	}
	cl, _, err := h.conn.Garanti(ctx)
	if err != nil {
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	if e := q.Get("error"); e != "" {
		// The bank knows best what became of the consent; a declined one
		// reads as rejected even if the bank cannot be asked now.
		if err := h.garantiWork().RefreshStatus(ctx, cl, c); err != nil && e == "access_denied" {
			if err := h.store.SetGarantiConsentStatus(ctx, c.ID, store.GarantiRejected, c.RawStatus, nil); err != nil {
				h.log.Error("mark consent rejected", "request_id", requestID(ctx), "consent", c.ID, "err", err)
			}
		}
		fail(e, q.Get("error_description"))
		return
	}
	code := q.Get("code")
	if code == "" {
		fail("invalid_request", "no code")
		return
	}
	tok, err := cl.ExchangeCode(ctx, code, verifier)
	if err != nil {
		h.log.Warn("garanti callback: exchange", "request_id", requestID(ctx), "err", err)
		fail(jobs.ErrorCode(err), err.Error())
		return
	}
	if err := h.store.SaveGarantiTokens(ctx, c.ID, store.GarantiToken{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry}); err != nil {
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	if err := h.store.SetGarantiConsentStatus(ctx, c.ID, store.GarantiAuthorised, "K", nil); err != nil {
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	if err := h.activate(ctx, cl, c, tok.AccessToken); err != nil {
		var ge *garanti.Error
		if !errors.As(err, &ge) {
			h.log.Error("garanti callback: activate", "request_id", requestID(ctx), "err", err)
		}
		fail(jobs.ErrorCode(err), err.Error())
		return
	}
	h.flash(w, r, "success", lang.T("garanti.callback.done"))
	h.redirect(w, r, back)
}

// activate calls the product list, which makes the consent active at the
// bank, stores what was granted and starts the first sync.
func (h *Handler) activate(ctx context.Context, cl *garanti.Client, c store.GarantiConsent, access string) error {
	granted, err := cl.ConsentProducts(ctx, c.ConsentID, access)
	if err != nil {
		return err
	}
	var products []store.GarantiConsentProduct
	for _, p := range granted.Products {
		products = append(products, store.GarantiConsentProduct{ProductID: p.ProductID, AuthorityID: p.AuthorityID, Flag: p.Flag})
	}
	if err := h.store.ActivateGarantiConsent(ctx, c.ID, "A", products); err != nil {
		return err
	}
	if _, err := jobs.EnqueueHGSSync(ctx, h.store.DB(), c.ID, false); err != nil {
		return err
	}
	h.kick()
	return nil
}
