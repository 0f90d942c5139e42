package handlers

import (
	"net/http"

	"kasa/store"
	"kasa/views"
)

// debtPage shows a debt with its history (who changed what, from the audit
// log) and the API calls of each delivery (by their request ids).
func (h *Handler) debtPage(w http.ResponseWriter, r *http.Request) {
	d, ok := h.loadDebt(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	trail, err := h.store.AuditTrail(ctx, store.DebtSubject(d.ID), 100)
	if err != nil {
		h.serverError(w, r, errorf("debt history", err))
		return
	}
	deliveries, err := h.store.DebtDeliveries(ctx, d.ID)
	if err != nil {
		h.serverError(w, r, errorf("debt deliveries", err))
		return
	}
	h.render(w, r, http.StatusOK, views.DebtDetailPage(views.DebtDetailView{
		Debt: d, Trail: trail, Deliveries: deliveries, CanEdit: canEditDebts(ctx), Today: h.today(),
	}))
}
