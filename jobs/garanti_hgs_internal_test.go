package jobs

import (
	"testing"
	"time"

	"kasa/providers/garanti"
	"kasa/store"
)

func TestDaySpentOnlyWhenTheBankSaysSo(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, store.GarantiDay(time.Now()).Location())
	untilMidnight := store.GarantiDay(now).AddDate(0, 0, 1).Sub(now)
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
		if got := daySpent(&c.err, now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
