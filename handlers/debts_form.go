package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"kasa/debts"
	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

// debtValues reads the form's fields as typed.
func debtValues(r *http.Request) map[string]string {
	v := map[string]string{}
	for _, f := range views.DebtFields {
		v[f] = r.PostFormValue(f)
	}
	return v
}

// valuesOf fills the form from a stored debt.
func valuesOf(l i18n.Lang, d debts.Debt) map[string]string {
	return map[string]string{
		"agentErpCode": d.AgentErpCode, "currentAccountErpCode": d.CurrentAccountErpCode,
		"amount": l.Number(d.Amount, 2), "paidAmount": l.Number(d.PaidAmount, 2),
		"documentNo": d.DocumentNo, "documentType": d.DocumentType,
		"dueDate": formDate(l, d.DueDate), "transactionDate": formDate(l, d.TransactionDate),
		"currencyId": d.CurrencyID, "erpCode": d.ErpCode, "description": d.Description,
	}
}

// debtForm builds the form model with the active references among refs
// as the choices.
func debtForm(d *debts.Debt, values map[string]string, errs views.Errors, refs []debts.DebtRef) views.DebtForm {
	f := views.DebtForm{Debt: d, Values: values, Errors: errs}
	for _, r := range refs {
		switch {
		case !r.Active:
		case r.Kind == debts.RefAgent:
			f.Agents = append(f.Agents, r)
		case r.Kind == debts.RefAccount:
			f.Accounts = append(f.Accounts, r)
		case r.Kind == debts.RefCurrency:
			f.Currencies = append(f.Currencies, r.Code)
		}
	}
	return f
}

// renderDebtForm shows the form again after a post, with the references
// read afresh.
func (h *Handler) renderDebtForm(w http.ResponseWriter, r *http.Request, status int, d *debts.Debt, values map[string]string, errs views.Errors, notice string) {
	refs, err := h.app.Debts.AllDebtRefs(r.Context())
	if err != nil {
		h.serverError(w, r, errorf("debt form", err))
		return
	}
	f := debtForm(d, values, errs, refs)
	f.Notice = notice
	h.render(w, r, status, views.DebtFormPage(f))
}

func (h *Handler) newDebtPage(w http.ResponseWriter, r *http.Request) {
	code, err := h.app.Debts.NewErpCode(r.Context())
	if err != nil {
		h.serverError(w, r, errorf("new debt", err))
		return
	}
	refs, err := h.app.Debts.AllDebtRefs(r.Context())
	if err != nil {
		h.serverError(w, r, errorf("new debt", err))
		return
	}
	l := i18n.FromContext(r.Context())
	today := formDate(l, h.today())
	values := map[string]string{"erpCode": code, "currencyId": "TRY", "transactionDate": today, "dueDate": today}
	h.render(w, r, http.StatusOK, views.DebtFormPage(debtForm(nil, values, views.Errors{}, refs)))
}

// createDebt validates the form, stores the debt and its delivery job in
// one transaction, and shows Finrota's answer if it comes within JobWait.
func (h *Handler) createDebt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	u := currentUser(ctx)
	values := debtValues(r)
	in, errs, err := h.validateDebt(ctx, l, values, 0)
	if err != nil {
		h.serverError(w, r, errorf("create debt", err))
		return
	}
	textErrors(r, errs)
	if len(errs) > 0 {
		h.renderDebtForm(w, r, http.StatusUnprocessableEntity, nil, values, errs, "")
		return
	}
	d, err := h.app.Debts.Create(ctx, in, u.ID)
	if errors.Is(err, store.ErrConflict) {
		errs["erpCode"] = l.T("debts.v.erp.taken")
		h.renderDebtForm(w, r, http.StatusUnprocessableEntity, nil, values, errs, "")
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("create debt", err))
		return
	}
	h.awaitDelivery(w, r, d, values, "debts.created")
}

// awaitDelivery wakes the runner, waits up to JobWait for the intent's
// outcome and shows it: delivered or pending on the debt's page (which
// polls), failed on the form with Finrota's reasons at their fields.
func (h *Handler) awaitDelivery(w http.ResponseWriter, r *http.Request, d debts.Debt, values map[string]string, doneKey string) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	if d.JobID == nil {
		if fresh, err := h.app.Debts.Debt(ctx, d.ID); err == nil {
			d = fresh
		}
	}
	if d.JobID != nil {
		h.waitDebtJob(ctx, *d.JobID)
	}
	fresh, err := h.app.Debts.Debt(ctx, d.ID)
	if err != nil {
		h.serverError(w, r, errorf("debt outcome", err))
		return
	}
	switch {
	case fresh.Version != d.Version:
		h.redirect(w, r, debtPath(d.ID)) // edited again meanwhile
	case fresh.State == debts.DebtDelivered:
		h.flash(w, r, "success", l.T(doneKey))
		h.redirect(w, r, debtPath(d.ID))
	case fresh.State == debts.DebtFailed:
		errs, general := views.DebtProviderErrors(l, fresh)
		notice := l.T("debts.failed")
		if general != "" {
			notice += " " + general
		}
		h.renderDebtForm(w, r, http.StatusUnprocessableEntity, &fresh, values, errs, notice)
	default:
		h.flash(w, r, "info", l.T("debts.pending"))
		h.redirect(w, r, debtPath(d.ID))
	}
}

func debtPath(id int64) string { return "/debts/" + strconv.FormatInt(id, 10) }

func (h *Handler) editDebtPage(w http.ResponseWriter, r *http.Request) {
	var d debts.Debt
	var refs []debts.DebtRef
	if !h.loadDebtWith(w, r, "edit debt", func(id int64) (err error) {
		if d, err = h.app.Debts.Debt(r.Context(), id); err != nil {
			return err
		}
		refs, err = h.app.Debts.AllDebtRefs(r.Context())
		return err
	}) {
		return
	}
	l := i18n.FromContext(r.Context())
	errs, notice := views.Errors{}, ""
	switch d.State {
	case debts.DebtFailed:
		errs, notice = views.DebtProviderErrors(l, d)
	case debts.DebtPending:
		notice = l.T("debts.busy")
	}
	f := debtForm(&d, valuesOf(l, d), errs, refs)
	f.Notice = notice
	h.render(w, r, http.StatusOK, views.DebtFormPage(f))
}

// updateDebt sends an edit (a rename included) through the outbox; for a
// failed debt it is the edit-and-retry.
func (h *Handler) updateDebt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	u := currentUser(ctx)
	cur, ok := h.loadDebt(w, r)
	if !ok {
		return
	}
	values := debtValues(r)
	in, errs, err := h.validateDebt(ctx, l, values, cur.ID)
	if err != nil {
		h.serverError(w, r, errorf("edit debt", err))
		return
	}
	textErrors(r, errs)
	if len(errs) > 0 {
		h.renderDebtForm(w, r, http.StatusUnprocessableEntity, &cur, values, errs, "")
		return
	}
	d, err := h.app.Debts.Edit(ctx, cur.ID, in, u.ID)
	switch {
	case errors.Is(err, store.ErrConflict):
		errs["erpCode"] = l.T("debts.v.erp.taken")
		h.renderDebtForm(w, r, http.StatusUnprocessableEntity, &cur, values, errs, "")
		return
	case errors.Is(err, debts.ErrDebtBusy):
		h.renderDebtForm(w, r, http.StatusConflict, &cur, values, errs, l.T("debts.busy"))
		return
	case err != nil:
		h.serverError(w, r, errorf("edit debt", err))
		return
	}
	h.awaitDelivery(w, r, d, values, "debts.updated")
}

// retryDebt sends a failed debt again as it is.
func (h *Handler) retryDebt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	u := currentUser(ctx)
	cur, ok := h.loadDebt(w, r)
	if !ok {
		return
	}
	d, err := h.app.Debts.Retry(ctx, cur.ID, u.ID)
	if errors.Is(err, debts.ErrDebtBusy) {
		h.flash(w, r, "info", l.T("debts.busy"))
		h.redirect(w, r, debtPath(cur.ID))
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("retry debt", err))
		return
	}
	h.awaitDelivery(w, r, d, valuesOf(l, d), "debts.updated")
}
