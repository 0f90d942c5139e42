package i18n

import (
	"regexp"
	"strings"
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

// TestParseAmount reads every separator pattern in both languages: the
// language's own convention wins whenever the input is well-formed in it,
// the other convention is accepted only where it is the sole reading, and
// more than two decimals is refused rather than read as grouping.
func TestParseAmount(t *testing.T) {
	const (
		empty    = "!" + AmountEmpty
		invalid  = "!" + AmountInvalid
		decimals = "!" + AmountDecimals
	)
	cases := []struct{ in, tr, en string }{
		{"1,555", decimals, "1555"},
		{"100,001", decimals, "100001"},
		{"1.555", "1555", decimals},
		{"100.001", "100001", decimals},
		{"1.555,50", "1555.5", "1555.5"},
		{"1,555.50", "1555.5", "1555.5"},
		{"1555.00", "1555", "1555"},
		{"1555,00", "1555", "1555"},
		{"1 555,00", "1555", "1555"},
		{"1 555.00", "1555", "1555"},
		{"1\u00a0555,00", "1555", "1555"},
		{"1555", "1555", "1555"},
		{"0", "0", "0"},
		{",5", "0.5", "0.5"},
		{".5", "0.5", "0.5"},
		{"0,55", "0.55", "0.55"},
		{"0.55", "0.55", "0.55"},
		{"1,5", "1.5", "1.5"},
		{"1.5", "1.5", "1.5"},
		{"12.345.678,90", "12345678.9", "12345678.9"},
		{"12,345,678.90", "12345678.9", "12345678.9"},
		{"12.345.678", "12345678", "12345678"},
		{"12,345,678", "12345678", "12345678"},
		{"1.2.3", invalid, invalid},
		{"1,2,3", invalid, invalid},
		{"1.55.0", invalid, invalid},
		{"1.5555", decimals, decimals},
		{"1,5555", decimals, decimals},
		{"0.550", decimals, decimals},
		{"0,550", decimals, decimals},
		{"1.550,125", decimals, decimals},
		{"1,550.125", decimals, decimals},
		{"1,001", decimals, "1001"},
		{"-20,00", "-20", "-20"},
		{"-1.555,50", "-1555.5", "-1555.5"},
		{"-0,01", "-0.01", "-0.01"},
		{"-", invalid, invalid},
		{"--5", invalid, invalid},
		{"+5", invalid, invalid},
		{"₺ 1.550,00", "1550", "1550"},
		{"₺1,550.00", "1550", "1550"},
		{"-₺0.50", "-0.5", "-0.5"},
		{"1.550,00 ₺", "1550", "1550"},
		{"100 TL", "100", "100"},
		{"USD 12", "12", "12"},
		{"", empty, empty},
		{"   ", empty, empty},
		{"₺", empty, empty},
		{",", invalid, invalid},
		{"1,", invalid, invalid},
		{"1.", invalid, invalid},
		{"abc", invalid, invalid},
		{"on beş", invalid, invalid},
		{"12a", invalid, invalid},
		{"1e5", invalid, invalid},
		{"1.550,00,1", invalid, invalid},
		{"1$5", invalid, invalid},
		{"0.001", decimals, decimals},
		{"٣", invalid, invalid},
	}
	for _, c := range cases {
		for _, lc := range []struct {
			l    Lang
			want string
		}{{TR, c.tr}, {EN, c.en}} {
			got, err := ParseAmount(lc.l, c.in)
			if code, refused := strings.CutPrefix(lc.want, "!"); refused {
				if AmountCode(err) != code {
					t.Errorf("ParseAmount(%s, %q) = %v, %v; want refusal %q", lc.l, c.in, got, err, code)
				}
				continue
			}
			if err != nil || !got.Equal(decimal.RequireFromString(lc.want)) {
				t.Errorf("ParseAmount(%s, %q) = %v, %v; want %s", lc.l, c.in, got, err, lc.want)
			}
		}
	}
	// Every refusal has a message in both languages.
	for _, code := range []string{AmountEmpty, AmountInvalid, AmountDecimals} {
		key := (&AmountError{Code: code}).Key()
		if _, ok := Lookup(key); !ok {
			t.Errorf("no message %s", key)
		}
	}
}

// FuzzFormatThenParse checks that any amount of money the product shows
// reads back as the same value in the language it was shown in, as a plain
// number and as money with its sign.
func FuzzFormatThenParse(f *testing.F) {
	for _, s := range []string{"1555", "1.555", "-0.5", "0", "12345678.9", "100001", "999999999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decimal.NewFromString(s)
		if err != nil || d.Abs().GreaterThan(decimal.New(1, 20)) {
			return
		}
		d = d.Round(MaxAmountDecimals)
		for _, l := range Langs {
			for _, shown := range []string{l.Number(d, 2), l.Number(d, 0), l.Money(d, "TRY"), l.Money(d, "USD"), d.StringFixed(2)} {
				if shown == l.Number(d, 0) && !d.IsInteger() {
					continue
				}
				back, err := ParseAmount(l, shown)
				if err != nil || !back.Equal(d) {
					t.Fatalf("%s: %v shown as %q reads back as %v, %v", l, d, shown, back, err)
				}
			}
		}
	})
}

// FuzzParseAmount checks that whatever ParseAmount accepts has at most two
// decimals and reads back the same from its rendering in the same language.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.550,00", "1550.00", "-1", "₺", "1,2.3", "1,555", ",5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range Langs {
			d, err := ParseAmount(l, s)
			if err != nil {
				if AmountCode(err) == "" {
					t.Fatalf("%s %q: refusal without a code: %v", l, s, err)
				}
				continue
			}
			if !d.Equal(d.Round(MaxAmountDecimals)) {
				t.Fatalf("%s %q → %v: more than two decimals accepted", l, s, d)
			}
			back, err := ParseAmount(l, l.Number(d, 2))
			if err != nil || !back.Equal(d) {
				t.Fatalf("%s %q → %v → %v, %v", l, s, d, back, err)
			}
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
