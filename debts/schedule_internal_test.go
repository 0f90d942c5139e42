package debts

import (
	"testing"
	"time"

	"kasa/tz"
)

// TestDailyAtIsIstanbulsHour: the daily notification runs at 03:00 in
// Istanbul, which the overdue page promises, whatever the server's zone.
func TestDailyAtIsIstanbulsHour(t *testing.T) {
	t.Parallel()
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, tz.Istanbul) }
	for _, c := range []struct{ now, want time.Time }{
		{at(20, 2, 59), at(20, 3, 0)},
		{at(20, 3, 0), at(21, 3, 0)},
		{at(20, 23, 30).UTC(), at(21, 3, 0)},
	} {
		if got := (dailyAt{hour: 3}).Next(c.now); !got.Equal(c.want) {
			t.Errorf("Next(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}
