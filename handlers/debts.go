package handlers

import "kasa/store"

// debtRoutes registers the CAT debt pages (Finrota).
func (h *Handler) debtRoutes() {
	h.mux.HandleFunc("GET /debts", h.require(store.RoleViewer, h.comingSoon("nav.debts", "debts")))
}
