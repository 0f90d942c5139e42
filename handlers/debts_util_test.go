package handlers

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"kasa/connect"
	"kasa/store"
)

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// seedSandboxRefs puts the fake portal's agents, current accounts and
// currencies into the form choices, as sandbox mode does at start: the
// real API has no endpoint for them, and the debts area reads only its
// tables.
func seedSandboxRefs(t *testing.T, st *store.Store, sb *connect.Sandbox) {
	t.Helper()
	var refs []store.DebtRef
	for _, a := range sb.Finrota.Agents() {
		refs = append(refs, store.DebtRef{Kind: store.RefAgent, Code: a.Code, Name: a.Name, Active: a.Active})
	}
	for _, a := range sb.Finrota.CurrentAccounts() {
		refs = append(refs, store.DebtRef{Kind: store.RefAccount, Code: a.ErpCode, Name: a.Name, Active: a.Active})
	}
	for _, c := range sb.Finrota.Currencies() {
		refs = append(refs, store.DebtRef{Kind: store.RefCurrency, Code: c, Active: true})
	}
	if err := st.PutDebtRefs(context.Background(), refs); err != nil {
		t.Fatal(err)
	}
}
