package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/movements"
	"kasa/views"
)

// earliestMovementDay is the first day a period may start: older dates are
// typing mistakes (a year of 0024), not history the bank keeps.
var earliestMovementDay = time.Date(2000, 1, 1, 0, 0, 0, 0, i18n.Istanbul)

// maxMovementText is the longest search text, in characters.
const maxMovementText = 100

// movementQuery is a valid choice of account, period and filters.
type movementQuery struct {
	Account  movements.BankAccount
	From, To time.Time // the period: from the first day's midnight to the last day's end (or now)
	Filter   movements.MovementFilter
}

// parseMovementQuery reads and checks the movements form. It returns the
// form as typed (dates normalised to what a date input shows) with an
// error per field in the user's language; ok is false when the user has
// not chosen an account yet (the first visit), which is not an error.
func parseMovementQuery(lang i18n.Lang, q url.Values, accounts []movements.BankAccount, now time.Time) (form views.MovementsForm, mq movementQuery, errs views.Errors, ok bool) {
	errs = views.Errors{}
	form = views.MovementsForm{
		Account: strings.TrimSpace(q.Get("account")), Period: q.Get("period"),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Direction: q.Get("direction"), Min: strings.TrimSpace(q.Get("min")), Max: strings.TrimSpace(q.Get("max")),
		Text: strings.TrimSpace(q.Get("q")),
	}
	if form.Period == "" {
		form.Period = "last_30_days"
	}
	if form.Account == "" && len(q) == 0 {
		if len(accounts) > 0 {
			form.Account = strconv.FormatInt(accounts[0].ID, 10)
		}
		from, to, _ := presetRange(form.Period, now)
		form.From, form.To = isoDay(from), isoDay(to)
		return form, movementQuery{}, errs, false
	}

	id, _ := strconv.ParseInt(form.Account, 10, 64)
	found := false
	for _, a := range accounts {
		if a.ID == id {
			mq.Account, found = a, true
		}
	}
	if !found {
		errs["account"] = lang.T("valid.mov.account")
	}

	from, to, known := presetRange(form.Period, now)
	switch {
	case !known:
		errs["period"] = lang.T("valid.mov.period")
	case form.Period == "custom":
		from, to = checkCustomRange(lang, &form, errs, now)
	default:
		// A preset shows its dates, so that switching to a custom range
		// starts from them.
		form.From, form.To = isoDay(from), isoDay(to)
	}

	f := movements.MovementFilter{AccountID: mq.Account.ID, Text: form.Text}
	switch form.Direction {
	case "", "in", "out":
		f.Direction = form.Direction
	default:
		errs["direction"] = lang.T("valid.mov.direction")
	}
	f.MinAmount = parseAmountField(lang, "min", form.Min, errs)
	f.MaxAmount = parseAmountField(lang, "max", form.Max, errs)
	if f.MinAmount.Valid && f.MaxAmount.Valid && f.MinAmount.Decimal.GreaterThan(f.MaxAmount.Decimal) && errs["max"] == "" {
		errs["max"] = lang.T("valid.mov.amount.order")
	}
	if n := utf8.RuneCountInString(form.Text); n > maxMovementText {
		errs["q"] = lang.T("valid.mov.text.long", maxMovementText, n)
	}
	f.Sort, f.Desc = "date", q.Get("dir") == "desc"
	if q.Get("sort") == "amount" {
		f.Sort = "amount"
	}
	if len(errs) > 0 {
		return form, movementQuery{}, errs, true
	}
	// The period ends at the end of its last day, or now when that is today.
	mq.From, mq.To = from, to.AddDate(0, 0, 1).Add(-time.Second)
	if n := now.Truncate(time.Second); mq.To.After(n) {
		mq.To = n
	}
	f.From, f.To = mq.From, mq.To
	mq.Filter = f
	return form, mq, errs, true
}

// presetRange returns the first and last day of a named period at now.
func presetRange(period string, now time.Time) (from, to time.Time, ok bool) {
	today := i18n.Today(now)
	switch period {
	case "this_month":
		return today.AddDate(0, 0, 1-today.Day()), today, true
	case "last_30_days":
		return today.AddDate(0, 0, -29), today, true
	case "last_year":
		return today.AddDate(-1, 0, 1), today, true
	case "custom":
		return time.Time{}, time.Time{}, true
	}
	return time.Time{}, time.Time{}, false
}

// checkCustomRange validates the typed dates of a custom period.
func checkCustomRange(lang i18n.Lang, form *views.MovementsForm, errs views.Errors, now time.Time) (from, to time.Time) {
	today := i18n.Today(now)
	day := func(field, value, required string) time.Time {
		if value == "" {
			errs[field] = lang.T(required)
			return time.Time{}
		}
		t, err := i18n.ParseDate(value)
		switch {
		case err != nil:
			errs[field] = lang.T("valid.date")
		case t.After(today):
			errs[field] = lang.T("valid.mov.future")
		case t.Before(earliestMovementDay):
			errs[field] = lang.T("valid.mov.tooold")
		default:
			return t
		}
		return time.Time{}
	}
	from = day("from", form.From, "valid.mov.from.required")
	to = day("to", form.To, "valid.mov.to.required")
	if !from.IsZero() {
		form.From = isoDay(from)
	}
	if !to.IsZero() {
		form.To = isoDay(to)
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		errs["from"] = lang.T("valid.mov.order")
	}
	return from, to
}

// parseAmountField reads an optional amount bound in the user's language
// (1.550,00 in Turkish, 1,550.00 in English).
func parseAmountField(lang i18n.Lang, field, value string, errs views.Errors) decimal.NullDecimal {
	if value == "" {
		return decimal.NullDecimal{}
	}
	d, err := i18n.ParseAmount(lang, value)
	switch {
	case i18n.AmountCode(err) == i18n.AmountDecimals:
		errs[field] = lang.T("amount.decimals")
		return decimal.NullDecimal{}
	case err != nil:
		errs[field] = lang.T("valid.mov.amount")
		return decimal.NullDecimal{}
	}
	if d.IsNegative() {
		errs[field] = lang.T("valid.mov.amount.negative")
		return decimal.NullDecimal{}
	}
	return decimal.NewNullDecimal(d)
}

// isoDay is the value a date input shows for an Istanbul day.
func isoDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(i18n.Istanbul).Format(time.DateOnly)
}
