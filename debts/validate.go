package debts

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"kasa/i18n"
)

// Length limits of the form's text fields.
const (
	maxDebtCode = 100
	maxDebtText = 1000
)

// maxDebtAmount is the bound of a NUMERIC(18,2).
var maxDebtAmount = decimal.New(1, 16)

// Problem is a rule a field's value broke: a language-neutral code (the
// key of its message in the catalogue) and the values the message names.
type Problem struct {
	Code string
	Args []any
}

// Problems are the broken rules by field name; empty when the input is valid.
type Problems map[string]Problem

// problems records at most one problem per field, as errs[name] = code did.
type problems struct{ p Problems }

func (ps problems) set(field, code string, args ...any) {
	ps.p[field] = Problem{Code: code, Args: args}
}
func (ps problems) has(field string) bool { _, ok := ps.p[field]; return ok }

// Validate applies every rule Finrota enforces (CONTRACTS §1) before
// anything is sent, and the ones the mirror can check (ERP codes never
// reused; agents, accounts and currencies where an authoritative list
// names them). l is the language numbers and dates were typed in; id is
// the edited debt, 0 on create.
func (s *Service) Validate(ctx context.Context, l i18n.Lang, v map[string]string, id int64) (DebtInput, Problems, error) {
	errs := problems{Problems{}}
	var in DebtInput
	text := func(name string, required bool, limit int) string {
		s := strings.TrimSpace(v[name])
		switch {
		case s == "" && required:
			errs.set(name, "debts.v.required")
		case utf8.RuneCountInString(s) > limit:
			errs.set(name, "debts.v.toolong", limit)
		case limit == maxDebtCode && strings.IndexFunc(s, unicode.IsControl) >= 0:
			errs.set(name, "debts.v.chars")
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
				errs.set(name, "debts.v.required")
			}
			return decimal.Zero, !required
		}
		d, err := i18n.ParseAmount(l, s)
		switch {
		case i18n.AmountCode(err) == i18n.AmountDecimals:
			errs.set(name, "debts.v.amount.decimals")
		case err != nil:
			errs.set(name, "debts.v.amount.invalid")
		case d.Abs().GreaterThanOrEqual(maxDebtAmount):
			errs.set(name, "debts.v.amount.range")
		default:
			return d, true
		}
		return decimal.Zero, false
	}
	amountOK := false
	if in.Amount, amountOK = amount("amount", true); amountOK && !in.Amount.IsPositive() {
		errs.set("amount", "debts.v.amount.positive")
		amountOK = false
	}
	if paid, ok := amount("paidAmount", false); ok {
		in.PaidAmount = paid
		switch {
		case paid.IsNegative():
			errs.set("paidAmount", "debts.v.paid.negative")
		case amountOK && paid.GreaterThan(in.Amount):
			errs.set("paidAmount", "debts.v.paid.over")
		}
	}

	day := func(name string) bool {
		s := strings.TrimSpace(v[name])
		if s == "" {
			errs.set(name, "debts.v.required")
			return false
		}
		t, err := i18n.ParseDate(s)
		if err != nil || t.Year() < 1900 || t.Year() > 9999 {
			errs.set(name, "debts.v.date.invalid")
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
		errs.set("transactionDate", "debts.v.date.order")
	}

	if s := strings.TrimSpace(v["documentType"]); s == "" {
		errs.set("documentType", "debts.v.required")
	} else if t, ok := LookupDocumentType(s); ok {
		in.DocumentType = t.Wire
	} else {
		errs.set("documentType", "debts.v.doctype")
	}

	refs, err := s.AllDebtRefs(ctx)
	if err != nil {
		return in, errs.p, err
	}
	// Only an authoritative list (the sandbox portal's) can say a code is
	// unknown or inactive; codes merely seen on synced debts cannot, so
	// outside the sandbox Finrota judges them and its 404 lands on the
	// same field. A new dealer's first debt is not refused here.
	listed := map[string][]DebtRef{}
	for _, r := range refs {
		if r.Listed() {
			listed[r.Kind] = append(listed[r.Kind], r)
		}
	}

	in.CurrencyID = strings.ToUpper(strings.TrimSpace(v["currencyId"]))
	switch {
	case in.CurrencyID == "":
		errs.set("currencyId", "debts.v.required")
	case !isCurrencyCode(in.CurrencyID):
		errs.set("currencyId", "debts.v.currency.format")
	case len(listed[RefCurrency]) > 0:
		if _, known := findRef(listed[RefCurrency], in.CurrencyID); !known {
			errs.set("currencyId", "debts.v.currency")
		}
	}

	for _, c := range []struct{ field, kind, value string }{
		{"agentErpCode", RefAgent, in.AgentErpCode},
		{"currentAccountErpCode", RefAccount, in.CurrentAccountErpCode},
	} {
		if c.value == "" || errs.has(c.field) || len(listed[c.kind]) == 0 {
			continue
		}
		ref, known := findRef(listed[c.kind], c.value)
		switch {
		case !known:
			errs.set(c.field, "debts.v."+c.kind+".unknown")
		case !ref.Active:
			errs.set(c.field, "debts.v."+c.kind+".inactive")
		}
	}

	if in.ErpCode != "" && !errs.has("erpCode") {
		taken, err := s.ErpCodeTaken(ctx, in.ErpCode, id)
		if err != nil {
			return in, errs.p, err
		}
		if taken {
			errs.set("erpCode", "debts.v.erp.taken")
		}
	}
	return in, errs.p, nil
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
func findRef(refs []DebtRef, code string) (DebtRef, bool) {
	for _, r := range refs {
		if r.Code == code {
			return r, true
		}
	}
	return DebtRef{}, false
}
