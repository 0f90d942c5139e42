package handlers

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"kasa/i18n"
	"kasa/store"
)

// TestDebtDailyNotifySwitch: an operator switches the daily automatic send
// on and off on the overdue page; each switch is saved, audited and shown.
func TestDebtDailyNotifySwitch(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	ctx := context.Background()
	for _, on := range []bool{true, false} {
		form, key := url.Values{}, "debts.notify.daily.off"
		if on {
			form.Set("daily", "1")
			key = "debts.notify.daily.on"
		}
		resp, _ := e.postForm(c, "/debts/overdue/daily", form, "Accept-Language", "en")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/debts/overdue" {
			t.Fatalf("switch %v: status %d to %q", on, resp.StatusCode, resp.Header.Get("Location"))
		}
		if got, err := e.h.app.Debts.DebtDailyNotify(ctx); err != nil || got != on {
			t.Fatalf("daily send after switching %v: %v, %v", on, got, err)
		}
		_, doc := e.get(c, "/debts/overdue", "Accept-Language", "en")
		if got := testID(doc, "flash-success"); got != i18n.EN.T(key) {
			t.Errorf("switch %v: flash %q", on, got)
		}
		if _, checked := doc.Find(`[data-testid=notify-daily]`).Attr("checked"); checked != on {
			t.Errorf("switch %v: the box shows checked=%v", on, checked)
		}
	}
	trail, err := e.st.AuditTrail(ctx, "debt-options", 10)
	if err != nil || len(trail) != 2 || trail[0].Action != "debt.notify.daily" {
		t.Fatalf("history of the switch: %+v, %v", trail, err)
	}

	viewer, _ := e.login(store.RoleViewer)
	if resp, _ := e.postForm(viewer, "/debts/overdue/daily", url.Values{"daily": {"1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer switched the daily send: status %d", resp.StatusCode)
	}
	if on, _ := e.h.app.Debts.DebtDailyNotify(ctx); on {
		t.Error("the viewer's switch was saved")
	}
}
