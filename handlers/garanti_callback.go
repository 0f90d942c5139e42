package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"kasa/consents"
	"kasa/i18n"
	"kasa/providers/garanti"
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
	id, verifier, err := h.app.Consents.ConsumeState(ctx, state, binding)
	switch {
	case errors.Is(err, consents.ErrStateUnknown):
		h.renderError(w, r, http.StatusBadRequest, "garanti.callback.unknown")
		return
	case errors.Is(err, consents.ErrStateUsed):
		h.renderError(w, r, http.StatusBadRequest, "garanti.callback.used")
		return
	case errors.Is(err, consents.ErrStateExpired):
		h.renderError(w, r, http.StatusBadRequest, "garanti.callback.expired")
		return
	case errors.Is(err, consents.ErrStateForeign):
		h.log.Warn("garanti callback: state from another session", "request_id", requestID(ctx))
		h.renderError(w, r, http.StatusForbidden, "garanti.callback.foreign")
		return
	case err != nil:
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	c, err := h.app.Consents.Consent(ctx, id)
	if err != nil {
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	back := "/consents/" + strconv.FormatInt(c.ID, 10)
	fail := func(code, detail string) {
		if err := h.app.Consents.Fail(ctx, c, code, detail); err != nil {
			h.log.Error("garanti callback", "request_id", requestID(ctx), "err", err)
		}
		h.flash(w, r, "error", lang.T("garanti.callback.failed")+" "+views.GarantiCodeText(ctx, code))
		h.redirect(w, r, back)
	}
	if e := q.Get("error"); e != "" {
		// The bank knows best what became of the consent; a declined one
		// reads as rejected even if the bank cannot be asked now.
		if err := h.app.Consents.Declined(ctx, c, e, q.Get("error_description")); err != nil {
			h.serverError(w, r, errorf("garanti callback", err))
			return
		}
		h.flash(w, r, "error", lang.T("garanti.callback.failed")+" "+views.GarantiCodeText(ctx, e))
		h.redirect(w, r, back)
		return
	}
	code := q.Get("code")
	if code == "" {
		fail("invalid_request", "no code")
		return
	}
	bankErr, err := h.app.Consents.Approve(ctx, c, code, verifier)
	if err != nil {
		h.serverError(w, r, errorf("garanti callback", err))
		return
	}
	if bankErr != nil {
		var ge *garanti.Error
		if !errors.As(bankErr, &ge) {
			h.log.Error("garanti callback", "request_id", requestID(ctx), "err", bankErr)
		} else {
			h.log.Warn("garanti callback", "request_id", requestID(ctx), "err", bankErr)
		}
		fail(consents.ErrorCode(bankErr), bankErr.Error())
		return
	}
	h.flash(w, r, "success", lang.T("garanti.callback.done"))
	h.redirect(w, r, back)
}
