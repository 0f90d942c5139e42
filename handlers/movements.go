package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"kasa/i18n"
	"kasa/jobs"
	"kasa/store"
	"kasa/views"
)

// movementFreshness is how recent a sync up to now must be for a period
// ending today to count as stored: reloading a page within it does not
// call the bank again, the hourly schedule and "sync now" keep it fresh.
const movementFreshness = 10 * time.Minute

// movementsPageSize is how many movements one page lists.
const movementsPageSize = 50

// movementRoutes registers the VakıfBank account and movement pages.
func (h *Handler) movementRoutes() {
	viewer, operator, admin := store.RoleViewer, store.RoleOperator, store.RoleAdmin
	h.mux.HandleFunc("GET /movements", h.require(viewer, h.movementsPage))
	h.mux.HandleFunc("GET /movements/export.csv", h.require(viewer, h.exportMovements))
	h.mux.HandleFunc("GET /movements/sync/{id}", h.require(viewer, h.movementSyncStatus))
	h.mux.HandleFunc("GET /movements/accounts", h.require(viewer, h.bankAccountsPage))
	h.mux.HandleFunc("GET /movements/accounts/new", h.require(admin, h.newBankAccountPage))
	h.mux.HandleFunc("POST /movements/accounts", h.require(admin, h.createBankAccount))
	h.mux.HandleFunc("POST /movements/accounts/{id}/sync", h.require(operator, h.syncBankAccount))
}

// movementsPage lists an account's movements over a period. When part of
// the period is not stored yet it asks the bank for it through a job and
// waits briefly; a longer fetch shows a pending state that refreshes.
func (h *Handler) movementsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	accounts, err := h.store.BankAccounts(ctx)
	if err != nil {
		h.serverError(w, r, errorf("movements", err))
		return
	}
	now := h.now()
	form, mq, errs, chosen := parseMovementQuery(lang, r.URL.Query(), accounts, now)
	v := views.MovementsView{Accounts: accounts, Form: form, Errors: errs, Query: r.URL.Query()}
	if !chosen {
		h.render(w, r, http.StatusOK, views.MovementsPage(v))
		return
	}
	if len(errs) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.MovementsPage(v))
		return
	}
	v.Listed, v.Account, v.From, v.To = true, mq.Account, mq.From, mq.To

	run, err := h.fetchMissing(ctx, mq, now)
	if err != nil && ctx.Err() != nil {
		return // the browser went elsewhere while the bank was asked; the sync goes on
	}
	if err != nil {
		h.serverError(w, r, errorf("movements: fetch", err))
		return
	}
	if run != nil && run.State != store.SyncDone {
		v.Sync = run
		if !run.Finished() {
			h.render(w, r, http.StatusOK, views.MovementsPage(v))
			return
		}
	}
	if err := h.loadMovements(ctx, &v, mq, queryInt(r, "page", 1)); err != nil {
		h.serverError(w, r, errorf("movements", err))
		return
	}
	h.render(w, r, http.StatusOK, views.MovementsPage(v))
}

// fetchMissing makes sure the period is stored: nothing to do when it is,
// else it joins the sync already under way for it or starts one, and waits
// up to JobWait for it. It returns the sync, or nil when none was needed.
func (h *Handler) fetchMissing(ctx context.Context, mq movementQuery, now time.Time) (*store.MovementSync, error) {
	from, to, missing := mq.Account.Missing(mq.From, mq.To, now, movementFreshness)
	if !missing {
		return nil, nil
	}
	run, err := h.store.OpenMovementSync(ctx, mq.Account.ID, from.Truncate(time.Second), to.Truncate(time.Second))
	if errors.Is(err, store.ErrNotFound) {
		var uid int64
		if u := currentUser(ctx); u != nil {
			uid = u.ID
		}
		run, err = jobs.RequestMovementSync(ctx, h.store, mq.Account.ID, from, to, "page", uid)
		if err == nil {
			h.kick()
		}
	}
	if err != nil {
		return nil, err
	}
	return h.waitForSync(ctx, run)
}

// waitForSync waits up to JobWait for a sync's job to end and returns the
// run as it then stands.
func (h *Handler) waitForSync(ctx context.Context, run store.MovementSync) (*store.MovementSync, error) {
	if run.JobID != nil && !run.Finished() {
		wctx, cancel := context.WithTimeout(ctx, h.cfg.JobWait)
		_, err := jobs.Wait(wctx, h.store.DB(), *run.JobID)
		cancel()
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	latest, err := h.store.MovementSync(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	return &latest, nil
}

// loadMovements fills the list, totals, balances, chain breaks and chart.
func (h *Handler) loadMovements(ctx context.Context, v *views.MovementsView, mq movementQuery, page int) error {
	var err error
	if v.Totals, err = h.store.MovementTotals(ctx, mq.Filter); err != nil {
		return err
	}
	pager := views.Pager{Page: page, PageSize: movementsPageSize, Total: v.Totals.Count, Base: "/movements", Query: v.Query}
	if page > pager.Pages() {
		pager.Page = pager.Pages()
	}
	f := mq.Filter
	f.Limit, f.Offset = movementsPageSize, (pager.Page-1)*movementsPageSize
	if v.Rows, err = h.store.Movements(ctx, f); err != nil {
		return err
	}
	if v.Balances, err = h.store.PeriodBalances(ctx, mq.Account.ID, mq.From, mq.To); err != nil {
		return err
	}
	if v.Breaks, err = h.store.BalanceBreaks(ctx, mq.Account.ID, mq.From, mq.To, 50); err != nil {
		return err
	}
	if v.Series, err = h.store.BalanceSeries(ctx, mq.Account.ID, mq.From, mq.To); err != nil {
		return err
	}
	v.Pager = pager
	v.Sort = views.Sort{Key: mq.Filter.Sort, Desc: mq.Filter.Desc, Base: "/movements", Query: v.Query}
	return nil
}

// movementSyncStatus answers the pending state's polling: the same
// fragment while the fetch runs, then a full reload (HX-Refresh) of the
// page, which lists the movements or explains the failure. Without htmx
// it sends the browser back to the page.
func (h *Handler) movementSyncStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return
	}
	run, err := h.store.MovementSync(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
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
	h.render(w, r, http.StatusOK, views.MovementsPending(views.MovementsView{Sync: &run, Query: url.Values(q)}))
}
