package i18n

import (
	"regexp"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var verb = regexp.MustCompile(`%(\[\d+\])?[sdvq]`)

func TestCatalogueIsComplete(t *testing.T) {
	seen := map[string]int{}
	for _, c := range catalogues {
		for k, txt := range c {
			seen[k]++
			if txt.TR == "" || txt.EN == "" {
				t.Errorf("%s: missing a language", k)
			}
			if a, b := len(verb.FindAllString(txt.TR, -1)), len(verb.FindAllString(txt.EN, -1)); a != b {
				t.Errorf("%s: %d placeholders in Turkish, %d in English", k, a, b)
			}
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s is defined in %d catalogues", k, n)
		}
	}
	if TR.T("login.invalid") == EN.T("login.invalid") {
		t.Error("languages give the same text")
	}
	if got := EN.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key shows %q", got)
	}
}

func TestFormatting(t *testing.T) {
	d := decimal.RequireFromString("1550")
	cases := []struct{ got, want string }{
		{TR.Money(d, "TRY"), "1.550,00 ₺"},
		{EN.Money(d, "TRY"), "₺1,550.00"},
		{TR.Money(decimal.RequireFromString("-1234567.891"), "USD"), "-1.234.567,89 $"},
		{EN.Money(decimal.RequireFromString("-0.5"), "EUR"), "-€0.50"},
		{TR.Money(decimal.RequireFromString("12"), "CHF"), "12,00 CHF"},
		{TR.Number(decimal.RequireFromString("999"), 2), "999,00"},
		{TR.Int(1000000), "1.000.000"},
		{TR.Date(time.Date(2026, 11, 21, 22, 30, 0, 0, time.UTC)), "22.11.2026"}, // already the 22nd in Istanbul
		{EN.Date(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)), "21 Nov 2026"},
		{TR.DateTime(time.Date(2026, 11, 21, 9, 5, 0, 0, time.UTC)), "21.11.2026 12:05"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	ok := map[string]string{
		"1.550,00": "1550", "1550.00": "1550", "1,550.00": "1550", "1550": "1550",
		"1550,5": "1550.5", "0,55": "0.55", "0.550": "0.55", "12.345.678,90": "12345678.9",
		"1.550": "1550", "₺ 1.550,00": "1550", "100 TL": "100", "-20,00": "-20", "1 550,00": "1550",
	}
	for in, want := range ok {
		got, err := ParseAmount(in)
		if err != nil || !got.Equal(decimal.RequireFromString(want)) {
			t.Errorf("ParseAmount(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1,2,3", "1.55.0", "12a", "1.550,00,1", "--5", "1e5", ","} {
		if got, err := ParseAmount(in); err == nil {
			t.Errorf("ParseAmount(%q) = %v, want an error", in, got)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.550,00", "1550.00", "-1", "₺", "1,2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAmount(s)
		if err != nil {
			return
		}
		// What parses must read back the same from its Turkish rendering.
		back, err := ParseAmount(TR.Number(d, d.Exponent()*-1))
		if d.Exponent() > 0 {
			back, err = ParseAmount(TR.Number(d, 0))
		}
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q → %v → %v, %v", s, d, back, err)
		}
	})
}

func TestLanguageChoice(t *testing.T) {
	cases := map[string]Lang{"": TR, "en-US,en;q=0.9": EN, "de-DE,en;q=0.5,tr;q=0.8": TR, "tr": TR, "fr": TR, "EN": EN}
	for h, want := range cases {
		if got := FromAcceptLanguage(h); got != want {
			t.Errorf("FromAcceptLanguage(%q) = %s, want %s", h, got, want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2026-11-21", "21.11.2026"} {
		d, err := ParseDate(s)
		if err != nil || d.Format(time.RFC3339) != "2026-11-21T00:00:00+03:00" {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"", "2026-02-30", "31.02.2026", "yesterday"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
}
