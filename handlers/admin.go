package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"kasa/i18n"
	"kasa/jobs"
	"kasa/store"
	"kasa/views"
)

const pageSize = 50

func (h *Handler) jobsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := jobs.Filter{State: q.Get("state"), Kind: q.Get("kind"), Limit: pageSize}
	page := queryInt(r, "page", 1)
	f.Offset = (page - 1) * pageSize
	list, total, err := jobs.List(r.Context(), h.store.DB(), f)
	if err != nil {
		h.serverError(w, r, errorf("jobs", err))
		return
	}
	base := url.Values{}
	for _, k := range []string{"state", "kind"} {
		if v := q.Get(k); v != "" {
			base.Set(k, v)
		}
	}
	h.render(w, r, http.StatusOK, views.JobsPage(views.JobsView{
		Jobs: list, State: f.State, Kind: f.Kind,
		Pager: views.Pager{Page: page, PageSize: pageSize, Total: total, Base: "/jobs", Query: base},
	}))
}

func (h *Handler) jobAction(retry bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		lang := i18n.FromContext(ctx)
		id, err := pathID(r, "id")
		if err != nil {
			h.notFound(w, r)
			return
		}
		action, done := "job.cancel", "jobs.cancelled"
		if retry {
			action, done = "job.retry", "jobs.retried"
			err = jobs.RetryBy(ctx, h.store.DB(), currentUser(ctx).ID, id)
		} else {
			err = jobs.CancelBy(ctx, h.store.DB(), currentUser(ctx).ID, id)
		}
		switch {
		case errors.Is(err, jobs.ErrNotFound):
			h.notFound(w, r)
			return
		case errors.Is(err, jobs.ErrNotRetryable):
			h.flash(w, r, "error", lang.T("jobs.notretryable"))
		case errors.Is(err, jobs.ErrNotCancellable):
			h.flash(w, r, "error", lang.T("jobs.notcancellable"))
		case err != nil:
			h.serverError(w, r, errorf(action, err))
			return
		default:
			if retry {
				h.kick()
			}
			h.flash(w, r, "success", lang.T(done))
		}
		h.redirect(w, r, safeNext(r.PostFormValue("next"), "/jobs"))
	}
}

func (h *Handler) apiLogPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := store.APICallFilter{
		Provider:   q.Get("provider"),
		Operation:  q.Get("operation"),
		RequestID:  q.Get("request_id"),
		OnlyErrors: q.Get("errors") == "1",
		Limit:      pageSize,
	}
	v := views.APILogView{Provider: f.Provider, Operation: f.Operation, RequestID: f.RequestID, OnlyErrors: f.OnlyErrors,
		From: q.Get("from"), To: q.Get("to"), Errors: views.Errors{}}
	lang := i18n.FromContext(ctx)
	if v.From != "" {
		d, err := i18n.ParseDate(v.From)
		if err != nil {
			v.Errors["from"] = lang.T("valid.date")
		}
		f.From = d
	}
	if v.To != "" {
		d, err := i18n.ParseDate(v.To)
		if err != nil {
			v.Errors["to"] = lang.T("valid.date")
		}
		f.To = d.AddDate(0, 0, 1)
	}
	page := queryInt(r, "page", 1)
	f.Offset = (page - 1) * pageSize
	status := http.StatusOK
	textErrors(r, v.Errors)
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
		f.From, f.To = time.Time{}, time.Time{}
	}
	calls, total, err := h.store.APICalls(ctx, f)
	if err != nil {
		h.serverError(w, r, errorf("api log", err))
		return
	}
	base := url.Values{}
	for _, k := range []string{"provider", "operation", "request_id", "errors", "from", "to"} {
		if val := q.Get(k); val != "" {
			base.Set(k, val)
		}
	}
	v.Calls, v.Providers = calls, []string{"finrota", "garanti", "vakifbank"}
	v.Pager = views.Pager{Page: page, PageSize: pageSize, Total: total, Base: "/apilog", Query: base}
	h.render(w, r, status, views.APILogPage(v))
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	d, err := h.store.DashboardCounts(r.Context(), h.now().Add(-24*time.Hour))
	if err != nil {
		h.serverError(w, r, errorf("dashboard", err))
		return
	}
	h.render(w, r, http.StatusOK, views.DashboardPage(views.DashboardView{
		FailedJobs: d.FailedJobs, Calls24h: d.Calls, Failed24h: d.FailedCall,
	}))
}
