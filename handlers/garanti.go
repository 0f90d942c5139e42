package handlers

import "kasa/store"

// garantiRoutes registers the Garanti BBVA consent, OAuth callback and HGS pages.
func (h *Handler) garantiRoutes() {
	h.mux.HandleFunc("GET /consents", h.require(store.RoleViewer, h.comingSoon("nav.consents", "consents")))
	h.mux.HandleFunc("GET /hgs", h.require(store.RoleViewer, h.comingSoon("nav.hgs", "hgs")))
}
