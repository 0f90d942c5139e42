package handlers

import (
	"errors"
	"net/http"

	"kasa/debts"
	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

// checkDebt reads the debt's record at Finrota with the single query (by Id
// or ErpCode) and shows it next to the mirror, with the choice of which
// side is right. It is a POST: it spends one of Finrota's requests, which
// a page view never does.
func (h *Handler) checkDebt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return
	}
	c, err := h.app.Debts.Check(ctx, id)
	if errors.Is(err, store.ErrNotFound) && c.Debt.ID == 0 {
		h.notFound(w, r)
		return
	}
	v := debtCheckView(c)
	v.CanEdit = canEditDebts(ctx)
	if err != nil {
		if c.Debt.ID == 0 {
			h.serverError(w, r, errorf("check debt", err))
			return
		}
		h.log.Warn("debt check", "request_id", requestID(ctx), "debt", id, "err", err)
		v.Error = views.CheckFailure(i18n.FromContext(ctx), debts.SyncFailureCode(err))
	}
	h.render(w, r, http.StatusOK, views.DebtCheckPage(v))
}

// debtCheckView lays the mirror's and Finrota's raw values side by side;
// the differences are decided on them, the page formats them.
func debtCheckView(c debts.Check) views.DebtCheckView {
	v := views.DebtCheckView{Debt: c.Debt, Found: c.Found, By: c.By, Ref: c.Ref, Differences: len(c.Changes),
		OursCurrency: c.Debt.CurrencyID, TheirsCurrency: c.Remote.CurrencyID}
	if !c.Found {
		return v
	}
	ours, theirs := debts.DebtValues(c.Debt), debts.RemoteDebtValues(c.Remote)
	for _, f := range append(append([]string(nil), views.DebtFields...), "isActive") {
		_, differs := c.Changes[f]
		v.Rows = append(v.Rows, views.DebtCheckRow{Field: f, Ours: ours[f], Theirs: theirs[f], Differs: differs})
	}
	return v
}

// takeFinrotaValues makes the mirror hold what Finrota holds for the debt,
// read again at Finrota rather than taken from the form.
func (h *Handler) takeFinrotaValues(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return
	}
	c, err := h.app.Debts.TakeFinrotaValues(ctx, id, currentUser(ctx).ID)
	switch {
	case err == nil:
		h.flash(w, r, "success", l.T("debts.check.taken"))
	case errors.Is(err, store.ErrNotFound) && c.Debt.ID == 0:
		h.notFound(w, r)
		return
	case errors.Is(err, store.ErrNotFound):
		h.flash(w, r, "error", l.T("debts.check.take.notfound"))
	case errors.Is(err, debts.ErrDebtBusy):
		h.flash(w, r, "info", l.T("debts.busy"))
	case errors.Is(err, store.ErrConflict):
		h.flash(w, r, "error", l.T("debts.check.take.conflict"))
	case c.Debt.ID != 0:
		h.log.Warn("debt take finrota values", "request_id", requestID(ctx), "debt", id, "err", err)
		h.flash(w, r, "error", views.CheckFailure(l, debts.SyncFailureCode(err)))
	default:
		h.serverError(w, r, errorf("take finrota values", err))
		return
	}
	h.redirect(w, r, debtPath(id))
}

// resendDebt sends the mirror's values to Finrota again through the outbox.
func (h *Handler) resendDebt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	cur, ok := h.loadDebt(w, r)
	if !ok {
		return
	}
	d, err := h.app.Debts.Resend(ctx, cur.ID, currentUser(ctx).ID)
	if errors.Is(err, debts.ErrDebtBusy) {
		h.flash(w, r, "info", l.T("debts.busy"))
		h.redirect(w, r, debtPath(cur.ID))
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("resend debt", err))
		return
	}
	h.awaitDelivery(w, r, d, valuesOf(l, d), "debts.check.resent")
}
