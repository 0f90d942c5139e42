package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kasa/i18n"
	"kasa/movements"
)

// refetchMovements fetches a chosen period of an account from the bank
// again, stored or not: the way to repair a break in the balance chain,
// which the incremental "sync now" (starting at the last synced day) never
// reaches. The form carries the days (refetch_from, refetch_to) and the
// page's own query; the run goes through the job queue like every fetch,
// and the browser returns to the same page, which follows the run and then
// says what it added and what the bank reported differently.
func (h *Handler) refetchMovements(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	if err := r.ParseForm(); err != nil {
		h.redirect(w, r, "/movements")
		return
	}
	q := withoutSync(r.PostForm)
	fromDay, toDay := strings.TrimSpace(q.Get("refetch_from")), strings.TrimSpace(q.Get("refetch_to"))
	for _, k := range []string{"refetch_from", "refetch_to", "page"} {
		q.Del(k)
	}
	back := "/movements?" + q.Encode()
	id, err := strconv.ParseInt(q.Get("account"), 10, 64)
	if err != nil || id <= 0 {
		h.flash(w, r, "error", lang.T("valid.mov.account"))
		h.redirect(w, r, back)
		return
	}
	// An unknown account is what the form says first, as for any field.
	if _, err := h.app.Movements.BankAccount(ctx, id); errors.Is(err, movements.ErrNotFound) {
		h.flash(w, r, "error", lang.T("valid.mov.account"))
		h.redirect(w, r, back)
		return
	} else if err != nil {
		h.serverError(w, r, errorf("refetch movements", err))
		return
	}
	now := h.now()
	from, to, msg := parseRefetchRange(lang, fromDay, toDay, now)
	if msg != "" {
		h.flash(w, r, "error", msg)
		h.redirect(w, r, back)
		return
	}
	run, err := h.app.Movements.Refetch(ctx, id, from, to, currentUser(ctx).ID)
	if errors.Is(err, movements.ErrNotFound) {
		h.flash(w, r, "error", lang.T("valid.mov.account"))
		h.redirect(w, r, back)
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("refetch movements", err))
		return
	}
	if _, err := h.waitForSync(ctx, run); err != nil {
		h.serverError(w, r, errorf("refetch movements", err))
		return
	}
	q.Add("sync", strconv.FormatInt(run.ID, 10))
	h.redirect(w, r, "/movements?"+q.Encode())
}

// parseRefetchRange checks the days of a re-fetch as the custom period's
// are checked and returns the instants from the first day's midnight to
// the last day's end (or now, when that is today); msg says what is wrong,
// in the user's language.
func parseRefetchRange(lang i18n.Lang, fromDay, toDay string, now time.Time) (from, to time.Time, msg string) {
	today := i18n.Today(now)
	day := func(value, required string) (time.Time, string) {
		if value == "" {
			return time.Time{}, lang.T(required)
		}
		t, err := i18n.ParseDate(value)
		switch {
		case err != nil:
			return time.Time{}, lang.T("valid.date")
		case t.After(today):
			return time.Time{}, lang.T("valid.mov.future")
		case t.Before(earliestMovementDay):
			return time.Time{}, lang.T("valid.mov.tooold")
		}
		return t, ""
	}
	if from, msg = day(fromDay, "valid.mov.refetch.from"); msg != "" {
		return time.Time{}, time.Time{}, msg
	}
	if to, msg = day(toDay, "valid.mov.refetch.to"); msg != "" {
		return time.Time{}, time.Time{}, msg
	}
	if from.After(to) {
		return time.Time{}, time.Time{}, lang.T("valid.mov.order")
	}
	to = to.AddDate(0, 0, 1).Add(-time.Second)
	if n := now.Truncate(time.Second); to.After(n) {
		to = n
	}
	return from, to, ""
}
