package handlers

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kasa/i18n"
)

// garantiAuditActions are every action the product records about Garanti;
// each needs a label in both languages for the consent history.
var garantiAuditActions = []string{
	"garanti.register", "garanti.credentials",
	"garanti.consent.create", "garanti.consent.activate", "garanti.consent.revoke",
	"garanti.consent.revoke.request", "garanti.consent.cancel", "garanti.consent.abandon",
}

func TestGarantiAuditActionsHaveLabels(t *testing.T) {
	t.Parallel()
	for _, a := range garantiAuditActions {
		txt, ok := i18n.Lookup("garanti.a." + a)
		if !ok || txt.TR == "" || txt.EN == "" || strings.Contains(txt.TR, "garanti.") || strings.Contains(txt.EN, "garanti.") {
			t.Errorf("%s: label %+v, %v", a, txt, ok)
		}
	}
}

func TestConsentExpiryAndHistoryRead(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, c := activeConsent(t, e, 10)
	path := "/consents/" + strconv.FormatInt(c.ID, 10)
	for _, lang := range []string{"tr", "en"} {
		l, _ := i18n.Parse(lang)
		_, doc := e.get(admin, path, "Accept-Language", lang)
		// The expiry date and its countdown are two elements with a space
		// between them, never one run of digits.
		cell := doc.Find(`[data-testid=consent-valid-until]`)
		date := strings.TrimSpace(cell.Find(`[data-testid=expiry-date]`).Text())
		countdown := strings.TrimSpace(cell.Find(`[data-testid=expiry-countdown]`).Text())
		if date != l.Date(c.ValidationDate) || countdown != l.T("garanti.consent.daysleft", c.DaysLeft(time.Now())) {
			t.Errorf("%s: date %q, countdown %q", lang, date, countdown)
		}
		if text := strings.Join(strings.Fields(cell.Text()), " "); !strings.Contains(text, date+" "+countdown) {
			t.Errorf("%s: expiry reads %q", lang, text)
		}
		if doc.Find(`[data-testid=consent-actions].card-actions`).Length() != 1 {
			t.Errorf("%s: the consent's buttons are not spaced from the facts above", lang)
		}
		// The history reads in words: labelled actions, and a named actor
		// for what the bank's approval did.
		entries := doc.Find(`[data-testid=consent-trail-entry]`)
		if entries.Length() < 2 {
			t.Fatalf("%s: %d history entries", lang, entries.Length())
		}
		seen := map[string]bool{}
		entries.Each(func(_ int, s *goquery.Selection) {
			action := s.AttrOr("data-action", "")
			seen[action] = true
			label := strings.TrimSpace(s.Find(`[data-testid=trail-action]`).Text())
			who := strings.TrimSpace(s.Find(`[data-testid=trail-who]`).Text())
			if label != l.T("garanti.a."+action) || strings.Contains(s.Text(), "garanti.") {
				t.Errorf("%s: %s shows %q", lang, action, s.Text())
			}
			switch action {
			case "garanti.consent.activate":
				if who != l.T("garanti.who.bank") {
					t.Errorf("%s: activation by %q", lang, who)
				}
			case "garanti.consent.create":
				if !strings.Contains(who, "@") {
					t.Errorf("%s: creation by %q", lang, who)
				}
			}
		})
		if !seen["garanti.consent.create"] || !seen["garanti.consent.activate"] {
			t.Errorf("%s: history has %v", lang, seen)
		}

		_, doc = e.get(admin, "/consents", "Accept-Language", lang)
		cell = doc.Find(`[data-testid=consent-row-valid-until]`).First()
		if d := strings.TrimSpace(cell.Find(`[data-testid=expiry-date]`).Text()); d != l.Date(c.ValidationDate) || cell.Find(`[data-testid=expiry-countdown]`).Length() != 1 {
			t.Errorf("%s: list expiry %q", lang, cell.Text())
		}
	}
}

// checkStacked checks that the table sel keeps every column on a narrow
// screen: it stacks (table-stack), and each cell under a visible heading
// carries that heading as its label.
func checkStacked(t *testing.T, doc *goquery.Document, sel string) {
	t.Helper()
	table := doc.Find(sel)
	if table.Length() != 1 || !table.HasClass("table-stack") || table.ParentFiltered(".table-wrap").Length() != 1 {
		t.Fatalf("%s: %d tables, class %q", sel, table.Length(), table.AttrOr("class", ""))
	}
	var heads []string
	table.Find(`thead th`).Each(func(_ int, th *goquery.Selection) {
		if th.Find(`.sr-only`).Length() > 0 {
			heads = append(heads, "")
			return
		}
		heads = append(heads, strings.TrimSpace(th.Text()))
	})
	cells := 0
	table.Find(`tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		tr.Children().Each(func(i int, cell *goquery.Selection) {
			if i >= len(heads) || heads[i] == "" || goquery.NodeName(cell) != "td" {
				return
			}
			cells++
			if got := cell.AttrOr("data-label", ""); got != heads[i] {
				t.Errorf("%s: a cell of column %q is labelled %q", sel, heads[i], got)
			}
		})
	})
	if cells == 0 {
		t.Errorf("%s: no cells checked", sel)
	}
}

// A consent still awaiting approval at the bank is not in force: it shows
// its end date but no "days left", which would read as if it were running.
func TestConsentAwaitingApprovalHasNoCountdown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := registerGaranti(t, e)
	startConsent(t, e, admin, consentForm(10))
	c := onlyConsent(t, e)
	for _, path := range []string{"/consents", "/consents/" + strconv.FormatInt(c.ID, 10)} {
		_, doc := e.get(admin, path, "Accept-Language", "en")
		if n := doc.Find(`[data-testid=expiry-date]`).Length(); n != 1 {
			t.Errorf("%s: %d end dates", path, n)
		}
		if cd := doc.Find(`[data-testid=expiry-countdown]`); cd.Length() != 0 {
			t.Errorf("%s: an awaiting consent shows %q", path, strings.TrimSpace(cd.Text()))
		}
	}
}
