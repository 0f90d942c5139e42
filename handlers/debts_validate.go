package handlers

import (
	"context"
	"time"

	"kasa/debts"
	"kasa/i18n"
	"kasa/views"
)

// formDate writes a calendar day the way the form reads it back: Turkish
// users write 21.11.2026; in English the unambiguous ISO form.
func formDate(l i18n.Lang, t time.Time) string {
	if l == i18n.TR {
		return t.Format("02.01.2006")
	}
	return t.Format(time.DateOnly)
}

// validateDebt checks the form through the debts area and words each
// problem in the user's language.
func (h *Handler) validateDebt(ctx context.Context, l i18n.Lang, v map[string]string, id int64) (debts.DebtInput, views.Errors, error) {
	in, problems, err := h.app.Debts.Validate(ctx, l, v, id)
	errs := views.Errors{}
	for field, p := range problems {
		errs[field] = l.T(p.Code, p.Args...)
	}
	return in, errs, err
}
