package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kasa/consents"
	"kasa/eventually"
	"kasa/hgs"
	"kasa/tz"
)

// bankUsage is what the fake bank counted against the consent today.
func bankUsage(t *testing.T, e *testEnv, c consents.Consent) int {
	t.Helper()
	st, ok := e.sandbox.Garanti.Consent(c.ConsentID)
	if !ok {
		t.Fatalf("the bank does not know consent %s", c.ConsentID)
	}
	return st.UsageToday
}

// refreshHGS presses "Refresh now" and returns the HGS page it lands on.
func refreshHGS(t *testing.T, e *testEnv, c *http.Client) (flashKind, flash string, page *goquery.Document) {
	t.Helper()
	resp, _ := e.postForm(c, "/hgs/refresh", url.Values{}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refresh: %d", resp.StatusCode)
	}
	_, doc := e.get(c, "/hgs", "Accept-Language", "en")
	for _, k := range []string{"success", "info", "warn", "error"} {
		if s := testID(doc, "flash-"+k); s != "" {
			flashKind, flash = k, s
		}
	}
	return flashKind, flash, doc
}

func TestHGSThrottled429KeepsTheQuotaAndRetriesAfterRetryAfter(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	before, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now())
	if before != bankUsage(t, e, c) {
		t.Fatalf("usage %d, the bank counted %d", before, bankUsage(t, e, c))
	}

	// The bank throttles (429, Retry-After: 1): it accepted no call.
	e.sandbox.Garanti.Faults.FailNext(1, http.StatusTooManyRequests)
	kind, flash, page := refreshHGS(t, e, admin)
	if kind == "success" || !strings.Contains(flash, "busy") || !strings.Contains(flash, "try again after") {
		t.Fatalf("refresh on 429 said %s %q", kind, flash)
	}
	if used, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now()); used != before || used != bankUsage(t, e, c) {
		t.Fatalf("usage after a 429: %d (was %d), the bank counted %d", used, before, bankUsage(t, e, c))
	}
	if n := page.Find(`[data-testid=hgs-vehicle-error]`).Length(); n != 0 {
		t.Fatalf("%d cards say the last sync failed after a throttle", n)
	}
	if got := testID(page, "hgs-quota"); !strings.Contains(got, strconv.Itoa(before)+" of 10") {
		t.Fatalf("quota line %q", got)
	}
	// The rule is stated where the quota is shown.
	if got := testID(page, "hgs-quota-rule"); !strings.Contains(got, "Only calls the bank answered") {
		t.Fatalf("quota rule %q", got)
	}
	_, doc := e.get(admin, "/consents/"+strconv.FormatInt(c.ID, 10), "Accept-Language", "tr")
	if got := testID(doc, "consent-quota-rule"); !strings.Contains(got, "Yalnızca bankanın yanıtladığı") {
		t.Fatalf("consent page quota rule %q", got)
	}
	// The next attempt follows Retry-After, not the next day.
	queued := queuedJobs(t, e, hgs.SyncArgs{}.Kind())
	if len(queued) != 1 || queued[0].RunAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("retry after the 429 = %+v", queued)
	}
	// That attempt syncs and counts only what the bank accepted.
	eventually.That(t, "the retry after Retry-After", func() error {
		busy, _ := hgsSyncPending(ctx, e.st.DB())
		state := jobState(ctx, e, queued[0].ID)
		if busy || state != "completed" {
			return fmt.Errorf("sync pending %v, retry job %s", busy, state)
		}
		return nil
	})
	if used, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now()); used != before+3 || used != bankUsage(t, e, c) {
		t.Fatalf("usage after the retry: %d (was %d), the bank counted %d", used, before, bankUsage(t, e, c))
	}
}

func TestHGSFailedCallsDoNotCountAgainstTheQuota(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	f := &e.sandbox.Garanti.Faults
	for _, fault := range []struct {
		name string
		on   func()
	}{
		{"500", func() { f.FailNext(-1, http.StatusInternalServerError) }},
		{"dropped connection", func() { f.DropConnections(true) }},
		{"malformed reply", func() { f.Malformed(true) }},
	} {
		before, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now())
		fault.on()
		kind, flash, _ := refreshHGS(t, e, admin)
		f.Reset()
		if kind == "success" || !strings.Contains(flash, "Nothing was fetched") {
			t.Errorf("%s: refresh said %s %q", fault.name, kind, flash)
		}
		used, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now())
		if used != before || used != bankUsage(t, e, c) {
			t.Errorf("%s: usage %d (was %d), the bank counted %d", fault.name, used, before, bankUsage(t, e, c))
		}
	}
}

func TestStatusCall429IsNotTheDailyQuota(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	e.sandbox.Garanti.Faults.FailNext(1, http.StatusTooManyRequests)
	if resp, _ := e.postForm(admin, path+"/refresh", url.Values{}, "Accept-Language", "tr"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status refresh: %d", resp.StatusCode)
	}
	_, doc := e.get(admin, path, "Accept-Language", "tr")
	flash := testID(doc, "flash-error")
	if strings.Contains(flash, "erişim hakkı doldu") || !strings.Contains(flash, "çok fazla istek") {
		t.Fatalf("status 429 said %q", flash)
	}
	if got := testID(doc, "consent-last-error"); strings.Contains(got, "erişim hakkı doldu") {
		t.Fatalf("consent error %q", got)
	}
	if got := testID(doc, "consent-usage"); got != "3 / 10" {
		t.Fatalf("usage %q", got)
	}
}

func TestSyncStopsForTheDayWhenTheBankSaysTheQuotaIsSpent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, c := activeConsent(t, e, 3)
	ctx := context.Background()
	// The bank has counted the day's three calls; our count says none (as
	// if another client of the consent made them). Its 429 runs to the next
	// Istanbul day: the day is spent, whatever our count says.
	if _, err := e.st.DB().Exec(`UPDATE garanti_usage SET calls = 0 WHERE consent_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	res, err := e.h.app.HGS.Sync(ctx, c.ID, true)
	if err != nil || res.Calls != 0 || res.Deferred != 3 || res.Failed != 0 || !res.Quota || !res.RetryAt.IsZero() {
		t.Fatalf("sync on the bank's quota 429: %+v %v", res, err)
	}
	if used, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now()); used != 3 {
		t.Fatalf("usage after the quota 429: %d, want the whole quota", used)
	}
	tomorrow := tz.Day(time.Now()).AddDate(0, 0, 1)
	queued := queuedJobs(t, e, hgs.SyncArgs{}.Kind())
	if len(queued) != 1 || queued[0].RunAt.Before(tomorrow) {
		t.Fatalf("deferred sync = %+v", queued)
	}
	if res.NextCall.Before(tomorrow) {
		t.Fatalf("next call %s", res.NextCall)
	}
}
