// Package tz is the one place the business time zone is loaded. Business
// dates — due dates, the banks' days, a consent's daily quota, the overdue
// rule — are Istanbul days, wherever the server runs. It imports only the
// standard library, so every package may use it: the provider clients and
// their fakes as well as i18n and store, which import nothing else of the
// product.
package tz

import (
	"time"
	_ "time/tzdata" // Europe/Istanbul must resolve on machines without zoneinfo
)

// Istanbul is the zone of business dates. It is loaded once, at start; a
// failure stops the program at once rather than letting a package fall back
// to a zone of its own.
var Istanbul = mustZone("Europe/Istanbul")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("tz: " + err.Error())
	}
	return loc
}

// Day returns the Istanbul midnight that begins t's Istanbul calendar day.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Istanbul).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Istanbul)
}
