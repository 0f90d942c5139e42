// Package i18n holds the product's one message catalogue (Turkish and
// English) and the formatting of numbers, money and dates for each language.
// Business dates are shown in Europe/Istanbul whatever the server's zone.
package i18n

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

// Lang is a language the product speaks.
type Lang string

// The languages, Turkish first: it is the default.
const (
	TR Lang = "tr"
	EN Lang = "en"
)

// Langs lists the languages in the order the switcher shows them.
var Langs = []Lang{TR, EN}

// Istanbul is the zone of business dates (loaded once, in package tz).
var Istanbul = tz.Istanbul

// Text is one message in both languages. Placeholders are fmt verbs and must
// match in both.
type Text struct{ TR, EN string }

// catalogues are the message tables, one per area of the product; a key
// lives in exactly one of them (checked by the tests).
var catalogues = []map[string]Text{common, auth, admin, debts, garanti, movements}

// Lookup returns the message under key, and whether it exists.
func Lookup(key string) (Text, bool) {
	for _, c := range catalogues {
		if t, ok := c[key]; ok {
			return t, true
		}
	}
	return Text{}, false
}

// Keys lists every key of the catalogue, sorted.
func Keys() []string {
	var keys []string
	for _, c := range catalogues {
		for k := range c {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Parse reads a language code such as "tr", "en-GB" or "TR".
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "tr":
		return TR, true
	case "en":
		return EN, true
	}
	return "", false
}

// FromAcceptLanguage picks the supported language the browser prefers most,
// Turkish when it names none.
func FromAcceptLanguage(header string) Lang {
	best, bestQ := TR, -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		l, ok := Parse(tag)
		if !ok {
			continue
		}
		q := 1.0
		if v, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// T returns the message under key in l, formatted with args. A missing key
// shows itself, so a gap is visible rather than blank. In English, a message
// whose count is 1 takes its singular form ("1 day left", not "1 days").
func (l Lang) T(key string, args ...any) string {
	t, ok := Lookup(key)
	if !ok {
		return key
	}
	s := t.TR
	if l == EN {
		s = t.EN
		if one, ok := singulars[key]; ok && one.Arg < len(args) && isOne(args[one.Arg]) {
			s = one.EN
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Name is the language's own name, for the switcher.
func (l Lang) Name() string {
	if l == EN {
		return "English"
	}
	return "Türkçe"
}

type ctxKey struct{}

// WithLang returns ctx carrying l.
func WithLang(ctx context.Context, l Lang) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the language carried by ctx, Turkish when none.
func FromContext(ctx context.Context) Lang {
	if l, ok := ctx.Value(ctxKey{}).(Lang); ok {
		return l
	}
	return TR
}

// Number formats d with places decimals: 1.550,00 in Turkish, 1,550.00 in English.
func (l Lang) Number(d decimal.Decimal, places int32) string {
	s := d.StringFixed(places)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	group, dec := ".", ","
	if l == EN {
		group, dec = ",", "."
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(dec)
		b.WriteString(frac)
	}
	return b.String()
}

// Int formats a whole number with grouping.
func (l Lang) Int(n int64) string { return l.Number(decimal.NewFromInt(n), 0) }

var symbols = map[string]string{"TRY": "₺", "TL": "₺", "USD": "$", "EUR": "€", "GBP": "£"}

// Money formats an amount in currency: 1.550,00 ₺ in Turkish, ₺1,550.00 in English.
func (l Lang) Money(d decimal.Decimal, currency string) string {
	n := l.Number(d, 2)
	sym, ok := symbols[strings.ToUpper(currency)]
	switch {
	case !ok:
		return n + " " + currency
	case l == EN && strings.HasPrefix(n, "-"):
		return "-" + sym + n[1:]
	case l == EN:
		return sym + n
	default:
		return n + " " + sym
	}
}

var monthsEN = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Date formats t's Istanbul day: 21.11.2026 in Turkish, 21 Nov 2026 in English.
func (l Lang) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(Istanbul)
	if l == EN {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsEN[t.Month()-1], t.Year())
	}
	return t.Format("02.01.2006")
}

// DateTime formats t in Istanbul time to the minute.
func (l Lang) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.Date(t) + " " + t.In(Istanbul).Format("15:04")
}

// AmountError is why ParseAmount refused an input. Code is language-neutral
// (AmountEmpty, AmountInvalid, AmountDecimals); Key names the field message
// in the catalogue, so every amount field explains a refusal the same way.
type AmountError struct {
	Code  string
	Input string
}

// The refusal codes of ParseAmount.
const (
	AmountEmpty    = "empty"
	AmountInvalid  = "invalid"
	AmountDecimals = "decimals"
)

func (e *AmountError) Error() string { return fmt.Sprintf("amount %s: %q", e.Code, e.Input) }

// Key is the catalogue key of the message that explains the refusal.
func (e *AmountError) Key() string { return "amount." + e.Code }

// AmountCode returns the refusal code carried by err, "" when err is not a
// refusal of ParseAmount.
func AmountCode(err error) string {
	var ae *AmountError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// MaxAmountDecimals is how many decimal places money may carry: kuruş and cents.
const MaxAmountDecimals = 2

// ParseAmount reads an amount as a user of language l types it. In Turkish
// "." groups thousands and "," is the decimal mark (1.550,00); in English
// the reverse (1,550.00). Spaces may group too, and a currency sign or code
// is ignored. An input that is malformed in l's convention but well-formed
// in the other one (1550.00 typed in Turkish) is read in the other one, as
// it can mean nothing else. An input well-formed in l's convention is always
// read in it: 1,555 typed in Turkish means 1 lira and 555 thousandths, so
// it is refused for its three decimals rather than taken as 1555; no amount
// is ever silently multiplied by a thousand.
func ParseAmount(l Lang, s string) (decimal.Decimal, error) {
	raw := s
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = trimCurrency(strings.TrimPrefix(s, "-"))
	if strings.HasPrefix(s, "-") && !neg { // ₺-5
		neg, s = true, trimCurrency(s[1:])
	}
	// Spaces group thousands in both languages (1 550,00).
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		if neg {
			return decimal.Decimal{}, &AmountError{Code: AmountInvalid, Input: raw}
		}
		return decimal.Decimal{}, &AmountError{Code: AmountEmpty, Input: raw}
	}
	if neg {
		s = "-" + s
	}
	group, mark := byte('.'), byte(',')
	if l == EN {
		group, mark = ',', '.'
	}
	num, ok := amountIn(s, group, mark)
	if !ok {
		num, ok = amountIn(s, mark, group)
	}
	if !ok {
		return decimal.Decimal{}, &AmountError{Code: AmountInvalid, Input: raw}
	}
	if _, frac, _ := strings.Cut(num, "."); len(frac) > MaxAmountDecimals {
		return decimal.Decimal{}, &AmountError{Code: AmountDecimals, Input: raw}
	}
	d, err := decimal.NewFromString(num)
	if err != nil {
		return decimal.Decimal{}, &AmountError{Code: AmountInvalid, Input: raw}
	}
	return d, nil
}

// currencies are the signs and codes an amount may carry before or after it.
var currencies = []string{"₺", "TL", "TRY", "$", "USD", "€", "EUR", "£", "GBP"}

// trimCurrency removes a currency sign or code and the spaces around it
// from either end of s.
func trimCurrency(s string) string {
	s = strings.TrimSpace(s)
	for _, c := range currencies {
		if t, ok := strings.CutPrefix(s, c); ok {
			return strings.TrimSpace(t)
		}
		if t, ok := strings.CutSuffix(s, c); ok {
			return strings.TrimSpace(t)
		}
	}
	return s
}

// amountIn reads s (sign, digits, separators only) in the convention where
// group separates thousands and mark is the decimal mark, and returns it as
// a plain decimal string ("-1550.5"). Grouping, when present, must be
// regular: one to three leading digits, then groups of exactly three.
func amountIn(s string, group, mark byte) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasMark := strings.Cut(s, string(mark))
	if hasMark && (frac == "" || !digits(frac)) {
		return "", false
	}
	if strings.IndexByte(intPart, group) >= 0 {
		parts := strings.Split(intPart, string(group))
		if len(parts[0]) < 1 || len(parts[0]) > 3 || !digits(parts[0]) || parts[0][0] == '0' {
			return "", false
		}
		for _, p := range parts[1:] {
			if len(p) != 3 || !digits(p) {
				return "", false
			}
		}
		intPart = strings.Join(parts, "")
	} else if intPart == "" && hasMark {
		intPart = "0" // ,50 is half a lira
	} else if !digits(intPart) {
		return "", false
	}
	out := intPart
	if hasMark {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out, true
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseDate reads a calendar day typed as 2026-11-21 (what a date input
// sends) or 21.11.2026 (how Turkish users write it), as midnight in Istanbul.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "02.01.2006", "2.1.2006"} {
		if t, err := time.ParseInLocation(layout, s, Istanbul); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// Today returns the start of the current Istanbul day of now.
func Today(now time.Time) time.Time {
	return tz.Day(now)
}
