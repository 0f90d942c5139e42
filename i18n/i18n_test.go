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

// TestEnglishCounts renders every English message that takes a count with
// the count 1 and 2 (every count of the message set alike, text arguments
// as "X"), and checks the noun agrees with the number.
func TestEnglishCounts(t *testing.T) {
	type forms struct{ one, two string }
	nouns := map[string]forms{
		"duration.seconds":           {"1 second", "2 seconds"},
		"duration.minutes":           {"1 minute", "2 minutes"},
		"debts.v.toolong":            {"At most 1 character is allowed.", "At most 2 characters are allowed."},
		"debts.sync.done":            {"1 record read.", "2 records read."},
		"debts.sync.running":         {"1 record read so far", "2 records read so far"},
		"debts.notify.reach":         {"Overdue debts: 1; agents: 1.", "Overdue debts: 2; agents: 2."},
		"debts.overdue.upperbound":   {"For 1 debt it", "For 2 debts it"},
		"debts.p.throttled":          {"wait 1 second.", "wait 2 seconds."},
		"debts.check.differs":        {"1 field differs.", "2 fields differ."},
		"garanti.valid.toolong":      {"At most 1 character.", "At most 2 characters."},
		"garanti.valid.toolong.id":   {"At most 1 character (this one has 1).", "At most 2 characters (this one has 2)."},
		"garanti.valid.toolong.name": {"At most 1 character (this one has 1).", "At most 2 characters (this one has 2)."},
		"garanti.bank.differs":       {"1 difference between", "2 differences between"},
		"garanti.bank.authority.on":  {"In force (1 vehicle)", "In force (2 vehicles)"},
		"garanti.consent.daysleft":   {"1 day left", "2 days left"},
		"hgs.refresh.quota":          {"Today's 1 call is used up", "Today's 2 calls are used up"},
		"hgs.unrecognised":           {"1 row from the bank could not be read as a movement; it is kept", "2 rows from the bank could not be read as movements; they are kept"},
		"hgs.run.partial":            {"failed for 1 vehicle; see the explanation on its card.", "failed for 2 vehicles; see the explanations on their cards."},
		"bankacct.sync.done":         {"Movements fetched: 1, new among them: 1.", "Movements fetched: 2, new among them: 2."},
		"bankacct.created":           {"the last 1 day are being fetched", "the last 2 days are being fetched"},
		"mov.breaks.shown":           {"The first 1 is listed.", "The first 2 are listed."},
		"mov.breaks.body":            {"In 1 place the balance", "In 2 places the balance"},
		"mov.refetch.done":           {"Movements received: 1; missing ones added: 1; reported differently: 1.", "Movements received: 2; missing ones added: 2; reported differently: 2."},
		"mov.diff.shown":             {"The newest 1 is listed.", "The newest 2 are listed."},
		"debts.overdue.paid.link":    {"the 1 fully paid debt", "the 2 fully paid debts"},
		"valid.mov.text.long":        {"at most 1 character; you entered 1.", "at most 2 characters; you entered 2."},
	}
	// Counts that name no noun: a label, a ratio, a range or a status code.
	noNoun := map[string]bool{
		"page.of": true, "debts.p.other": true, "debts.sync.retrying": true, "garanti.bank.usage": true,
		"hgs.quota": true, "garanti.consent.usage": true, "garanti.valid.frequency": true, "hgs.run.fetched": true,
		"hgs.run.uncovered.all": true, "hgs.run.uncovered": true, "hgs.uncovered": true, "valid.bankacct.number.length": true,
	}
	args := func(text string, n int) []any {
		var a []any
		for _, v := range verb.FindAllString(text, -1) {
			if strings.HasSuffix(v, "d") {
				a = append(a, n)
			} else {
				a = append(a, "X")
			}
		}
		return a
	}
	for _, k := range Keys() {
		txt, _ := Lookup(k)
		if !strings.Contains(txt.EN, "%d") || noNoun[k] {
			continue
		}
		f, ok := nouns[k]
		if !ok {
			t.Errorf("%s takes a count: add its forms for 1 and 2 here (and its singular), or list it as naming no noun", k)
			continue
		}
		for n, want := range map[int]string{1: f.one, 2: f.two} {
			// want must not run on into a longer word: "1 second" is not in "1 seconds".
			if got := EN.T(k, args(txt.EN, n)...); !regexp.MustCompile(regexp.QuoteMeta(want) + `($|[^\pL])`).MatchString(got) {
				t.Errorf("%s with %d: %q lacks %q", k, n, got, want)
			}
		}
	}
	for k, one := range singulars {
		txt, ok := Lookup(k)
		if !ok {
			t.Errorf("singular of unknown key %s", k)
			continue
		}
		if a, b := verb.FindAllString(one.EN, -1), verb.FindAllString(txt.EN, -1); strings.Join(a, " ") != strings.Join(b, " ") || one.Arg >= len(b) || b[one.Arg] != "%d" {
			t.Errorf("%s: singular placeholders %v (count at %d), message %v", k, a, one.Arg, b)
		}
	}
	if got := TR.T("garanti.consent.daysleft", 1); !strings.HasPrefix(got, "1 gün ") {
		t.Errorf("Turkish changed: %q", got)
	}
}
