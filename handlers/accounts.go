package handlers

import (
	"errors"
	"net/http"
	"strings"

	"kasa/i18n"
	"kasa/movements"
	"kasa/store"
	"kasa/views"
)

// bankAccountsPage lists the VakıfBank accounts; everyone may read it,
// operators may sync, admins register.
func (h *Handler) bankAccountsPage(w http.ResponseWriter, r *http.Request) {
	accounts, err := h.app.Movements.BankAccounts(r.Context())
	if err != nil {
		h.serverError(w, r, errorf("bank accounts", err))
		return
	}
	canSync := currentUser(r.Context()).Role.AtLeast(store.RoleOperator)
	h.render(w, r, http.StatusOK, views.BankAccountsPage(accounts, canSync))
}

func (h *Handler) newBankAccountPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, views.NewBankAccountPage(views.BankAccountForm{Currency: "TRY", Sandbox: h.sandboxAccounts()}))
}

// sandboxAccounts names the accounts the fake bank knows, in sandbox mode.
func (h *Handler) sandboxAccounts() []string {
	if sb := h.conn.Sandbox(); sb != nil {
		return sb.VakifBankAccounts()
	}
	return nil
}

// createBankAccount registers an account and fetches its recent history in
// the background; the list shows how that went.
func (h *Handler) createBankAccount(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	admin := currentUser(ctx)
	form := views.BankAccountForm{
		Number:   strings.TrimSpace(r.PostFormValue("number")),
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Currency: r.PostFormValue("currency"),
		Errors:   views.Errors{},
	}
	n := movements.NewBankAccount{Number: form.Number, Name: form.Name, Currency: form.Currency, CreatedBy: admin.ID}
	accountErrors(lang, movements.ValidateAccount(&n), form.Errors)
	textErrors(r, form.Errors)
	if len(form.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(withSandbox(form, h.sandboxAccounts())))
		return
	}
	a, err := h.app.Movements.RegisterAccount(ctx, n)
	var invalid *movements.ValidationError
	if errors.As(err, &invalid) {
		accountErrors(lang, invalid.Problems, form.Errors)
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(withSandbox(form, h.sandboxAccounts())))
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("create bank account", err))
		return
	}
	h.flash(w, r, "success", lang.T("bankacct.created", a.Name, movements.InitialSyncDays))
	h.redirect(w, r, "/movements/accounts")
}

// accountErrors puts the area's problems with an account into errs, in
// the user's language.
func accountErrors(lang i18n.Lang, p movements.Problems, errs views.Errors) {
	for field, pr := range p {
		errs[field] = lang.T("valid.bankacct."+pr.Code, pr.Args...)
	}
}

// syncBankAccount brings one account up to date now, as the hourly
// schedule would, and waits briefly to report the outcome.
func (h *Handler) syncBankAccount(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return
	}
	const back = "/movements/accounts"
	a, run, err := h.app.Movements.SyncAccount(ctx, id, currentUser(ctx).ID)
	switch {
	case errors.Is(err, movements.ErrNotFound):
		h.notFound(w, r)
		return
	case errors.Is(err, movements.ErrSyncBusy):
		h.flash(w, r, "info", lang.T("bankacct.sync.busy", a.Name))
		h.redirect(w, r, back)
		return
	case err != nil:
		h.serverError(w, r, errorf("sync bank account", err))
		return
	}
	latest, err := h.waitForSync(ctx, run)
	if err != nil {
		h.serverError(w, r, errorf("sync bank account", err))
		return
	}
	switch latest.State {
	case movements.SyncDone:
		h.flash(w, r, "success", lang.T("bankacct.sync.done", a.Name, latest.Fetched, latest.Inserted))
	case movements.SyncFailed:
		h.flash(w, r, "error", lang.T("mov.sync.failed")+" "+views.SyncProblem(ctx, latest.ErrorCode))
	default:
		h.flash(w, r, "info", lang.T("bankacct.sync.queued", a.Name))
	}
	h.redirect(w, r, back)
}

func withSandbox(f views.BankAccountForm, accounts []string) views.BankAccountForm {
	f.Sandbox = accounts
	return f
}
