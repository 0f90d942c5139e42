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

	"kasa/eventually"
	"kasa/consents"
	"kasa/hgs"
	"kasa/providers/garanti"
	"kasa/store"
)

// bankUsage is what the fake bank counted against the consent today.
func bankUsage(t *testing.T, e *testEnv, c store.GarantiConsent) int {
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
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	before, _ := e.st.GarantiUsage(ctx, c.ID, time.Now())
	if before != bankUsage(t, e, c) {
		t.Fatalf("usage %d, the bank counted %d", before, bankUsage(t, e, c))
	}

	// The bank throttles (429, Retry-After: 1): it accepted no call.
	e.sandbox.Garanti.Faults.FailNext(1, http.StatusTooManyRequests)
	kind, flash, page := refreshHGS(t, e, admin)
	if kind == "success" || !strings.Contains(flash, "busy") || !strings.Contains(flash, "try again after") {
		t.Fatalf("refresh on 429 said %s %q", kind, flash)
	}
	if used, _ := e.st.GarantiUsage(ctx, c.ID, time.Now()); used != before || used != bankUsage(t, e, c) {
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
	if used, _ := e.st.GarantiUsage(ctx, c.ID, time.Now()); used != before+3 || used != bankUsage(t, e, c) {
		t.Fatalf("usage after the retry: %d (was %d), the bank counted %d", used, before, bankUsage(t, e, c))
	}
}

func TestHGSFailedCallsDoNotCountAgainstTheQuota(t *testing.T) {
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
		before, _ := e.st.GarantiUsage(ctx, c.ID, time.Now())
		fault.on()
		kind, flash, _ := refreshHGS(t, e, admin)
		f.Reset()
		if kind == "success" || !strings.Contains(flash, "Nothing was fetched") {
			t.Errorf("%s: refresh said %s %q", fault.name, kind, flash)
		}
		used, _ := e.st.GarantiUsage(ctx, c.ID, time.Now())
		if used != before || used != bankUsage(t, e, c) {
			t.Errorf("%s: usage %d (was %d), the bank counted %d", fault.name, used, before, bankUsage(t, e, c))
		}
	}
}

func TestHGSVehiclesFollowAnActiveConsent(t *testing.T) {
	e := newTestEnv(t)
	admin, a := activeConsent(t, e, 10)
	ctx := context.Background()

	// Consent B for the same vehicles: they move to B. Then B is revoked.
	back(e, admin, atBank(t, e, startConsent(t, e, admin, consentForm(10)), "approve"))
	waitIdle(t, e)
	b := onlyConsent(t, e)
	if b.ID == a.ID {
		t.Fatal("no second consent")
	}
	if vs, _ := e.st.HGSVehicles(ctx, b.ID); len(vs) != 3 {
		t.Fatalf("%d vehicles under B", len(vs))
	}
	bPath := "/consents/" + strconv.FormatInt(b.ID, 10)
	if resp, _ := e.postForm(admin, bPath+"/revoke", url.Values{"mode": {"all"}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke B: %d", resp.StatusCode)
	}

	// Refresh now: the vehicles sync under A again, with calls to the bank.
	before := bankUsage(t, e, a)
	kind, flash, page := refreshHGS(t, e, admin)
	if kind != "success" || !strings.Contains(flash, "Vehicles brought up to date: 3;") {
		t.Fatalf("refresh said %s %q", kind, flash)
	}
	if vs, _ := e.st.HGSVehicles(ctx, a.ID); len(vs) != 3 {
		t.Fatalf("%d vehicles back under A", len(vs))
	}
	if bankUsage(t, e, a) != before+3 {
		t.Fatalf("the bank counted %d calls under A, want 3", bankUsage(t, e, a)-before)
	}
	if n := page.Find(`[data-testid=hgs-vehicle-uncovered]`).Length(); n != 0 {
		t.Fatalf("%d cards uncovered", n)
	}

	// One vehicle is withdrawn from A: no active consent covers it. Its card
	// and the page say so, with the way out; it costs no call.
	vs, _ := e.st.HGSVehicles(ctx, a.ID)
	victim := vs[0].ProductID
	aPath := "/consents/" + strconv.FormatInt(a.ID, 10)
	if resp, _ := e.postForm(admin, aPath+"/revoke", url.Values{"mode": {"product"}, "product": {victim}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke a vehicle of A: %d", resp.StatusCode)
	}
	before = bankUsage(t, e, a)
	kind, flash, page = refreshHGS(t, e, admin)
	if kind != "warn" || !strings.Contains(flash, "Vehicles brought up to date: 2;") ||
		!strings.Contains(flash, "Vehicles not covered by an active consent: 1;") {
		t.Fatalf("refresh with an uncovered vehicle said %s %q", kind, flash)
	}
	if bankUsage(t, e, a) != before+2 {
		t.Fatalf("the bank counted %d calls, want 2", bankUsage(t, e, a)-before)
	}
	card := page.Find(`[data-testid=hgs-vehicle][data-product="` + victim + `"] [data-testid=hgs-vehicle-uncovered]`)
	if !strings.Contains(card.Text(), "No active consent covers this vehicle") || card.Find(`a[href="/consents/new"]`).Length() != 1 {
		t.Fatalf("uncovered card %q", card.Text())
	}
	if page.Find(`[data-testid=hgs-vehicle-uncovered]`).Length() != 1 || !strings.Contains(testID(page, "hgs-uncovered"), "not covered by an active consent: 1.") {
		t.Fatalf("page banner %q", testID(page, "hgs-uncovered"))
	}

	// A is revoked too: nothing is covered. The scheduled sync records the
	// same state, shown on the page; no bank call is made.
	if resp, _ := e.postForm(admin, aPath+"/revoke", url.Values{"mode": {"all"}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke A: %d", resp.StatusCode)
	}
	before = bankUsage(t, e, a)
	if err := runJob(ctx, e, hgs.SyncArgs{}); err != nil {
		t.Fatal(err)
	}
	if bankUsage(t, e, a) != before {
		t.Fatal("a sync without any consent called the bank")
	}
	_, doc := e.get(admin, "/hgs", "Accept-Language", "en")
	if got := testID(doc, "hgs-last-run"); !strings.Contains(got, "Last sync (scheduled") || !strings.Contains(got, "Nothing was fetched") ||
		!strings.Contains(got, "vehicles not covered: 3") {
		t.Fatalf("last run %q", got)
	}
	if doc.Find(`[data-testid=hgs-vehicle-uncovered]`).Length() != 3 {
		t.Fatal("not every card says it is uncovered")
	}
	_, flash, _ = refreshHGS(t, e, admin)
	if !strings.Contains(flash, "no active Garanti BBVA consent") {
		t.Fatalf("refresh without a consent said %q", flash)
	}
}

func TestAuthorityBadgeFollowsAnAuthorityOnlyRevoke(t *testing.T) {
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	if resp, _ := e.postForm(admin, path+"/refresh", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status refresh: %d", resp.StatusCode)
	}
	badge := `[data-testid="authority-status-` + garanti.AuthorityProductInfo + `"]`
	_, doc := e.get(admin, path, "Accept-Language", "en")
	if got := strings.TrimSpace(doc.Find(badge).Text()); got != "Active (A)" {
		t.Fatalf("authority badge before the revoke %q", got)
	}
	if resp, _ := e.postForm(admin, path+"/revoke", url.Values{"mode": {"authority"}, "authority": {garanti.AuthorityProductInfo},
		"confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	// Without a status refresh, the withdrawn authority reads as revoked;
	// the other one is still in force.
	_, doc = e.get(admin, path, "Accept-Language", "en")
	if got := doc.Find(badge); got.AttrOr("data-status", "") != store.GarantiRevoked || strings.Contains(got.Text(), "Active") {
		t.Fatalf("authority badge after the revoke %q", got.Text())
	}
	other := `[data-testid="authority-status-` + garanti.AuthorityTransactionInfo + `"]`
	if got := strings.TrimSpace(doc.Find(other).Text()); got != "Active (A)" {
		t.Fatalf("the other authority's badge %q", got)
	}
	// The bank agrees at the next status check.
	e.postForm(admin, path+"/refresh", url.Values{})
	_, doc = e.get(admin, path, "Accept-Language", "en")
	if got := doc.Find(badge); got.AttrOr("data-status", "") != store.GarantiRevoked {
		t.Fatalf("authority badge after the status check %q", got.Text())
	}
}

func TestStatusCall429IsNotTheDailyQuota(t *testing.T) {
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

func TestConsentAbandonedAtTheBankIsMarkedOnceItsStateExpires(t *testing.T) {
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	startConsent(t, e, admin, consentForm(5))
	c := onlyConsent(t, e)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	ctx := context.Background()

	// A status check is queued for when the approval's state expires.
	queued := queuedJobs(t, e, consents.StatusArgs{}.Kind())
	expires := time.Now().Add(stateLifetime)
	if len(queued) != 1 || queued[0].RunAt.Before(expires.Add(-time.Minute)) || queued[0].RunAt.After(expires.Add(time.Minute)) {
		t.Fatalf("status checks queued = %+v", queued)
	}
	// Before then it is awaiting approval.
	if err := runJob(ctx, e, consents.StatusArgs{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.st.GarantiConsent(ctx, c.ID); got.Status != store.GarantiAwaiting {
		t.Fatalf("consent before the state expired: %+v", got)
	}
	// The customer never came back: once the state has expired the consent
	// can never be completed, and says so.
	e.now.Advance(stateLifetime + time.Second)
	if err := runJob(ctx, e, consents.StatusArgs{}); err != nil {
		t.Fatal(err)
	}
	_, doc := e.get(admin, path, "Accept-Language", "tr")
	if got := doc.Find(`[data-testid=consent-status]`); got.AttrOr("data-status", "") != store.GarantiAbandoned ||
		strings.Contains(got.Text(), "Onay bekliyor") {
		t.Fatalf("consent page status %q", got.Text())
	}
	if got := testID(doc, "consent-valid-until"); strings.Contains(got, "gün kaldı") {
		t.Fatalf("an abandoned consent counts days: %q", got)
	}
	if testID(doc, "consent-abandoned") == "" || doc.Find(`[data-testid=consent-abandoned] a[href="/consents/new"]`).Length() != 1 {
		t.Fatal("no note on what to do with an abandoned consent")
	}
	_, doc = e.get(admin, "/consents", "Accept-Language", "tr")
	if got := doc.Find(`[data-testid=consent-status]`).AttrOr("data-status", ""); got != store.GarantiAbandoned ||
		strings.Contains(doc.Find(`[data-testid=consent-row]`).Text(), "gün kaldı") {
		t.Fatalf("consent list shows %q", doc.Find(`[data-testid=consent-row]`).Text())
	}
	// Asking the bank again does not bring it back to "awaiting".
	e.postForm(admin, path+"/refresh", url.Values{})
	if got, _ := e.st.GarantiConsent(ctx, c.ID); got.Status != store.GarantiAbandoned {
		t.Fatalf("after a status refresh: %+v", got)
	}
}
