package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"kasa/i18n"
	"kasa/jobs"
	"kasa/store"
	"kasa/views"
)

// bankAccountsPage lists the VakıfBank accounts; everyone may read it,
// operators may sync, admins register.
func (h *Handler) bankAccountsPage(w http.ResponseWriter, r *http.Request) {
	accounts, err := h.store.BankAccounts(r.Context())
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
	number, msg := normaliseAccountNumber(lang, form.Number)
	if msg != "" {
		form.Errors["number"] = msg
	}
	textErrors(r, form.Errors)
	switch {
	case form.Name == "":
		form.Errors["name"] = lang.T("valid.bankacct.name.required")
	case utf8.RuneCountInString(form.Name) > 100:
		form.Errors["name"] = lang.T("valid.bankacct.name.long")
	}
	if !slices.Contains(store.BankCurrencies, form.Currency) {
		form.Errors["currency"] = lang.T("valid.bankacct.currency")
	}
	if len(form.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(withSandbox(form, h.sandboxAccounts())))
		return
	}
	a, err := h.store.CreateBankAccount(ctx, store.NewBankAccount{Number: number, Name: form.Name, Currency: form.Currency, CreatedBy: admin.ID})
	if errors.Is(err, store.ErrConflict) {
		form.Errors["number"] = lang.T("valid.bankacct.number.taken")
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(withSandbox(form, h.sandboxAccounts())))
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("create bank account", err))
		return
	}
	now := h.now()
	if _, err := jobs.RequestMovementSync(ctx, h.store, a.ID, a.IncrementalFrom(now, jobs.MovementOverlap, jobs.InitialSyncDays), now, "initial", admin.ID); err != nil {
		h.serverError(w, r, errorf("create bank account: first sync", err))
		return
	}
	h.kick()
	h.flash(w, r, "success", lang.T("bankacct.created", a.Name, jobs.InitialSyncDays))
	h.redirect(w, r, "/movements/accounts")
}

// normaliseAccountNumber accepts the number as people copy it (with
// spaces or dashes) and returns its 17 digits, or a message saying what is
// wrong with it.
func normaliseAccountNumber(lang i18n.Lang, s string) (string, string) {
	if s == "" {
		return "", lang.T("valid.bankacct.number.required")
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '\u00a0':
		default:
			return "", lang.T("valid.bankacct.number.digits")
		}
	}
	if n := b.Len(); n != 17 {
		return "", lang.T("valid.bankacct.number.length", n)
	}
	return b.String(), ""
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
	a, err := h.store.BankAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("sync bank account", err))
		return
	}
	const back = "/movements/accounts"
	if a.Pending {
		h.flash(w, r, "info", lang.T("bankacct.sync.busy", a.Name))
		h.redirect(w, r, back)
		return
	}
	now := h.now()
	run, err := jobs.RequestMovementSync(ctx, h.store, a.ID, a.IncrementalFrom(now, jobs.MovementOverlap, jobs.InitialSyncDays), now, "manual", currentUser(ctx).ID)
	if err != nil {
		h.serverError(w, r, errorf("sync bank account", err))
		return
	}
	h.kick()
	latest, err := h.waitForSync(ctx, run)
	if err != nil {
		h.serverError(w, r, errorf("sync bank account", err))
		return
	}
	switch latest.State {
	case store.SyncDone:
		h.flash(w, r, "success", lang.T("bankacct.sync.done", a.Name, latest.Fetched, latest.Inserted))
	case store.SyncFailed:
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
