package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kasa/debts"
	"kasa/i18n"
	"kasa/providers/finrota"
	"kasa/store"
	"kasa/views"
)

// debtRoutes registers the CAT debt pages (Finrota): viewers read,
// operators create, edit, sync and send notifications.
func (h *Handler) debtRoutes() {
	m := h.mux
	viewer, operator := store.RoleViewer, store.RoleOperator
	m.HandleFunc("GET /debts", h.require(viewer, h.debtsPage))
	m.HandleFunc("GET /debts/export.csv", h.require(viewer, h.exportDebts))
	m.HandleFunc("POST /debts/sync", h.require(operator, h.syncDebts))
	m.HandleFunc("GET /debts/new", h.require(operator, h.newDebtPage))
	m.HandleFunc("POST /debts", h.require(operator, h.createDebt))
	m.HandleFunc("GET /debts/{id}", h.require(viewer, h.debtPage))
	m.HandleFunc("GET /debts/{id}/state", h.require(viewer, h.debtState))
	m.HandleFunc("GET /debts/{id}/edit", h.require(operator, h.editDebtPage))
	m.HandleFunc("POST /debts/{id}", h.require(operator, h.updateDebt))
	m.HandleFunc("POST /debts/{id}/retry", h.require(operator, h.retryDebt))
	m.HandleFunc("POST /debts/{id}/check", h.require(viewer, h.checkDebt))
	m.HandleFunc("POST /debts/{id}/take", h.require(operator, h.takeFinrotaValues))
	m.HandleFunc("POST /debts/{id}/resend", h.require(operator, h.resendDebt))
	m.HandleFunc("GET /debts/overdue", h.require(viewer, h.overduePage))
	m.HandleFunc("GET /debts/overdue/send", h.require(operator, h.notifyConfirmPage))
	m.HandleFunc("POST /debts/overdue/send", h.require(operator, h.sendNotifications))
	m.HandleFunc("POST /debts/overdue/daily", h.require(operator, h.setDailyNotify))
}

// canEditDebts reports whether the signed-in user may change debts.
func canEditDebts(ctx context.Context) bool {
	u := currentUser(ctx)
	return u != nil && u.Role.AtLeast(store.RoleOperator)
}

// debtFilter reads the list's filters and sort from the query. Unknown
// values are dropped rather than refused: a stale bookmark still opens.
func (h *Handler) debtFilter(r *http.Request) (debts.DebtFilter, url.Values) {
	q := r.URL.Query()
	f := debts.DebtFilter{
		Agent:    strings.TrimSpace(q.Get("agent")),
		Account:  strings.TrimSpace(q.Get("account")),
		Currency: strings.ToUpper(strings.TrimSpace(q.Get("currency"))),
		Q:        strings.TrimSpace(q.Get("q")),
		Overdue:  q.Get("overdue") != "",
		Today:    i18n.Today(h.now()),
		Desc:     q.Get("dir") == "desc",
	}
	if f.Overdue {
		// The list's overdue filter is the overdue page's rule, so both
		// count the same debts: what Finrota's notification selects.
		rule := debts.OverdueFilter(f.Today)
		f.AtFinrota, f.Reachable = rule.AtFinrota, rule.Reachable
	}
	if t, ok := finrota.LookupDocumentType(q.Get("type")); ok {
		f.DocumentType = t.Wire
	}
	switch s := q.Get("state"); s {
	case debts.DebtPending, debts.DebtDelivered, debts.DebtFailed:
		f.State = s
	}
	switch s := q.Get("sort"); s {
	case debts.DebtSortDue, debts.DebtSortAmount:
		f.Sort = s
	default:
		f.Sort, f.Desc = "", q.Get("dir") != "asc" // newest first
	}
	keep := url.Values{}
	for _, k := range []string{"agent", "account", "currency", "type", "state", "overdue", "q"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if f.Sort != "" {
		keep.Set("sort", f.Sort)
		keep.Set("dir", map[bool]string{true: "desc", false: "asc"}[f.Desc])
	}
	if c, ok := debts.ParseDebtCursor(q.Get("after"), f.Sort); ok {
		f.After = &c
	} else if c, ok := debts.ParseDebtCursor(q.Get("before"), f.Sort); ok {
		f.Before = &c
	}
	return f, keep
}

// debtListView builds the list's view model from what the store read.
func debtListView(ctx context.Context, f debts.DebtFilter, q url.Values, p debts.DebtListPage) views.DebtListView {
	v := views.DebtListView{Filter: f, Query: q, Today: f.Today, CanEdit: canEditDebts(ctx), Page: p.Page, LastSync: p.LastSync, Errors: views.Errors{}}
	for _, r := range p.Refs {
		switch r.Kind {
		case debts.RefAgent:
			v.Agents = append(v.Agents, r)
		case debts.RefAccount:
			v.Accounts = append(v.Accounts, r)
		case debts.RefCurrency:
			v.Currencies = append(v.Currencies, r.Code)
		}
	}
	return v
}

func (h *Handler) debtsPage(w http.ResponseWriter, r *http.Request) {
	f, q := h.debtFilter(r)
	p, err := h.app.Debts.DebtListView(r.Context(), f)
	if err != nil {
		h.serverError(w, r, errorf("debts list", err))
		return
	}
	v, status := debtListView(r.Context(), f, q, p), http.StatusOK
	if textErrors(r, v.Errors) {
		status = http.StatusUnprocessableEntity
	}
	h.render(w, r, status, views.DebtsPage(v))
}

// loadDebt reads the {id} debt, answering 404 itself when there is none.
func (h *Handler) loadDebt(w http.ResponseWriter, r *http.Request) (debts.Debt, bool) {
	var d debts.Debt
	ok := h.loadDebtWith(w, r, "debt", func(id int64) (err error) {
		d, err = h.app.Debts.Debt(r.Context(), id)
		return err
	})
	return d, ok
}

// loadDebtWith calls read with the {id} of the path, answering 404 itself
// when the id is malformed or read finds no debt, and 500 on other errors.
func (h *Handler) loadDebtWith(w http.ResponseWriter, r *http.Request, what string, read func(id int64) error) bool {
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return false
	}
	err = read(id)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return false
	}
	if err != nil {
		h.serverError(w, r, errorf(what, err))
		return false
	}
	return true
}

// debtState is the fragment a pending debt polls until it settles: the
// badge of a list row, or with full=1 the detail page's status block.
func (h *Handler) debtState(w http.ResponseWriter, r *http.Request) {
	d, ok := h.loadDebt(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("full") != "" {
		h.render(w, r, http.StatusOK, views.DebtStatusBlock(d, canEditDebts(r.Context())))
		return
	}
	h.render(w, r, http.StatusOK, views.DebtStateBadge(d))
}

// syncDebts starts a pull of every debt from Finrota and waits briefly for
// it, as a form waits for a delivery.
func (h *Handler) syncDebts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	u := currentUser(ctx)
	syncID, jobID, err := h.app.Debts.StartSync(ctx, u.ID)
	back := safeNext(r.PostFormValue("next"), "/debts")
	if errors.Is(err, debts.ErrSyncRunning) {
		// Say what the running sync is doing: during an outage it waits
		// for its next attempt, and the person should know why and when.
		s, lerr := h.app.Debts.LatestDebtSync(ctx)
		if lerr != nil {
			h.serverError(w, r, errorf("running debt sync", lerr))
			return
		}
		h.flash(w, r, "info", views.SyncState(lang, s))
		h.redirect(w, r, back)
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("start debt sync", err))
		return
	}
	h.waitDebtJob(ctx, jobID)
	s, err := h.app.Debts.DebtSyncByID(ctx, syncID)
	switch {
	case err != nil:
		h.serverError(w, r, errorf("debt sync", err))
		return
	case s.State == "done":
		h.flash(w, r, "success", lang.T("debts.sync.done", s.Items))
	case s.State == "failed":
		h.flash(w, r, "error", views.SyncFailed(lang, s.Error))
	case s.Retrying():
		h.flash(w, r, "info", views.SyncState(lang, s))
	default:
		h.flash(w, r, "info", lang.T("debts.sync.started"))
	}
	h.redirect(w, r, back)
}

// waitDebtJob waits up to the configured time for a job of the debts area
// to finish; the caller reads the outcome from the area's tables either way.
// Running out of time is expected (the page then shows the work as still
// under way); any other failure is logged only.
func (h *Handler) waitDebtJob(ctx context.Context, id int64) {
	wctx, cancel := context.WithTimeout(ctx, h.cfg.JobWait)
	defer cancel()
	if err := h.app.Debts.Wait(wctx, id); err != nil && wctx.Err() == nil {
		h.log.Warn("wait for job", "request_id", requestID(ctx), "job", id, "err", err)
	}
}

// exportDebts streams the filtered list as CSV: UTF-8 with a BOM so Excel
// reads Turkish letters, and with decimal=comma the Turkish Excel
// convention (decimal comma, semicolon separator).
func (h *Handler) exportDebts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	f, _ := h.debtFilter(r)
	c := startCSV(w, r, "debts-"+h.now().In(i18n.Istanbul).Format("20060102-1504")+".csv")
	var cols []string
	for _, k := range []string{"erpCode", "documentNo", "documentType", "agentErpCode", "currentAccountErpCode", "currencyId",
		"amount", "paidAmount", "outstanding", "transactionDate", "dueDate", "state", "active", "finrotaId", "description"} {
		cols = append(cols, lang.T("debts.f."+k))
	}
	err := c.Write(cols...)
	if err == nil {
		err = h.app.Debts.EachDebt(ctx, f, func(d debts.Debt) error {
			active := lang.T("common.no")
			if d.IsActive {
				active = lang.T("common.yes")
			}
			finrotaID := ""
			if d.FinrotaID != nil {
				finrotaID = *d.FinrotaID
			}
			// Every text that came from a person or from Finrota goes through
			// c.Text, so none can start a spreadsheet formula.
			return c.Write(c.Text(d.ErpCode), c.Text(d.DocumentNo), c.Text(views.DocTypeLabel(lang, d.DocumentType)), c.Text(d.AgentErpCode),
				c.Text(d.CurrentAccountErpCode), c.Text(d.CurrencyID), c.Num(d.Amount), c.Num(d.PaidAmount), c.Num(d.Outstanding()),
				d.TransactionDate.Format(time.DateOnly), d.DueDate.Format(time.DateOnly), lang.T("debts.state."+d.State),
				active, c.Text(finrotaID), c.Text(d.Description))
		})
	}
	if err == nil {
		err = c.Close()
	}
	if err != nil {
		// The header is out: all that is left is to stop and log.
		h.log.Error("debts export", "request_id", requestID(ctx), "err", err)
	}
}

// today is the current Istanbul day.
func (h *Handler) today() time.Time { return i18n.Today(h.now()) }
