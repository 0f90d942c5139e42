package handlers

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/providers/finrota"
	"kasa/store"
	"kasa/views"
)

// Length limits of the form's text fields.
const (
	maxDebtCode = 100
	maxDebtText = 1000
)

// maxDebtAmount is the bound of a NUMERIC(18,2).
var maxDebtAmount = decimal.New(1, 16)

// formDate writes a calendar day the way the form reads it back: Turkish
// users write 21.11.2026; in English the unambiguous ISO form.
func formDate(l i18n.Lang, t time.Time) string {
	if l == i18n.TR {
		return t.Format("02.01.2006")
	}
	return t.Format(time.DateOnly)
}

// validateDebt applies every rule Finrota enforces (CONTRACTS §1) before
// anything is sent, and the ones the mirror can check (ERP codes never
// reused; agents, accounts and currencies where an authoritative list
// names them). id is the edited debt, 0
// on create.
func (h *Handler) validateDebt(ctx context.Context, l i18n.Lang, v map[string]string, id int64) (store.DebtInput, views.Errors, error) {
	errs := views.Errors{}
	var in store.DebtInput
	text := func(name string, required bool, limit int) string {
		s := strings.TrimSpace(v[name])
		switch {
		case s == "" && required:
			errs[name] = l.T("debts.v.required")
		case utf8.RuneCountInString(s) > limit:
			errs[name] = l.T("debts.v.toolong", limit)
		case limit == maxDebtCode && strings.IndexFunc(s, unicode.IsControl) >= 0:
			errs[name] = l.T("debts.v.chars")
		}
		return s
	}
	in.ErpCode = text("erpCode", true, maxDebtCode)
	in.DocumentNo = text("documentNo", true, maxDebtCode)
	in.AgentErpCode = text("agentErpCode", true, maxDebtCode)
	in.CurrentAccountErpCode = text("currentAccountErpCode", true, maxDebtCode)
	in.Description = text("description", false, maxDebtText)

	amount := func(name string, required bool) (decimal.Decimal, bool) {
		s := strings.TrimSpace(v[name])
		if s == "" {
			if required {
				errs[name] = l.T("debts.v.required")
			}
			return decimal.Zero, !required
		}
		d, err := i18n.ParseAmount(l, s)
		switch {
		case i18n.AmountCode(err) == i18n.AmountDecimals:
			errs[name] = l.T("debts.v.amount.decimals")
		case err != nil:
			errs[name] = l.T("debts.v.amount.invalid")
		case d.Abs().GreaterThanOrEqual(maxDebtAmount):
			errs[name] = l.T("debts.v.amount.range")
		default:
			return d, true
		}
		return decimal.Zero, false
	}
	amountOK := false
	if in.Amount, amountOK = amount("amount", true); amountOK && !in.Amount.IsPositive() {
		errs["amount"] = l.T("debts.v.amount.positive")
		amountOK = false
	}
	if paid, ok := amount("paidAmount", false); ok {
		in.PaidAmount = paid
		switch {
		case paid.IsNegative():
			errs["paidAmount"] = l.T("debts.v.paid.negative")
		case amountOK && paid.GreaterThan(in.Amount):
			errs["paidAmount"] = l.T("debts.v.paid.over")
		}
	}

	day := func(name string) bool {
		s := strings.TrimSpace(v[name])
		if s == "" {
			errs[name] = l.T("debts.v.required")
			return false
		}
		t, err := i18n.ParseDate(s)
		if err != nil || t.Year() < 1900 || t.Year() > 9999 {
			errs[name] = l.T("debts.v.date.invalid")
			return false
		}
		if name == "dueDate" {
			in.DueDate = t
		} else {
			in.TransactionDate = t
		}
		return true
	}
	if okDue, okTx := day("dueDate"), day("transactionDate"); okDue && okTx && in.TransactionDate.After(in.DueDate) {
		errs["transactionDate"] = l.T("debts.v.date.order")
	}

	if s := strings.TrimSpace(v["documentType"]); s == "" {
		errs["documentType"] = l.T("debts.v.required")
	} else if t, ok := finrota.LookupDocumentType(s); ok {
		in.DocumentType = t.Wire
	} else {
		errs["documentType"] = l.T("debts.v.doctype")
	}

	refs, err := h.store.AllDebtRefs(ctx)
	if err != nil {
		return in, errs, err
	}
	// Only an authoritative list (the sandbox portal's) can say a code is
	// unknown or inactive; codes merely seen on synced debts cannot, so
	// outside the sandbox Finrota judges them and its 404 lands on the
	// same field. A new dealer's first debt is not refused here.
	listed := map[string][]store.DebtRef{}
	for _, r := range refs {
		if r.Listed() {
			listed[r.Kind] = append(listed[r.Kind], r)
		}
	}

	in.CurrencyID = strings.ToUpper(strings.TrimSpace(v["currencyId"]))
	switch {
	case in.CurrencyID == "":
		errs["currencyId"] = l.T("debts.v.required")
	case !isCurrencyCode(in.CurrencyID):
		errs["currencyId"] = l.T("debts.v.currency.format")
	case len(listed[store.RefCurrency]) > 0:
		if _, known := findRef(listed[store.RefCurrency], in.CurrencyID); !known {
			errs["currencyId"] = l.T("debts.v.currency")
		}
	}

	for _, c := range []struct{ field, kind, value string }{
		{"agentErpCode", store.RefAgent, in.AgentErpCode},
		{"currentAccountErpCode", store.RefAccount, in.CurrentAccountErpCode},
	} {
		if c.value == "" || errs[c.field] != "" || len(listed[c.kind]) == 0 {
			continue
		}
		ref, known := findRef(listed[c.kind], c.value)
		switch {
		case !known:
			errs[c.field] = l.T("debts.v." + c.kind + ".unknown")
		case !ref.Active:
			errs[c.field] = l.T("debts.v." + c.kind + ".inactive")
		}
	}

	if in.ErpCode != "" && errs["erpCode"] == "" {
		taken, err := h.store.ErpCodeTaken(ctx, in.ErpCode, id)
		if err != nil {
			return in, errs, err
		}
		if taken {
			errs["erpCode"] = l.T("debts.v.erp.taken")
		}
	}
	return in, errs, nil
}

// isCurrencyCode reports whether s has the shape of an ISO 4217 code:
// three Latin capital letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// findRef finds code among refs, exactly: Finrota matches codes case-sensitively.
func findRef(refs []store.DebtRef, code string) (store.DebtRef, bool) {
	for _, r := range refs {
		if r.Code == code {
			return r, true
		}
	}
	return store.DebtRef{}, false
}
