package handlers

import (
	"context"
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

// knownAccountsKey is the setting that lists accounts the bank is known to
// hold ("number (currency)", comma separated), offered on the account
// form: the sandbox fills it with the fake bank's test accounts.
const knownAccountsKey = "vakifbank.known_accounts"

func (h *Handler) newBankAccountPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, views.NewBankAccountPage(h.withKnown(r.Context(), views.BankAccountForm{Currency: "TRY"})))
}

// knownAccounts reads the accounts the form suggests from the settings.
func (h *Handler) knownAccounts(ctx context.Context) ([]string, error) {
	s, err := h.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for a := range strings.SplitSeq(s[knownAccountsKey], ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out, nil
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
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(h.withKnown(ctx, form)))
		return
	}
	a, err := h.app.Movements.RegisterAccount(ctx, n)
	var invalid *movements.ValidationError
	if errors.As(err, &invalid) {
		accountErrors(lang, invalid.Problems, form.Errors)
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(h.withKnown(ctx, form)))
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

// withKnown adds the accounts the form suggests, read from the settings;
// without them the form still works, so a failed read only loses the hint.
func (h *Handler) withKnown(ctx context.Context, f views.BankAccountForm) views.BankAccountForm {
	known, err := h.knownAccounts(ctx)
	if err != nil {
		h.log.Error("new bank account: known accounts", "request_id", requestID(ctx), "err", err)
	}
	f.Known = known
	return f
}
