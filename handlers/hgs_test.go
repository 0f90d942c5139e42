package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/consents"
	"kasa/eventually"
	"kasa/hgs"
	"kasa/i18n"
	"kasa/providers/garanti/garantitest"
	"kasa/tz"
)

// activeConsent runs the whole flow with frequencyPerDay freq and waits for
// the first sync to finish.
func activeConsent(t *testing.T, e *testEnv, freq int) (*http.Client, consents.Consent) {
	t.Helper()
	admin := registerGaranti(t, e)
	loc := atBank(t, e, startConsent(t, e, admin, consentForm(freq)), "approve")
	if resp := back(e, admin, loc); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	c := onlyConsent(t, e)
	waitIdle(t, e)
	return admin, c
}

// waitIdle waits until no sync is running or due.
func waitIdle(t *testing.T, e *testEnv) {
	t.Helper()
	eventually.That(t, "no HGS sync pending", func() error {
		busy, err := hgsSyncPending(context.Background(), e.st.DB())
		if err != nil {
			t.Fatal(err)
		}
		if busy {
			return errors.New("a sync is running or due")
		}
		return nil
	})
}

// hgsSyncPending reports whether an HGS sync is running or due now (not one
// waiting for tomorrow's quota).
func hgsSyncPending(ctx context.Context, q sqlx.QueryerContext) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM river_job WHERE kind = $1
		AND (state = 'running' OR (state IN ('available', 'retryable', 'scheduled') AND scheduled_at <= now()))`, hgs.SyncArgs{}.Kind())
	if err != nil {
		return false, fmt.Errorf("hgs sync pending: %w", err)
	}
	return n > 0, nil
}

func TestSyncNeverExceedsFrequencyPerDay(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 2)
	ctx := context.Background()

	// Three tags, two calls allowed: two cards synced, one left for tomorrow.
	if used, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now()); used != 2 {
		t.Fatalf("usage %d, want 2", used)
	}
	if st, _ := e.sandbox.Garanti.Consent(c.ConsentID); st.UsageToday != 2 {
		t.Fatalf("the bank counted %d calls", st.UsageToday)
	}
	vs, _ := e.h.app.HGS.Vehicles(ctx, c.ID)
	synced := 0
	for _, v := range vs {
		if v.LastSyncedAt != nil {
			synced++
		}
	}
	if len(vs) != 3 || synced != 2 {
		t.Fatalf("%d tags, %d synced", len(vs), synced)
	}
	tomorrow := tz.Day(time.Now()).AddDate(0, 0, 1)
	queued := queuedJobs(t, e, hgs.SyncArgs{}.Kind())
	if len(queued) != 1 || queued[0].RunAt.Before(tomorrow) {
		t.Fatalf("deferred sync = %+v", queued)
	}

	// "Refresh now" refuses and says when the next call is allowed.
	resp, _ := e.postForm(admin, "/hgs/refresh", url.Values{}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refresh: %d", resp.StatusCode)
	}
	_, doc := e.get(admin, "/hgs", "Accept-Language", "en")
	want := "Today's 2 calls are used up; the next call is allowed after " + i18n.EN.DateTime(tomorrow)
	if got := testID(doc, "flash-warn"); got != want+"." {
		t.Fatalf("refresh said %q, want %q", got, want)
	}
	if st, _ := e.sandbox.Garanti.Consent(c.ConsentID); st.UsageToday != 2 {
		t.Fatalf("refusing still called the bank: %d", st.UsageToday)
	}
	_, doc = e.get(admin, "/consents/"+strconv.FormatInt(c.ID, 10), "Accept-Language", "en")
	if got := testID(doc, "consent-usage"); got != "2 / 2" {
		t.Fatalf("consent page usage %q", got)
	}
	if got := testID(doc, "consent-next"); got != "after "+i18n.EN.DateTime(tomorrow) {
		t.Fatalf("consent page next call %q", got)
	}
}

func TestHGSPageFiltersTotalsAndExport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	vs, _ := e.h.app.HGS.Vehicles(ctx, c.ID)
	if len(vs) != 3 || vs[0].Plate == "" || vs[0].Balance == nil {
		t.Fatalf("vehicles = %+v", vs)
	}
	resp, doc := e.get(admin, "/hgs", "Accept-Language", "en")
	if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid=hgs-vehicle]`).Length() != 3 {
		t.Fatalf("hgs page: %d, %d cards", resp.StatusCode, doc.Find(`[data-testid=hgs-vehicle]`).Length())
	}
	if doc.Find(`[data-testid=hgs-txn]`).Length() != hgsPageSize || testID(doc, "pagination") == "" {
		t.Fatalf("%d rows on the first page", doc.Find(`[data-testid=hgs-txn]`).Length())
	}
	// The stored movements are the bank's, once each: a second sync adds no duplicates.
	var before int
	noErr(t, e.st.DB().Get(&before, `SELECT count(*) FROM hgs_transactions`))
	if _, err := e.h.app.HGS.Sync(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	var after int
	noErr(t, e.st.DB().Get(&after, `SELECT count(*) FROM hgs_transactions`))
	if before == 0 || after != before {
		t.Fatalf("%d movements, %d after a second sync", before, after)
	}

	// Filters: one tag's top-ups only.
	plate := vs[0].Plate
	resp, doc = e.get(admin, "/hgs?vehicle="+vs[0].ProductID+"&kind=topups", "Accept-Language", "en")
	rows := doc.Find(`[data-testid=hgs-txn]`)
	if resp.StatusCode != http.StatusOK || rows.Length() == 0 {
		t.Fatalf("filtered: %d, %d rows", resp.StatusCode, rows.Length())
	}
	for i := range rows.Length() {
		r := rows.Eq(i)
		if r.AttrOr("data-dc", "") != "A" || !strings.Contains(r.Text(), plate) {
			t.Fatalf("row %d does not match the filter: %s", i, r.Text())
		}
	}
	// Bad filters are explained next to their field and keep what was typed.
	resp, doc = e.get(admin, "/hgs?from=2025-13-40&to=2020-01-01&motorway=K%C3%B6pr%C3%BC", "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(doc, "from"), "DD.MM.YYYY") ||
		doc.Find("#f-motorway").AttrOr("value", "") != "Köprü" {
		t.Fatalf("bad filter: %d %q", resp.StatusCode, fieldError(doc, "from"))
	}
	resp, doc = e.get(admin, "/hgs?from=2025-02-01&to=2025-01-01", "Accept-Language", "tr")
	if !strings.Contains(fieldError(doc, "to"), "başlangıçtan önce olamaz") {
		t.Fatalf("reversed range: %d %q", resp.StatusCode, fieldError(doc, "to"))
	}

	// Totals per vehicle add up to the rows stored.
	per, months, err := e.h.app.HGS.Totals(ctx, hgs.Filter{})
	if err != nil || len(per) != 3 || len(months) < 12 {
		t.Fatalf("totals %d per vehicle, %d months, %v", len(per), len(months), err)
	}
	var sumVehicles, sumMonths int
	for _, p := range per {
		sumVehicles += p.Passages
	}
	for _, m := range months {
		sumMonths += m.Passages
	}
	var passages int
	noErr(t, e.st.DB().Get(&passages, `SELECT count(*) FROM hgs_transactions WHERE debit_credit = 'B'`))
	if sumVehicles != passages || sumMonths != passages {
		t.Fatalf("passages: %d per vehicle, %d per month, %d stored", sumVehicles, sumMonths, passages)
	}

	// CSV: BOM, header, one line per movement of the filter.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/hgs/export.csv?vehicle="+vs[0].ProductID, nil)
	req.Header.Set("Accept-Language", "tr")
	res, err := admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	closeOrFail(t, res.Body)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	var count int
	noErr(t, e.st.DB().Get(&count, `SELECT count(*) FROM hgs_transactions WHERE product_id = $1`, vs[0].ProductID))
	// A Turkish user gets the decimal comma, so fields are separated by ";".
	if !strings.HasPrefix(string(body), "\uFEFFAraç;Ürün no;") || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		len(lines) != count+1 || !strings.HasPrefix(lines[1], plate+";"+vs[0].ProductID+";") || !strings.Contains(lines[1], ",") {
		t.Fatalf("csv: %q…, %d lines for %d movements", lines[0], len(lines), count)
	}
}

func TestRevokedVehicleIsShownUncovered(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	vs, _ := e.h.app.HGS.Vehicles(context.Background(), c.ID)
	victim := vs[1].ProductID

	// The confirmation step says what goes; a wrong choice is explained.
	resp, doc := e.get(admin, path+"/revoke?mode=product&product=nope", "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(doc, "product") != "Choose a vehicle of this consent." {
		t.Fatalf("bad product: %d %q", resp.StatusCode, fieldError(doc, "product"))
	}
	resp, doc = e.get(admin, path+"/revoke?mode=product&product="+victim, "Accept-Language", "en")
	if resp.StatusCode != http.StatusOK || !strings.Contains(testID(doc, "revoke-summary"), victim) {
		t.Fatalf("confirm page: %d %q", resp.StatusCode, testID(doc, "revoke-summary"))
	}
	// Without the confirmation nothing is sent.
	resp, _ = e.postForm(admin, path+"/revoke", url.Values{"mode": {"product"}, "product": {victim}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unconfirmed revoke: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(admin, path+"/revoke", url.Values{"mode": {"product"}, "product": {victim}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	st, _ := e.sandbox.Garanti.Consent(c.ConsentID)
	for _, g := range st.Grants {
		if g.Revoked != (g.ProductID == victim) {
			t.Fatalf("bank grants after revoke: %+v", st.Grants)
		}
	}
	_, doc = e.get(admin, path, "Accept-Language", "en")
	if doc.Find(`[data-testid=grant-revoked]`).Length() != 2 || doc.Find(`[data-testid=consent-status]`).AttrOr("data-status", "") != "active" {
		t.Fatal("consent page does not show the vehicle's grants revoked")
	}

	// Refresh now: the withdrawn tag is known to be uncovered. It costs no
	// call (and earns no E052); its card says so, with the way out.
	before := bankUsage(t, e, c)
	resp, _ = e.postForm(admin, "/hgs/refresh", url.Values{}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refresh: %d", resp.StatusCode)
	}
	waitIdle(t, e)
	_, doc = e.get(admin, "/hgs", "Accept-Language", "en")
	if got := testID(doc, "flash-warn"); !strings.Contains(got, "Vehicles not covered by an active consent: 1;") {
		t.Fatalf("refresh said %q", got)
	}
	if bankUsage(t, e, c) != before+2 {
		t.Fatalf("the bank counted %d calls, want 2", bankUsage(t, e, c)-before)
	}
	card := doc.Find(`[data-testid=hgs-vehicle][data-product="` + victim + `"] [data-testid=hgs-vehicle-uncovered]`)
	if !strings.Contains(card.Text(), "No active consent covers this vehicle") {
		t.Fatalf("card %q", card.Text())
	}
	if n := doc.Find(`[data-testid=hgs-vehicle-error]`).Length(); n != 0 {
		t.Fatalf("%d cards show an error, want none", n)
	}
}

func TestSyncKeepsAnUnknownRowAside(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	ctx := context.Background()
	vs, _ := e.h.app.HGS.Vehicles(ctx, c.ID)
	// The new rows fall on today's Istanbul date, which the next sync reads
	// again, and before now, whatever the hour: just after midnight, an hour
	// ago is a day the first sync already read.
	now := time.Now()
	today := tz.Day(now)
	span := now.Sub(today)
	if !e.sandbox.Garanti.AddRawTransaction(garantitest.Transaction{ProductID: vs[0].ProductID, Amount: decimal.RequireFromString("12.50"),
		DebitCreditInd: "X", EntranceTS: today.Add(span / 3), Explanation: "IADE"}) ||
		!e.sandbox.Garanti.AddTransaction(garantitest.Transaction{ProductID: vs[0].ProductID, Amount: decimal.RequireFromString("95.00"),
			DebitCreditInd: "B", EntranceTS: today.Add(span / 2), DepartureTS: today.Add(span * 2 / 3), EntranceMotorway: "Çamlıca"}) {
		t.Fatal("could not add rows at the bank")
	}
	var before int
	noErr(t, e.st.DB().Get(&before, `SELECT count(*) FROM hgs_transactions`))
	res, err := e.h.app.HGS.Sync(ctx, c.ID, true)
	if err != nil || res.Failed != 0 || res.New != 1 {
		t.Fatalf("sync with an unknown row: %+v %v", res, err)
	}
	vs, _ = e.h.app.HGS.Vehicles(ctx, c.ID)
	if vs[0].Unrecognised != 1 || vs[0].LastErrorCode != "" {
		t.Fatalf("vehicle = %+v", vs[0])
	}
	var raw string
	noErr(t, e.st.DB().Get(&raw, `SELECT raw->>'explanationText35' FROM hgs_unrecognised`))
	if raw != "IADE" {
		t.Fatalf("unknown row kept as %q", raw)
	}
	_, doc := e.get(admin, "/hgs", "Accept-Language", "en")
	w := doc.Find(`[data-testid=hgs-vehicle][data-product="` + vs[0].ProductID + `"] [data-testid=hgs-vehicle-warning]`)
	if w.AttrOr("data-count", "") != "1" || !strings.Contains(w.Text(), "kept as sent") {
		t.Fatalf("card warning %q", w.Text())
	}
}

func TestHGSAutoRefreshKeepsThePage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := activeConsent(t, e, 10)
	// A sync due now that no runner has taken yet: the page refreshes itself.
	if _, err := e.st.DB().Exec(`INSERT INTO river_job (kind, args, state, attempt, attempted_at, max_attempts) VALUES ($1, '{}', 'running', 1, now(), 1)`, hgs.SyncArgs{}.Kind()); err != nil {
		t.Fatal(err)
	}
	_, doc := e.get(admin, "/hgs?page=2&kind=passages", "Accept-Language", "en")
	get := doc.Find(`[data-testid=hgs-main]`).AttrOr("hx-get", "")
	u, _ := url.Parse(get)
	if u == nil || u.Query().Get("page") != "2" || u.Query().Get("kind") != "passages" {
		t.Fatalf("auto-refresh URL %q", get)
	}
}

func TestHGSVehiclesFollowAnActiveConsent(t *testing.T) {
	t.Parallel()
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
	if vs, _ := e.h.app.HGS.Vehicles(ctx, b.ID); len(vs) != 3 {
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
	if vs, _ := e.h.app.HGS.Vehicles(ctx, a.ID); len(vs) != 3 {
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
	vs, _ := e.h.app.HGS.Vehicles(ctx, a.ID)
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
