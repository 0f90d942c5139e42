package handlers

import (
	"context"
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
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(h.withKnown(ctx, form)))
		return
	}
	a, err := h.store.CreateBankAccount(ctx, store.NewBankAccount{Number: number, Name: form.Name, Currency: form.Currency, CreatedBy: admin.ID})
	if errors.Is(err, store.ErrConflict) {
		form.Errors["number"] = lang.T("valid.bankacct.number.taken")
		h.render(w, r, http.StatusUnprocessableEntity, views.NewBankAccountPage(h.withKnown(ctx, form)))
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
