package handlers

import "kasa/store"

// routes registers every route. Method patterns make the mux answer 405 to
// a wrong method; each handler that needs a role says so here.
func (h *Handler) routes() {
	m := h.mux
	viewer, admin := store.RoleViewer, store.RoleAdmin

	m.HandleFunc("GET /healthz", h.healthz)
	m.HandleFunc("GET /readyz", h.readyz)
	m.HandleFunc("GET /metrics", h.publicMetrics())
	m.Handle("GET /static/", h.assets)

	m.HandleFunc("GET /login", h.loginPage)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("POST /logout", h.logout)
	m.HandleFunc("GET /setup", h.setupPage)
	m.HandleFunc("POST /setup", h.setup)
	m.HandleFunc("POST /lang", h.setLanguage)

	m.HandleFunc("GET /{$}", h.require(viewer, h.dashboard))
	m.HandleFunc("GET /account", h.require(viewer, h.accountPage))
	m.HandleFunc("POST /account/password", h.require(viewer, h.changePassword))
	m.HandleFunc("POST /account/preferences", h.require(viewer, h.savePreferences))
	m.HandleFunc("GET /amount/echo", h.require(viewer, h.amountEcho))

	h.debtRoutes()
	h.garantiRoutes()
	h.movementRoutes()

	m.HandleFunc("GET /apilog", h.require(viewer, h.apiLogPage))

	m.HandleFunc("GET /users", h.require(admin, h.usersPage))
	m.HandleFunc("GET /users/new", h.require(admin, h.newUserPage))
	m.HandleFunc("POST /users", h.require(admin, h.createUser))
	m.HandleFunc("GET /users/{id}", h.require(admin, h.userPage))
	m.HandleFunc("POST /users/{id}/role", h.require(admin, h.userAction("role")))
	m.HandleFunc("POST /users/{id}/disable", h.require(admin, h.userAction("disable")))
	m.HandleFunc("POST /users/{id}/enable", h.require(admin, h.userAction("enable")))
	m.HandleFunc("POST /users/{id}/reset", h.require(admin, h.userAction("reset")))

	m.HandleFunc("GET /settings", h.require(admin, h.settingsPage))
	m.HandleFunc("POST /settings", h.require(admin, h.saveSettings))

	m.HandleFunc("GET /jobs", h.require(admin, h.jobsPage))
	m.HandleFunc("POST /jobs/{id}/retry", h.require(admin, h.jobAction(true)))
	m.HandleFunc("POST /jobs/{id}/cancel", h.require(admin, h.jobAction(false)))

	m.HandleFunc("/", h.notFound)
}
