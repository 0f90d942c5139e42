package handlers

import (
	"net/http"
	"strings"

	"kasa/i18n"
	"kasa/views"
)

// amountEcho answers an amount field's htmx request with what the typed
// value means in the user's language (= 1.555,00 ₺) or why it is refused,
// so a misread separator shows before anything is saved. It reads nothing
// from the database and changes nothing.
func (h *Handler) amountEcho(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	field := q.Get("field")
	if !isEchoField(field) {
		h.renderError(w, r, http.StatusBadRequest, "error.badrequest")
		return
	}
	currency := strings.ToUpper(strings.TrimSpace(q.Get("currencyId")))
	if len(currency) != 3 {
		currency = "" // not a code yet: echo the number alone
	}
	e := views.EchoAmount(i18n.FromContext(r.Context()), strings.TrimSpace(q.Get(field)), currency)
	h.render(w, r, http.StatusOK, views.AmountEchoFragment(field, e))
}

// isEchoField reports whether name is an amount field that may be echoed:
// the name becomes an element id, so only known names are accepted.
func isEchoField(name string) bool {
	switch name {
	case "amount", "paidAmount":
		return true
	}
	return false
}
