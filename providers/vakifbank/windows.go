package vakifbank

import (
	"time"

	"kasa/tz"
)

// Window is the range of one request. Start and End are both inclusive at
// the API's one-second resolution, in Europe/Istanbul: a window holds every
// movement stamped from Start to End, and the next window starts one second
// after End, so consecutive windows neither overlap nor leave a gap.
type Window struct {
	Start, End time.Time
}

// Windows splits [from, to] (both inclusive, truncated to whole seconds) into
// the fewest consecutive windows that the bank accepts. The first window
// starts at from; every later one starts at an Istanbul midnight; each ends
// one second before the Istanbul midnight one calendar year after the
// midnight of its first day (a window starting on 29 February runs to
// 28 February 23:59:59), and the last ends at to. So every window satisfies
// End < Start.AddDate(1, 0, 0), the bank's one-year limit. Windows returns
// nil when to is before from.
func Windows(from, to time.Time) []Window {
	from = from.Truncate(time.Second).In(tz.Istanbul)
	to = to.Truncate(time.Second).In(tz.Istanbul)
	if to.Before(from) {
		return nil
	}
	var ws []Window
	start := from
	for {
		next := startOfDay(start).AddDate(1, 0, 0)
		last := next.Add(-time.Second)
		if !last.Before(to) {
			return append(ws, Window{Start: start, End: to})
		}
		ws = append(ws, Window{Start: start, End: last})
		start = next
	}
}

// startOfDay returns the Istanbul midnight that begins t's Istanbul day.
func startOfDay(t time.Time) time.Time {
	t = t.In(tz.Istanbul)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, tz.Istanbul)
}
