package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kasa/debts"
	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

// TestDebtRefusalReadsOnce: a debt Finrota refused reads our explanation
// once, then Finrota's own text quoted as Finrota's, in both languages;
// nothing Finrota returned is lost, and nothing is said twice.
func TestDebtRefusalReadsOnce(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	faults := &e.sandbox.Finrota.Faults
	syncDebtsNow(t, e, c)
	const said = "The request could not be processed."
	d := pendingWithFault(t, e, c, faults.Down)
	ok, err := e.h.app.Debts.MarkDebtFailed(ctx, d.ID, d.Version, debts.DebtError{Status: 422, Code: "422", Message: said})
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

// TestDebtSyncFailureIsTranslated: a failed sync is explained in the
// user's language; no error text (which may name hosts) reaches the page.
func TestDebtSyncFailureIsTranslated(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	e.sandbox.Finrota.Faults.FailNext(-1, http.StatusForbidden)
	defer e.sandbox.Finrota.Faults.Reset()
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		e.st.DB().MustExec(`UPDATE debt_syncs SET state = 'failed' WHERE state = 'running'`)
		resp, _ := e.postForm(c, "/debts/sync", url.Values{}, "Accept-Language", string(lang))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sync: %d", resp.StatusCode)
		}
		_, doc := e.get(c, "/debts", "Accept-Language", string(lang))
		want := lang.T("debts.sync.failed", lang.T("debts.sync.err.forbidden"))
		if got := testID(doc, "flash-error"); got != want {
			t.Fatalf("%s: flash %q, want %q", lang, got, want)
		}
	}
	// A row from before reason codes, holding an error's raw text.
	if got := views.SyncFailure(i18n.EN, "finrota: list debts: dial tcp 10.1.2.3:8443: connection refused"); got != i18n.EN.T("debts.sync.err.internal") {
		t.Fatalf("raw text shown: %q", got)
	}
}
