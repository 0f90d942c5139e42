package consents_test

import (
	"testing"
	"time"

	"kasa/consents"
	"kasa/providers/garanti"
	"kasa/tz"
)

// TestCompareWithBank: terms compare as calendar days and numbers; a row
// the product recorded as withdrawn matches the bank leaving it out; an
// authority differs when it is in force at one end only or for a different
// number of vehicles.
func TestCompareWithBank(t *testing.T) {
	t.Parallel()
	istanbul := time.FixedZone("Europe/Istanbul", 3*60*60)
	valid := time.Date(2026, 3, 1, 0, 0, 0, 0, istanbul)
	withdrawn := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	ours := consents.Consent{Recurring: true, ValidationDate: valid, FrequencyPerDay: 4,
		TranBegin: time.Date(2025, 3, 1, 0, 0, 0, 0, istanbul), TranEnd: time.Date(2026, 3, 1, 0, 0, 0, 0, istanbul),
		Authorities: []consents.Authority{{ID: garanti.AuthorityProductInfo}, {ID: garanti.AuthorityTransactionInfo}}}
	products := []consents.Product{
		{ProductID: "1", AuthorityID: garanti.AuthorityProductInfo, Flag: true},
		{ProductID: "1", AuthorityID: garanti.AuthorityTransactionInfo, Flag: true},
		{ProductID: "2", AuthorityID: garanti.AuthorityTransactionInfo, Flag: true, RevokedAt: &withdrawn},
		{ProductID: "3", AuthorityID: garanti.AuthorityTransactionInfo, Flag: false},
	}
	same := garanti.Consent{Recurring: true, ValidationDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), FrequencyPerDay: 4,
		Products: []garanti.ConsentProduct{
			{ProductID: "1", AuthorityID: garanti.AuthorityProductInfo, Flag: true},
			{ProductID: "1", AuthorityID: garanti.AuthorityTransactionInfo, Flag: true},
			{ProductID: "3", AuthorityID: garanti.AuthorityTransactionInfo, Flag: false},
		}}
	if cmp := consents.CompareWithBank(ours, products, same); cmp.Differences() != 0 {
		t.Fatalf("same consent: %d differences: %+v", cmp.Differences(), cmp)
	}

	changed := same
	changed.Recurring, changed.FrequencyPerDay = false, 1
	changed.ValidationDate = valid.AddDate(0, 0, -1)
	changed.TranEndDate = valid.AddDate(0, -1, 0)
	changed.Products = []garanti.ConsentProduct{
		{ProductID: "1", AuthorityID: garanti.AuthorityProductInfo, Flag: true},
		{ProductID: "1", AuthorityID: garanti.AuthorityTransactionInfo, Flag: false},
		{ProductID: "2", AuthorityID: garanti.AuthorityTransactionInfo, Flag: true},
		{ProductID: "4", AuthorityID: garanti.AuthorityProductInfo, Flag: true},
	}
	cmp := consents.CompareWithBank(ours, products, changed)
	if !cmp.RecurringDiffers || !cmp.FrequencyDiffers || !cmp.ValidationDiffers || cmp.TranBeginDiffers || !cmp.TranEndDiffers {
		t.Errorf("terms: %+v", cmp)
	}
	want := map[string][2]string{
		"1/" + garanti.AuthorityTransactionInfo: {consents.GrantLive, consents.GrantInactive},
		"2/" + garanti.AuthorityTransactionInfo: {consents.GrantRevoked, consents.GrantLive},
		"3/" + garanti.AuthorityTransactionInfo: {consents.GrantInactive, consents.GrantAbsent},
		"4/" + garanti.AuthorityProductInfo:     {consents.GrantAbsent, consents.GrantLive},
	}
	for _, g := range cmp.Grants {
		k := g.ProductID + "/" + g.AuthorityID
		w, differs := want[k]
		if g.Differs != differs || differs && (g.Ours != w[0] || g.Bank != w[1]) {
			t.Errorf("row %s = %+v, want differs %v %v", k, g, differs, w)
		}
	}
	// HgsTransactionInfo is in force for one vehicle at both ends (not the
	// same one: the rows say which); HgsProductInfo for one here, two there.
	for _, a := range cmp.Authorities {
		if a.Differs != (a.ID == garanti.AuthorityProductInfo) {
			t.Errorf("authority %+v", a)
		}
	}
	// Nothing recorded per product yet: the requested authorities count.
	none := consents.CompareWithBank(ours, nil, garanti.Consent{Recurring: true, ValidationDate: valid, FrequencyPerDay: 4,
		Products: []garanti.ConsentProduct{{ProductID: "1", AuthorityID: garanti.AuthorityProductInfo, Flag: true}}})
	if len(none.Authorities) != 2 || none.Authorities[0].Differs || !none.Authorities[1].Differs || none.Authorities[1].ID != garanti.AuthorityTransactionInfo {
		t.Errorf("authorities without products: %+v", none.Authorities)
	}
}

func TestDaySpentOnlyWhenTheBankSaysSo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, tz.Day(time.Now()).Location())
	untilMidnight := tz.Day(now).AddDate(0, 0, 1).Sub(now)
	cases := []struct {
		name string
		err  garanti.Error
		want bool
	}{
		{"throttled for a second", garanti.Error{Status: 429, RetryAfter: time.Second, Info: "Too Many Requests"}, false},
		{"plan limit text but a short Retry-After", garanti.Error{Status: 429, RetryAfter: time.Minute, Info: "API plan limit exceeded"}, false},
		{"Retry-After into the next day", garanti.Error{Status: 429, RetryAfter: untilMidnight + time.Second}, true},
		{"Retry-After to midnight exactly", garanti.Error{Status: 429, RetryAfter: untilMidnight}, true},
		{"no Retry-After, frequencyPerDay named", garanti.Error{Status: 429, Info: "frequencyPerDay of the consent exceeded"}, true},
		{"no Retry-After, plan limit named", garanti.Error{Status: 429, Info: "API plan limit exceeded"}, true},
		{"no Retry-After, nothing said", garanti.Error{Status: 429, Info: "Too Many Requests"}, false},
	}
	for _, c := range cases {
		if got := consents.DaySpent(&c.err, now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
