package handlers

import (
	"errors"
	"net/http"

	"kasa/consents"
	"kasa/views"
)

// consentAtBank reads the consent at the bank (Consent Read) and shows it
// beside the product's record with the differences highlighted. It spends
// one of the consent's calls for the day, so it is a POST for operators;
// whatever the bank answers, the product's record is shown, and a refusal
// is explained from the catalogue. The page is not stored: each read is a
// fresh call, recorded in the API log.
func (h *Handler) consentAtBank(w http.ResponseWriter, r *http.Request) {
	v, ok := h.consentView(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	bv := views.BankConsentView{ConsentView: v, ReadAt: h.now()}
	bank, err := h.app.Consents.ReadAtBank(ctx, v.C)
	status := http.StatusOK
	switch {
	case err == nil:
		cmp := consents.CompareWithBank(v.C, v.Products, bank)
		bv.Comparison = &cmp
	case errors.Is(err, consents.ErrQuota):
		status = http.StatusTooManyRequests
	case errors.Is(err, consents.ErrNotActive):
		status = http.StatusConflict
	default:
		status = http.StatusBadGateway
	}
	if err != nil {
		h.log.Warn("read consent at the bank", "request_id", requestID(ctx), "consent", v.C.ID, "err", err)
		bv.ErrorCode = consents.ErrorCode(err)
	}
	// The call counted (or was refused for the day): show today's usage as
	// it is now.
	if used, uerr := h.app.Consents.Usage(ctx, v.C.ID, h.now()); uerr == nil {
		bv.Used = used
	} else {
		h.log.Warn("read consent at the bank: usage", "request_id", requestID(ctx), "err", uerr)
	}
	h.render(w, r, status, views.ConsentBankPage(bv))
}
