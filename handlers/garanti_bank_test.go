package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kasa/i18n"
	"kasa/providers/garanti"
	"kasa/providers/garanti/garantitest"
	"kasa/store"
)

// bankRows returns the comparison rows of the "what the bank holds" page by
// their data-field, and those marked as differing.
func bankRows(doc *goquery.Document) (rows map[string]*goquery.Selection, differing []string) {
	rows = map[string]*goquery.Selection{}
	doc.Find(`[data-testid=bank-row]`).Each(func(_ int, s *goquery.Selection) {
		f := s.AttrOr("data-field", "")
		rows[f] = s
		if s.AttrOr("data-differs", "") == "true" {
			differing = append(differing, f)
		}
	})
	return rows, differing
}

// TestConsentReadShowsWhatTheBankHolds: an operator reads the consent at the
// bank (Consent Read, one of the day's calls, recorded in the API log) and
// sees it beside the product's record; what the customer changed at the bank
// is highlighted, and the bank's refusals are explained.
func TestConsentReadShowsWhatTheBankHolds(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	href := startConsent(t, e, admin, consentForm(10))
	back(e, admin, atBank(t, e, href, "approve"))
	waitSynced(t, e, 3)
	c := onlyConsent(t, e)
	page := "/consents/" + strconv.FormatInt(c.ID, 10)
	ctx := context.Background()

	// Viewers see the consent but cannot spend a call on it.
	viewer, _ := e.login(store.RoleViewer)
	if _, doc := e.get(viewer, page); doc.Find(`[data-testid=bank-read]`).Length() != 0 {
		t.Error("a viewer is offered the read at the bank")
	}
	if resp, _ := e.postForm(viewer, page+"/bank", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer read: %d", resp.StatusCode)
	}
	if _, doc := e.get(admin, page); doc.Find(`[data-testid=bank-read]`).Length() != 1 {
		t.Fatal("the consent page does not offer the read at the bank")
	}

	// The same at both ends: nothing highlighted, one call spent and logged.
	bankBefore, _ := e.sandbox.Garanti.Consent(c.ConsentID)
	usedBefore, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now())
	resp, doc := e.postForm(admin, page+"/bank", nil, "Accept-Language", "en")
	rows, differing := bankRows(doc)
	if resp.StatusCode != http.StatusOK || len(differing) != 0 || testID(doc, "bank-same") == "" || len(rows) < 4 {
		t.Fatalf("read: %d, %d rows, differing %v, %q %q", resp.StatusCode, len(rows), differing, testID(doc, "bank-same"), testID(doc, "bank-error"))
	}
	if n := doc.Find(`[data-testid=bank-product]`).Length(); n != 6 {
		t.Fatalf("%d product rows, want 3 tags × 2 authorities", n)
	}
	checkStacked(t, doc, `[data-testid=bank-terms]`)
	checkStacked(t, doc, `[data-testid=bank-products]`)
	if bankAfter, _ := e.sandbox.Garanti.Consent(c.ConsentID); bankAfter.UsageToday != bankBefore.UsageToday+1 {
		t.Errorf("bank counted %d → %d calls", bankBefore.UsageToday, bankAfter.UsageToday)
	}
	if used, _ := e.h.app.Consents.Usage(ctx, c.ID, time.Now()); used != usedBefore+1 {
		t.Errorf("product counted %d → %d calls", usedBefore, used)
	}
	if calls, _, err := e.st.APICalls(ctx, store.APICallFilter{Provider: "garanti", Operation: "read_consent"}); err != nil || len(calls) != 1 || calls[0].Status != 200 {
		t.Fatalf("API log: %+v %v", calls, err)
	}

	// The customer changed the consent at the bank: fewer calls a day, an
	// earlier end, one tag gone and one authority switched off for another.
	var gone, off string
	e.sandbox.Garanti.EditConsent(c.ConsentID, func(ce *garantitest.ConsentEdit) {
		ce.FrequencyPerDay = 5
		ce.ValidationDate = ce.ValidationDate.AddDate(0, 0, -10)
		gone, off = ce.Grants[0].ProductID, ce.Grants[len(ce.Grants)-1].ProductID
		var kept []garantitest.GrantState
		for _, g := range ce.Grants {
			if g.ProductID == gone {
				continue
			}
			if g.ProductID == off && g.AuthorityID == ce.Grants[len(ce.Grants)-1].AuthorityID {
				g.Flag = false
			}
			kept = append(kept, g)
		}
		ce.Grants = kept
	})
	resp, doc = e.postForm(admin, page+"/bank", nil, "Accept-Language", "en")
	rows, _ = bankRows(doc)
	if resp.StatusCode != http.StatusOK || testID(doc, "bank-same") != "" {
		t.Fatalf("read after the change: %d %q", resp.StatusCode, testID(doc, "bank-same"))
	}
	want := map[string]bool{"frequency": true, "validation": true, "recurring": false, "tranbegin": false,
		"authority:" + garanti.AuthorityProductInfo: true, "authority:" + garanti.AuthorityTransactionInfo: true}
	for f, differs := range want {
		r, ok := rows[f]
		if !ok || (r.AttrOr("data-differs", "") == "true") != differs {
			t.Errorf("row %s: present %v, differs %q, want %v", f, ok, r.AttrOr("data-differs", ""), differs)
		}
	}
	if got := rows["frequency"].Find(`[data-testid=bank-value]`).Text(); got != "5" {
		t.Errorf("bank's frequency shown as %q", got)
	}
	if got := rows["frequency"].Find(`[data-testid=our-value]`).Text(); got != "10" {
		t.Errorf("our frequency shown as %q", got)
	}
	if doc.Find(`[data-testid=bank-differs]`).Length() == 0 {
		t.Error("no summary of the differences")
	}
	products := map[string]string{}
	doc.Find(`[data-testid=bank-product]`).Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("data-differs", "") == "true" {
			products[s.AttrOr("data-product", "")+"/"+s.AttrOr("data-authority", "")] = s.AttrOr("data-bank", "")
		}
	})
	if len(products) != 3 {
		t.Errorf("differing product rows = %v, want both authorities of %s and one of %s", products, gone, off)
	}
	for k, bank := range products {
		if p, _, _ := strings.Cut(k, "/"); p == gone && bank != "absent" || p == off && bank != "inactive" {
			t.Errorf("product row %s: bank %q", k, bank)
		}
	}

	// A 429 that asks to wait a second is throttling, not the day's calls
	// spent: it is explained as such and does not count, so the next read
	// is allowed.
	used := func() int {
		n, err := e.h.app.Consents.Usage(context.Background(), c.ID, e.now.Now())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := used()
	e.sandbox.Garanti.Faults.FailNext(1, http.StatusTooManyRequests)
	resp, doc = e.postForm(admin, page+"/bank", nil, "Accept-Language", "en")
	if resp.StatusCode != http.StatusBadGateway || doc.Find(`[data-testid=bank-error]`).AttrOr("data-code", "") != "throttled" || testID(doc, "bank-error") == "" {
		t.Errorf("429: %d %q", resp.StatusCode, testID(doc, "bank-error"))
	}
	if after := used(); after != before {
		t.Errorf("a throttled read counted: %d calls before, %d after", before, after)
	}
	if rows, _ := bankRows(doc); len(rows) == 0 {
		t.Error("our record is not shown when the bank cannot be read")
	}
	// The customer lowered the calls a day to 5 at the bank, and five are
	// spent there: the bank's own limit ends the day, and the product
	// believes it and stops asking.
	resp, doc = e.postForm(admin, page+"/bank", nil, "Accept-Language", "tr")
	if resp.StatusCode != http.StatusTooManyRequests || doc.Find(`[data-testid=bank-error]`).AttrOr("data-code", "") != "quota" {
		t.Errorf("the bank's daily limit: %d %q", resp.StatusCode, testID(doc, "bank-error"))
	}
	calls, _, err := e.st.APICalls(ctx, store.APICallFilter{Provider: "garanti", Operation: "read_consent"})
	if err != nil {
		t.Fatal(err)
	}
	resp, doc = e.postForm(admin, page+"/bank", nil, "Accept-Language", "tr")
	if resp.StatusCode != http.StatusTooManyRequests || doc.Find(`[data-testid=bank-error]`).AttrOr("data-code", "") != "quota" || testID(doc, "bank-error") == "" {
		t.Errorf("after the bank's daily limit: %d %q", resp.StatusCode, testID(doc, "bank-error"))
	}
	if again, _, _ := e.st.APICalls(ctx, store.APICallFilter{Provider: "garanti", Operation: "read_consent"}); len(again) != len(calls) {
		t.Errorf("the bank was asked again after its daily limit: %d → %d calls", len(calls), len(again))
	}
	if rows, _ := bankRows(doc); len(rows) == 0 {
		t.Error("our record is not shown when the bank cannot be read")
	}
}

// TestConsentReadExplainsTheBanksCodes: a refusal with an E-code is shown
// with the catalogue's explanation, and a bank that is down is named as
// such.
func TestConsentReadExplainsTheBanksCodes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	href := startConsent(t, e, admin, consentForm(10))
	back(e, admin, atBank(t, e, href, "approve"))
	waitSynced(t, e, 3)
	c := onlyConsent(t, e)
	page := "/consents/" + strconv.FormatInt(c.ID, 10)

	e.sandbox.Garanti.Faults.FailNext(1, http.StatusServiceUnavailable)
	resp, doc := e.postForm(admin, page+"/bank", nil, "Accept-Language", "en")
	if resp.StatusCode != http.StatusBadGateway || doc.Find(`[data-testid=bank-error]`).AttrOr("data-code", "") != "unavailable" {
		t.Errorf("503: %d %q", resp.StatusCode, testID(doc, "bank-error"))
	}
	// The consent was withdrawn at the bank behind the product's back: the
	// bank answers E031, explained from the catalogue.
	ctx := context.Background()
	cl, _, err := e.conn.Garanti(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.h.app.Consents.Tokens(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DeleteConsent(ctx, c.ConsentID, tok.Access, nil); err != nil {
		t.Fatal(err)
	}
	resp, doc = e.postForm(admin, page+"/bank", nil, "Accept-Language", "en")
	if resp.StatusCode != http.StatusBadGateway || doc.Find(`[data-testid=bank-error]`).AttrOr("data-code", "") != "E031" ||
		testID(doc, "bank-error") != i18n.EN.T("garanti.code.E031") {
		t.Errorf("E031: %d %q", resp.StatusCode, testID(doc, "bank-error"))
	}
}

func TestEveryBankCodeIsExplainedInBothLanguages(t *testing.T) {
	t.Parallel()
	for code := range garanti.Codes {
		txt, ok := i18n.Lookup("garanti.code." + code)
		if !ok || strings.TrimSpace(txt.TR) == "" || strings.TrimSpace(txt.EN) == "" || txt.TR == txt.EN {
			t.Errorf("%s: %+v %v", code, txt, ok)
		}
	}
	for _, code := range []string{"badlink", "store", "notokens", "reauth", "invalid_grant", "invalid_client", "unauthorized", "quota", "throttled", "unavailable"} {
		if _, ok := i18n.Lookup("garanti.code." + code); !ok {
			t.Errorf("product code %s unexplained", code)
		}
	}
}
