package store_test

import (
	"testing"
	"unicode/utf8"

	"kasa/store"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"ağaç", 2, "a…"},    // ğ is two bytes: not cut in half
		{"ağaç", 3, "ağ…"},   // the cut falls between runes
		{"şş", 1, "…"},       // nothing whole fits
		{"İstanbul", 0, "…"}, // a zero limit keeps nothing
	}
	for _, c := range cases {
		got := store.Truncate(c.s, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
