package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"kasa/i18n"
	"kasa/movements"
	"kasa/store"
	"kasa/views"
)

// movementsPageSize is how many movements one page lists.
const movementsPageSize = 50

// movementBreaksShown is how many balance breaks the page lists.
const movementBreaksShown = 50

// movementRoutes registers the VakıfBank account and movement pages.
func (h *Handler) movementRoutes() {
	viewer, operator, admin := store.RoleViewer, store.RoleOperator, store.RoleAdmin
	h.mux.HandleFunc("GET /movements", h.require(viewer, h.movementsPage))
	h.mux.HandleFunc("POST /movements/fetch", h.require(operator, h.fetchMovements))
	h.mux.HandleFunc("POST /movements/refetch", h.require(operator, h.refetchMovements))
	h.mux.HandleFunc("GET /movements/export.csv", h.require(viewer, h.exportMovements))
	h.mux.HandleFunc("GET /movements/sync/{id}", h.require(viewer, h.movementSyncStatus))
	h.mux.HandleFunc("GET /movements/accounts", h.require(viewer, h.bankAccountsPage))
	h.mux.HandleFunc("GET /movements/accounts/new", h.require(admin, h.newBankAccountPage))
	h.mux.HandleFunc("POST /movements/accounts", h.require(admin, h.createBankAccount))
	h.mux.HandleFunc("POST /movements/accounts/{id}/sync", h.require(operator, h.syncBankAccount))
}

// movementsPage lists the stored movements of an account over a period. It
// changes nothing and never calls the bank: when part of the period is not
// stored it says which days, and offers operators a POST that fetches them.
// The fetches named by ?sync= (the ones that POST started) show as a
// pending state that polls, or as their failure; a fetch under way for the
// missing days (the schedule's, someone else's) shows as pending too.
func (h *Handler) movementsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	accounts, err := h.app.Movements.BankAccounts(ctx)
	if err != nil {
		h.serverError(w, r, errorf("movements", err))
		return
	}
	now := h.now()
	q := r.URL.Query()
	form, mq, errs, chosen := parseMovementQuery(lang, q, accounts, now)
	textErrors(r, errs)
	v := views.MovementsView{Accounts: accounts, Form: form, Errors: errs, Query: withoutSync(q),
		CanFetch: currentUser(ctx).Role.AtLeast(store.RoleOperator)}
	if !chosen {
		h.render(w, r, http.StatusOK, views.MovementsPage(v))
		return
	}
	if len(errs) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.MovementsPage(v))
		return
	}
	v.Listed, v.Account, v.From, v.To = true, mq.Account, mq.From, mq.To
	v.Gaps = mq.Account.Gaps(mq.From, mq.To, now, movements.ShownFresh)
	if len(v.Gaps) == 0 && mq.Account.SyncedUntil != nil && mq.To.After(*mq.Account.SyncedUntil) {
		v.StoredUntil = mq.Account.SyncedUntil
	}
	named, err := h.namedSyncs(ctx, mq.Account.ID, q["sync"])
	if err != nil {
		h.serverError(w, r, errorf("movements", err))
		return
	}
	for _, run := range named {
		v.SyncIDs = append(v.SyncIDs, run.ID)
		switch {
		case !run.Finished() && v.Sync == nil:
			v.Sync = &run
		case run.State == movements.SyncFailed:
			v.Failed = append(v.Failed, run)
		case run.State == movements.SyncDone && run.Reason == movements.ReasonRefetch:
			v.Refetched = append(v.Refetched, run)
		}
	}
	if v.Sync == nil && len(v.Gaps) > 0 {
		open, err := h.app.Movements.OpenMovementSyncs(ctx, mq.Account.ID)
		if err != nil {
			h.serverError(w, r, errorf("movements", err))
			return
		}
		if i := slices.IndexFunc(open, func(m movements.MovementSync) bool { return fillsGap(m, v.Gaps) }); i >= 0 {
			v.Sync = &open[i]
		}
	}
	if v.Pending() {
		h.render(w, r, http.StatusOK, views.MovementsPage(v))
		return
	}
	if err := h.loadMovements(ctx, &v, mq, queryInt(r, "page", 1)); err != nil {
		h.serverError(w, r, errorf("movements", err))
		return
	}
	h.render(w, r, http.StatusOK, views.MovementsPage(v))
}

// namedSyncs returns the runs of the account named by the page's ?sync=
// values; others and unknown ids are ignored.
func (h *Handler) namedSyncs(ctx context.Context, accountID int64, ids []string) ([]movements.MovementSync, error) {
	var out []movements.MovementSync
	for _, s := range ids {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 || len(out) >= 4 {
			continue
		}
		run, err := h.app.Movements.MovementSync(ctx, id)
		if errors.Is(err, movements.ErrNotFound) || err == nil && run.AccountID != accountID {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, run)
	}
	return out, nil
}

// fillsGap reports whether a run's range meets one of the missing spans.
func fillsGap(m movements.MovementSync, gaps []movements.Span) bool {
	for _, g := range gaps {
		if !m.From.After(g.To) && !m.To.Before(g.From) {
			return true
		}
	}
	return false
}

// withoutSync is the page's query without the fetches it follows, for the
// links (export, paging, sorting) and the fetch form.
func withoutSync(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		if k != "sync" {
			out[k] = vs
		}
	}
	return out
}

// fetchMovements asks the bank for the parts of the chosen period that are
// not stored: at most one job before the stored span and one after it,
// each joining a fetch already under way for it. It waits up to JobWait
// and sends the browser back to the page, which follows the fetches.
func (h *Handler) fetchMovements(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	if err := r.ParseForm(); err != nil {
		h.redirect(w, r, "/movements")
		return
	}
	accounts, err := h.app.Movements.BankAccounts(ctx)
	if err != nil {
		h.serverError(w, r, errorf("fetch movements", err))
		return
	}
	now := h.now()
	q := withoutSync(r.PostForm)
	_, mq, errs, chosen := parseMovementQuery(lang, q, accounts, now)
	q.Del("page")
	back := "/movements?" + q.Encode()
	if !chosen || len(errs) > 0 {
		h.redirect(w, r, back) // the page shows what is wrong
		return
	}
	runs, err := h.app.Movements.Fetch(ctx, mq.Account, mq.From, mq.To, currentUser(ctx).ID)
	if err != nil {
		h.serverError(w, r, errorf("fetch movements", err))
		return
	}
	if len(runs) == 0 {
		h.flash(w, r, "info", lang.T("mov.fetch.stored"))
		h.redirect(w, r, back)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.JobWait)
	for _, run := range runs {
		if _, err := h.app.Movements.WaitSync(wctx, run.ID); err != nil { // the page shows whatever state the run is in
			h.log.Warn("wait for sync", "request_id", requestID(ctx), "sync", run.ID, "err", err)
		}
	}
	cancel()
	for _, run := range runs {
		q.Add("sync", strconv.FormatInt(run.ID, 10))
	}
	h.redirect(w, r, "/movements?"+q.Encode())
}

// waitForSync waits up to JobWait for a sync to end and returns the run
// as it then stands.
func (h *Handler) waitForSync(ctx context.Context, run movements.MovementSync) (*movements.MovementSync, error) {
	wctx, cancel := context.WithTimeout(ctx, h.cfg.JobWait)
	defer cancel()
	latest, err := h.app.Movements.WaitSync(wctx, run.ID)
	if err != nil {
		return nil, err
	}
	return &latest, nil
}

// loadMovements fills the list, totals, balances, chain breaks, chart and
// the differences later fetches found in the period.
func (h *Handler) loadMovements(ctx context.Context, v *views.MovementsView, mq movementQuery, page int) error {
	var err error
	if v.Totals, err = h.app.Movements.MovementTotals(ctx, mq.Filter); err != nil {
		return err
	}
	pager := views.Pager{Page: page, PageSize: movementsPageSize, Total: v.Totals.Count, Base: "/movements", Query: v.Query}
	if page > pager.Pages() {
		pager.Page = pager.Pages()
	}
	f := mq.Filter
	f.Limit, f.Offset = movementsPageSize, (pager.Page-1)*movementsPageSize
	if v.Rows, err = h.app.Movements.Movements(ctx, f); err != nil {
		return err
	}
	if v.Balances, err = h.app.Movements.PeriodBalances(ctx, mq.Account.ID, mq.From, mq.To); err != nil {
		return err
	}
	if v.Breaks, v.BreakCount, err = h.app.Movements.CountedBalanceBreaks(ctx, mq.Account.ID, mq.From, mq.To, movementBreaksShown); err != nil {
		return err
	}
	if v.Series, err = h.app.Movements.BalanceSeries(ctx, mq.Account.ID, mq.From, mq.To); err != nil {
		return err
	}
	if v.Differences, err = h.app.Movements.MovementDifferences(ctx, mq.Account.ID, mq.From, mq.To, views.MovementDifferencesShown); err != nil {
		return err
	}
	v.Pager = pager
	v.Sort = views.Sort{Key: mq.Filter.Sort, Desc: mq.Filter.Desc, Base: "/movements", Query: v.Query}
	return nil
}

// movementSyncStatus answers the pending state's polling, reading only:
// the same fragment while the fetch runs, then a full reload (HX-Refresh)
// of the page, which lists the movements or explains the failure. Without
// htmx it sends the browser back to the page.
func (h *Handler) movementSyncStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return
	}
	run, err := h.app.Movements.MovementSync(ctx, id)
	if errors.Is(err, movements.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("movement sync status", err))
		return
	}
	q := r.URL.Query()
	page := "/movements?" + q.Encode()
	if !isHTMX(r) {
		h.redirect(w, r, page)
		return
	}
	if run.Finished() {
		w.Header().Set("HX-Refresh", "true")
	}
	v := views.MovementsView{Sync: &run, Query: withoutSync(q)}
	for _, s := range q["sync"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			v.SyncIDs = append(v.SyncIDs, id)
		}
	}
	h.render(w, r, http.StatusOK, views.MovementsPending(v))
}
