package debts_test

import (
	"context"
	"reflect"
	"testing"

	"kasa/debts"
	"kasa/i18n"
)

// TestValidateReturnsCodes: the area's validation names each broken rule by
// a language-neutral code and its values, for the handler to word; the
// same input typed in either language's number format is read alike.
func TestValidateReturnsCodes(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	valid := func(l i18n.Lang) map[string]string {
		// The sandbox seeds the fake portal's agents and current accounts
		// as the known references; a valid debt names known ones.
		v := map[string]string{"agentErpCode": e.sb.Finrota.ActiveAgentCodes()[0], "currentAccountErpCode": e.sb.Finrota.ActiveCurrentAccountCodes()[0], "amount": "1.550,00", "paidAmount": "0",
			"documentNo": "D-1", "documentType": "Fatura", "transactionDate": "01.03.2026", "dueDate": "2026-04-01",
			"currencyId": "try", "erpCode": "V-1"}
		if l == i18n.EN {
			v["amount"] = "1,550.00"
		}
		return v
	}
	for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
		in, problems, err := e.svc.Validate(ctx, l, valid(l), 0)
		if err != nil || len(problems) != 0 || in.Amount.String() != "1550" || in.CurrencyID != "TRY" {
			t.Fatalf("%s: valid input: %+v, %v, %v", l, in, problems, err)
		}
	}
	for _, c := range []struct {
		field, value string
		want         debts.Problem
	}{
		{"erpCode", "", debts.Problem{Code: "debts.v.required"}},
		{"description", string(make([]byte, 1001)), debts.Problem{Code: "debts.v.toolong", Args: []any{1000}}},
		{"amount", "1,555", debts.Problem{Code: "debts.v.amount.decimals"}},
		{"paidAmount", "2.000,00", debts.Problem{Code: "debts.v.paid.over"}},
		{"documentType", "Ödeme", debts.Problem{Code: "debts.v.doctype"}},
		{"transactionDate", "02.04.2026", debts.Problem{Code: "debts.v.date.order"}},
		{"currencyId", "TL", debts.Problem{Code: "debts.v.currency.format"}},
	} {
		v := valid(i18n.TR)
		v[c.field] = c.value
		_, problems, err := e.svc.Validate(ctx, i18n.TR, v, 0)
		if err != nil || len(problems) != 1 || !reflect.DeepEqual(problems[c.field], c.want) {
			t.Errorf("%s=%q: %+v, %v; want %+v", c.field, c.value, problems, err, c.want)
		}
	}
}
