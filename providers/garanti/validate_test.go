package garanti_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kasa/providers/garanti"
)

func TestValidateConsentRequestAgreesWithTheBank(t *testing.T) {
	e := newEnv(t)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	long := strings.Repeat("x", 51)
	cases := []struct {
		name  string
		edit  func(r *garanti.ConsentRequest)
		field string
		index int
		code  string
	}{
		{"frequency zero", func(r *garanti.ConsentRequest) { r.FrequencyPerDay = 0 }, "FrequencyPerDay", -1, "E020"},
		{"frequency over max", func(r *garanti.ConsentRequest) { r.FrequencyPerDay = garanti.MaxFrequencyPerDay + 1 }, "FrequencyPerDay", -1, "E020"},
		{"one-off twice a day", func(r *garanti.ConsentRequest) { r.Recurring = false; r.FrequencyPerDay = 2 }, "FrequencyPerDay", -1, "E022"},
		{"no validation date", func(r *garanti.ConsentRequest) { r.ValidationDate = time.Time{} }, "ValidationDate", -1, "E023"},
		{"validation date yesterday", func(r *garanti.ConsentRequest) { r.ValidationDate = d(2025, 6, 15) }, "ValidationDate", -1, "E023"},
		{"validation date too far", func(r *garanti.ConsentRequest) { r.ValidationDate = d(2025, 12, 14) }, "ValidationDate", -1, "E044"},
		{"no begin date", func(r *garanti.ConsentRequest) { r.TranBeginDate = time.Time{} }, "TranBeginDate", -1, "E041"},
		{"no end date", func(r *garanti.ConsentRequest) { r.TranEndDate = time.Time{} }, "TranEndDate", -1, "E040"},
		{"end before begin", func(r *garanti.ConsentRequest) { r.TranEndDate = d(2024, 6, 30) }, "TranEndDate", -1, "E042"},
		{"over a year", func(r *garanti.ConsentRequest) { r.TranEndDate = d(2025, 7, 2) }, "TranEndDate", -1, "E050"},
		{"no authorities", func(r *garanti.ConsentRequest) { r.Authorities = nil }, "Authorities", -1, "E006"},
		{"blank authority", func(r *garanti.ConsentRequest) { r.Authorities[1].ID = " " }, "Authorities", 1, "E006"},
		{"long authority", func(r *garanti.ConsentRequest) { r.Authorities[0].ID = long }, "Authorities", 0, "E007"},
		{"attribute without name", func(r *garanti.ConsentRequest) { r.Authorities[1].Attribute = "7001000101" }, "Authorities", 1, "E010"},
		{"name without attribute", func(r *garanti.ConsentRequest) { r.Authorities[1].AttributeName = "productId" }, "Authorities", 1, "E011"},
		{"long attribute name", func(r *garanti.ConsentRequest) {
			r.Authorities[1].AttributeName, r.Authorities[1].Attribute = long, "1"
		}, "Authorities", 1, "E012"},
		{"long attribute", func(r *garanti.ConsentRequest) {
			r.Authorities[1].AttributeName, r.Authorities[1].Attribute = "productId", long
		}, "Authorities", 1, "E013"},
		{"duplicate authority", func(r *garanti.ConsentRequest) { r.Authorities[1].ID = r.Authorities[0].ID }, "Authorities", 1, "E025"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRequest()
			c.edit(&r)
			errs := garanti.ValidateConsentRequest(r, start)
			if len(errs) != 1 || errs[0].Field != c.field || errs[0].Index != c.index || errs[0].Code != c.code || errs[0].Message != garanti.Codes[c.code] {
				t.Fatalf("errors = %+v, want %s[%d] %s", errs, c.field, c.index, c.code)
			}
			// The fake bank answers the same code for the same request.
			_, err := e.client.CreateConsent(context.Background(), r, "", "")
			if !garanti.IsCode(err, c.code) {
				t.Fatalf("bank answered %v, want %s", err, c.code)
			}
		})
	}
	if errs := garanti.ValidateConsentRequest(validRequest(), start); errs != nil {
		t.Fatalf("valid request: %+v", errs)
	}
	// Late in the evening in Istanbul it is already the next day in the
	// bank's eyes, but not yet in UTC.
	r := validRequest()
	r.ValidationDate = d(2025, 6, 16)
	if errs := garanti.ValidateConsentRequest(r, time.Date(2025, 6, 16, 21, 30, 0, 0, time.UTC)); len(errs) != 1 || errs[0].Code != "E023" {
		t.Fatalf("past by Istanbul's clock: %+v", errs)
	}
	r.ValidationDate = start.AddDate(0, 0, garanti.MaxValidationDays)
	if errs := garanti.ValidateConsentRequest(r, start); errs != nil {
		t.Fatalf("last allowed day: %+v", errs)
	}
	// Several broken rules are all reported.
	r = validRequest()
	r.FrequencyPerDay, r.TranEndDate, r.Authorities = 0, d(2020, 1, 1), nil
	if errs := garanti.ValidateConsentRequest(r, start); len(errs) != 3 {
		t.Fatalf("errors = %+v", errs)
	}
}

func TestMapStatus(t *testing.T) {
	for raw, want := range map[string]garanti.Status{
		"B": garanti.StatusAwaitingAuthorisation, "received": garanti.StatusAwaitingAuthorisation,
		"Y": garanti.StatusAuthorised, "K": garanti.StatusAuthorised, " y ": garanti.StatusAuthorised,
		"A": garanti.StatusActive, "valid": garanti.StatusActive, "a": garanti.StatusActive,
		"S": garanti.StatusExpired, "expired": garanti.StatusExpired,
		"I": garanti.StatusRevoked, "revokedByPsu": garanti.StatusRevoked, "terminatedByTpp": garanti.StatusRevoked, "REVOKEDBYPSU": garanti.StatusRevoked,
		"R": garanti.StatusRejected, "rejected": garanti.StatusRejected,
		"": garanti.StatusUnknown, "Z": garanti.StatusUnknown, "partiallyAuthorised": garanti.StatusUnknown,
	} {
		if got := garanti.MapStatus(raw); got != want {
			t.Errorf("MapStatus(%q) = %s, want %s", raw, got, want)
		}
	}
	if !garanti.StatusActive.Usable() || garanti.StatusAuthorised.Usable() || !garanti.StatusRejected.Final() || garanti.StatusActive.Final() {
		t.Fatal("Usable/Final")
	}
}

func TestPKCEAndState(t *testing.T) {
	v, c := garanti.NewPKCE()
	v2, _ := garanti.NewPKCE()
	if len(v) != 43 || len(c) != 43 || v == v2 || garanti.PKCEChallenge(v) != c || strings.ContainsAny(v+c, "+/=") {
		t.Fatalf("verifier %q challenge %q", v, c)
	}
	// RFC 7636 appendix B.
	if got := garanti.PKCEChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("challenge %s", got)
	}
	if s := garanti.NewState(); len(s) != 43 || s == garanti.NewState() || strings.ContainsAny(s, "+/=") {
		t.Fatalf("state %q", s)
	}
}
