package handlers

import (
	"errors"
	"net/http"
	"time"

	"kasa/debts"
	"kasa/i18n"
	"kasa/views"
)

// overdueSends is how many of the latest notification sends the overdue
// page shows.
const overdueSends = 20

// overduePage lists what an overdue notification would reach, with totals
// per currency and per agent, and the history of sends.
func (h *Handler) overduePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, q := h.debtFilter(r)
	// The page is Finrota's rule, whatever the query says.
	f.Overdue, f.AtFinrota, f.Reachable, f.State = true, true, true, ""
	q.Del("overdue")
	q.Del("state")
	// paid=1 narrows the list to the fully paid debts the rule still
	// notifies, so the person about to send can see exactly which they are.
	if r.URL.Query().Get("paid") != "" {
		f.FullyPaid = true
		q.Set("paid", "1")
	}
	if f.Sort == "" {
		f.Sort, f.Desc = debts.DebtSortDue, false
	}
	p, err := h.app.Debts.DebtOverdueView(ctx, f, overdueSends)
	if err != nil {
		h.serverError(w, r, errorf("overdue page", err))
		return
	}
	v := views.DebtOverdueView{List: debtListView(ctx, f, q, p.List), CanSend: canEditDebts(ctx),
		Summary: p.Summary, Notifications: p.Notifications, DailyNotify: p.DailyNotify}
	h.render(w, r, http.StatusOK, views.DebtOverduePage(v))
}

// notifyConfirm builds the confirmation: how many debts and agents the send
// reaches, and today's earlier send if there was one (the newest send is
// today's when any went out today).
func (h *Handler) notifyConfirm(r *http.Request) (views.DebtNotifyConfirmView, error) {
	today := h.today()
	sum, err := h.app.Debts.OverdueSummary(r.Context(), today)
	if err != nil {
		return views.DebtNotifyConfirmView{}, err
	}
	sends, err := h.app.Debts.DebtNotifications(r.Context(), 1)
	if err != nil {
		return views.DebtNotifyConfirmView{}, err
	}
	v := views.DebtNotifyConfirmView{Summary: sum}
	if len(sends) > 0 && sends[0].Day.Format(time.DateOnly) == today.Format(time.DateOnly) {
		n := sends[0]
		v.Already = &n
	}
	return v, nil
}

func (h *Handler) notifyConfirmPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.notifyConfirm(r)
	if err != nil {
		h.serverError(w, r, errorf("notify confirm", err))
		return
	}
	if v.Summary.Debts == 0 {
		h.flash(w, r, "info", i18n.FromContext(r.Context()).T("debts.notify.nothing"))
		h.redirect(w, r, "/debts/overdue")
		return
	}
	h.render(w, r, http.StatusOK, views.DebtNotifyConfirmPage(v))
}

// sendNotifications queues the send after confirmation. A second send on
// the same Istanbul day, after any earlier one (a forced one too), is
// refused on any instance unless the user forces it.
func (h *Handler) sendNotifications(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	u := currentUser(ctx)
	v, err := h.notifyConfirm(r)
	if err != nil {
		h.serverError(w, r, errorf("send notifications", err))
		return
	}
	v.Force = r.PostFormValue("force") != ""
	if r.PostFormValue("confirm") != "yes" {
		v.Error = l.T("debts.notify.confirm.required")
		h.render(w, r, http.StatusUnprocessableEntity, views.DebtNotifyConfirmPage(v))
		return
	}
	if v.Summary.Debts == 0 {
		h.flash(w, r, "info", l.T("debts.notify.nothing"))
		h.redirect(w, r, "/debts/overdue")
		return
	}
	id, jobID, err := h.app.Debts.Notify(ctx, debts.Notification{
		UserID: u.ID, Forced: v.Force, Debts: v.Summary.Debts, Agents: v.Summary.Agents,
	})
	if errors.Is(err, debts.ErrDuplicate) {
		v.Error = l.T("debts.notify.duplicate")
		h.render(w, r, http.StatusConflict, views.DebtNotifyConfirmPage(v))
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("send notifications", err))
		return
	}
	h.waitDebtJob(ctx, jobID)
	n, err := h.app.Debts.DebtNotificationByID(ctx, id)
	switch {
	case err != nil:
		h.serverError(w, r, errorf("notification outcome", err))
		return
	case n.State == debts.NotifySent:
		h.flash(w, r, "success", l.T("debts.notify.sent"))
	case n.State == debts.NotifyUnknown || n.State == debts.NotifyFailed && n.ErrorCode == "unreachable":
		h.flash(w, r, "error", l.T("debts.notify.unknown"))
	case n.State == debts.NotifyFailed:
		h.flash(w, r, "error", l.T("debts.notify.failed", views.NotifyFailure(l, n)))
	case n.ErrorCode != "":
		// Refused without acting (429, 503): say why it waits.
		h.flash(w, r, "info", views.NotifyFailure(l, n))
	default:
		h.flash(w, r, "info", l.T("debts.notify.queued"))
	}
	h.redirect(w, r, "/debts/overdue")
}

// setDailyNotify switches the daily automatic send on or off.
func (h *Handler) setDailyNotify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := i18n.FromContext(ctx)
	on := r.PostFormValue("daily") != ""
	if err := h.app.Debts.SetDailyNotify(ctx, currentUser(ctx).ID, on); err != nil {
		h.serverError(w, r, errorf("daily notify", err))
		return
	}
	key := "debts.notify.daily.off"
	if on {
		key = "debts.notify.daily.on"
	}
	h.flash(w, r, "success", l.T(key))
	h.redirect(w, r, "/debts/overdue")
}
