package handlers

import (
	"net/http"

	"kasa/debts"
	"kasa/views"
)

// debtTrail is how many history entries a debt's page shows.
const debtTrail = 100

// debtPage shows a debt with its history (who changed what, from the audit
// log) and the API calls of each delivery (by their request ids).
func (h *Handler) debtPage(w http.ResponseWriter, r *http.Request) {
	var v debts.DebtDetail
	if !h.loadDebtWith(w, r, "debt", func(id int64) (err error) {
		v, err = h.app.Debts.DebtDetailView(r.Context(), id, debtTrail)
		return err
	}) {
		return
	}
	h.render(w, r, http.StatusOK, views.DebtDetailPage(views.DebtDetailView{
		Debt: v.Debt, Trail: v.Trail, Deliveries: v.Deliveries, CanEdit: canEditDebts(r.Context()), Today: h.today(),
	}))
}
