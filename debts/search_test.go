package debts_test

import (
	"context"
	"slices"
	"testing"

	"kasa/debts"
	"kasa/store/storetest"
)

// TestDebtSearchFollowsTurkishCase: the debts search compares letters by
// Turkish rules (see the store's TestSearchFollowsTurkishCase), over the
// ERP code, the document number and the description.
func TestDebtSearchFollowsTurkishCase(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	ctx := context.Background()

	// Debts: codes and, now, the description.
	for _, d := range []struct{ code, docNo, description string }{
		{"INV-001", "D-1", "Kırtasiye ödemesi, İSTANBUL şubesi"},
		{"cat-0002", "FTR-ÇĞ-7", "Şubat faturası"},
		{"CAT-0003", "D-3", ""},
	} {
		in := debtInput(d.code)
		in.DocumentNo, in.Description = d.docNo, d.description
		createDebt(t, s, in)
	}
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"inv-001", []string{"INV-001"}}, {"INV", []string{"INV-001"}},
		{"istanbul", []string{"INV-001"}}, {"İstanbul Şubesi", []string{"INV-001"}}, {"KIRTASİYE", []string{"INV-001"}},
		{"ŞUBAT", []string{"cat-0002"}}, {"ftr-çğ", []string{"cat-0002"}},
		{"CAT-000", []string{"CAT-0003", "cat-0002"}}, {"yok", nil},
	} {
		p, err := svc.ListDebts(ctx, debts.DebtFilter{Q: c.search})
		if err != nil {
			t.Fatal(err)
		}
		got := codes(p.Items)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("debts search %q: %v, want %v", c.search, got, c.want)
		}
	}
}
