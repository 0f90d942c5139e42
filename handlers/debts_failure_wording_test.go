package handlers

import (
	"context"
	"strings"
	"testing"

	"kasa/i18n"
	"kasa/store"
)

// TestDebtRefusalReadsOnce: a debt Finrota refused reads our explanation
// once, then Finrota's own text quoted as Finrota's, in both languages;
// nothing Finrota returned is lost, and nothing is said twice.
func TestDebtRefusalReadsOnce(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	faults := &e.sandbox.Finrota.Faults
	syncDebtsNow(t, e, c)
	const said = "The request could not be processed."
	d := pendingWithFault(t, e, c, faults.Down)
	ok, err := e.st.MarkDebtFailed(ctx, d.ID, d.Version, store.DebtError{Status: 422, Code: "422", Message: said})
	faults.Reset()
	if !ok || err != nil {
		t.Fatalf("mark failed: %v %v", ok, err)
	}
	for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
		_, doc := e.get(c, debtPath(d.ID), "Accept-Language", string(l))
		block := doc.Find(`[data-testid=debt-failure]`)
		got := strings.Join(strings.Fields(block.Text()), " ")
		want := l.T("debts.lasterror") + ": " + l.T("debts.p.validation") + " " + l.T("debts.p.said", said)
		if got != want {
			t.Errorf("%s: failure %q, want %q", l, got, want)
		}
		if n := strings.Count(got, said); n != 1 {
			t.Errorf("%s: Finrota's text appears %d times: %q", l, n, got)
		}
		if !strings.Contains(got, "“"+said+"”") {
			t.Errorf("%s: Finrota's text is not quoted as such: %q", l, got)
		}
		// The heading does not say what the explanation says again.
		if first := strings.Fields(l.T("debts.p.validation"))[0]; strings.Contains(l.T("debts.lasterror"), first) {
			t.Errorf("%s: heading %q repeats %q", l, l.T("debts.lasterror"), first)
		}
	}
}
