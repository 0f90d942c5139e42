package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kasa/consents"
	"kasa/hgs"
	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

const hgsPageSize = 50

// hgsFilter reads the list's filters as typed and checks them, but for
// whether the tag exists (knownVehicle); a filter with an error is not
// applied.
func (h *Handler) hgsFilter(r *http.Request) (views.HGSFilterForm, hgs.Filter, views.Errors) {
	lang := i18n.FromContext(r.Context())
	q := r.URL.Query()
	form := views.HGSFilterForm{Vehicle: q.Get("vehicle"), Kind: q.Get("kind"), DebitCredit: q.Get("dc"),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Motorway: strings.TrimSpace(q.Get("motorway"))}
	errs := views.Errors{}
	f := hgs.Filter{ProductID: form.Vehicle}
	switch form.Kind {
	case "", hgs.Passages, hgs.TopUps:
		f.Kind = form.Kind
	default:
		errs["kind"] = lang.T("hgs.valid.choice")
	}
	switch form.DebitCredit {
	case "", "A", "B":
		f.DebitCredit = form.DebitCredit
	default:
		errs["dc"] = lang.T("hgs.valid.choice")
	}
	for _, d := range []struct {
		field, val string
		dst        *time.Time
	}{{"from", form.From, &f.From}, {"to", form.To, &f.To}} {
		if d.val == "" {
			continue
		}
		t, err := i18n.ParseDate(d.val)
		if err != nil {
			errs[d.field] = lang.T("garanti.valid.date")
			continue
		}
		*d.dst = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		errs["to"] = lang.T("hgs.valid.range")
	}
	if len([]rune(form.Motorway)) > 100 {
		errs["motorway"] = lang.T("garanti.valid.toolong", 100)
	}
	textErrors(r, errs)
	if len(errs) > 0 {
		return form, hgs.Filter{}, errs
	}
	f.Motorway = form.Motorway
	return form, f, errs
}

// knownVehicle checks the filter's tag against the tags stored: a tag the
// product does not know is an error, and then nothing is filtered (the
// store's HGSPageView reads the page the same way).
func knownVehicle(r *http.Request, form views.HGSFilterForm, vehicles []hgs.Vehicle, errs views.Errors) bool {
	if form.Vehicle == "" {
		return true
	}
	for _, v := range vehicles {
		if v.ProductID == form.Vehicle {
			return true
		}
	}
	errs["vehicle"] = i18n.FromContext(r.Context()).T("hgs.valid.vehicle")
	return false
}

// syncsTags reports whether the tags sync under the consent at now: it is
// usable and within its validation date.
func syncsTags(c consents.Consent, now time.Time) bool {
	return c.Usable() && !c.PastValidation(now)
}

// currentConsent is the newest usable consent, which the tags sync under.
func (h *Handler) currentConsent(ctx context.Context) (*consents.Consent, error) {
	cs, err := h.app.Consents.Consents(ctx, consents.Active)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if syncsTags(c, h.now()) {
			return &c, nil
		}
	}
	return nil, nil
}

func (h *Handler) hgsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := h.now()
	form, f, errs := h.hgsFilter(r)
	page := queryInt(r, "page", 1)
	p, err := h.app.HGS.View(ctx, hgs.PageQuery{Filter: f, Limit: hgsPageSize, Offset: (page - 1) * hgsPageSize,
		Now: now, SyncKind: hgs.SyncArgs{}.Kind()})
	if err != nil {
		h.serverError(w, r, errorf("hgs", err))
		return
	}
	knownVehicle(r, form, p.Vehicles, errs)
	query := url.Values{}
	for k, val := range map[string]string{"vehicle": form.Vehicle, "kind": form.Kind, "dc": form.DebitCredit,
		"from": form.From, "to": form.To, "motorway": form.Motorway} {
		if val != "" {
			query.Set(k, val)
		}
	}
	v := views.HGSView{Vehicles: p.Vehicles, Filter: form, Errors: errs, Now: now, Txns: p.Txns,
		Pager:       views.Pager{Page: page, PageSize: hgsPageSize, Total: p.Total, Base: "/hgs", Query: query},
		ExportQuery: query, PerVehicle: p.PerVehicle, PerMonth: p.PerMonth, Syncing: p.Syncing, LastRun: p.LastRun}
	for _, c := range p.Active {
		if syncsTags(c.Consent, now) {
			v.Consent, v.Used, v.Next = &c.Consent, c.Used, c.Consent.NextCall(c.Used, now)
			break
		}
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	h.render(w, r, status, views.HGSPage(v))
}

// hgsExport writes the filtered movements as CSV: UTF-8 with a byte order
// mark (so spreadsheet programs read the Turkish letters), Istanbul times,
// amounts with a dot, signed (passages negative).
func (h *Handler) hgsExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	vehicles, err := h.app.HGS.Vehicles(ctx, 0)
	if err != nil {
		h.serverError(w, r, errorf("hgs export", err))
		return
	}
	form, f, errs := h.hgsFilter(r)
	if !knownVehicle(r, form, vehicles, errs) || len(errs) > 0 {
		h.renderError(w, r, http.StatusBadRequest, "error.badrequest")
		return
	}
	c := startCSV(w, r, "hgs-"+h.now().In(i18n.Istanbul).Format("20060102")+".csv")
	err = c.Write(lang.T("hgs.vehicle"), lang.T("hgs.product"), lang.T("hgs.dc"), lang.T("hgs.entrance"), lang.T("hgs.entrance.motorway"),
		lang.T("hgs.exit"), lang.T("hgs.exit.motorway"), lang.T("hgs.explanation"), lang.T("hgs.amount"))
	const layout = "2006-01-02 15:04:05"
	if err == nil {
		err = h.app.HGS.EachTransaction(ctx, f, func(t hgs.Transaction) error {
			dep := ""
			if t.DepartureTS.Valid {
				dep = t.DepartureTS.Time.In(i18n.Istanbul).Format(layout)
			}
			amount := t.Amount
			if t.DebitCredit == "B" {
				amount = amount.Neg()
			}
			return c.Write(c.Text(t.Plate), t.ProductID, t.DebitCredit, t.EntranceTS.In(i18n.Istanbul).Format(layout), c.Text(t.EntranceMotorway),
				dep, c.Text(t.DepartureMotorway), c.Text(t.Explanation), c.Num(amount))
		})
	}
	if err == nil {
		err = c.Close()
	}
	if err != nil {
		// Headers are gone: the download ends short and the log says why.
		h.log.Error("hgs export", "request_id", requestID(ctx), "err", err)
	}
}

// hgsRefresh syncs the tags now and says what happened: what was fetched,
// why nothing was (no consent covers the vehicles, the day's calls are
// spent, the bank is busy until a given time, or the call failed and why).
// The sync itself decides, with the bank's answers, so the flash tells the
// same story as the page's record of the scheduled syncs.
func (h *Handler) hgsRefresh(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	c, err := h.currentConsent(ctx)
	if err != nil {
		h.serverError(w, r, errorf("hgs refresh", err))
		return
	}
	if c == nil {
		h.flash(w, r, "error", lang.T("hgs.noconsent"))
		h.redirect(w, r, "/hgs")
		return
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.JobWait)
	defer cancel()
	run, err := h.app.HGS.RefreshNow(wctx)
	switch {
	case errors.Is(err, hgs.ErrPending):
		h.flash(w, r, "info", lang.T("hgs.refresh.pending"))
	case errors.Is(err, store.ErrNotFound):
		h.flash(w, r, "error", lang.T("hgs.refresh.failed"))
	case err != nil:
		h.serverError(w, r, errorf("hgs refresh", err))
		return
	default:
		kind, text := views.HGSRunMessage(ctx, run)
		h.flash(w, r, kind, text)
	}
	h.redirect(w, r, "/hgs")
}
