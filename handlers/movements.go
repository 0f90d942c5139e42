package handlers

import "kasa/store"

// movementRoutes registers the VakıfBank account and movement pages.
func (h *Handler) movementRoutes() {
	h.mux.HandleFunc("GET /movements", h.require(store.RoleViewer, h.comingSoon("nav.movements", "movements")))
}
