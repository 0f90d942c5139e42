// Package tz holds the time zone the providers' business dates live in. It
// is the providers' own copy of i18n.Istanbul: provider clients and their
// fakes import nothing of the app, so they share this one instead.
package tz

import (
	"time"
	_ "time/tzdata" // Europe/Istanbul must resolve on machines without zoneinfo
)

// Istanbul is the zone of the banks' and Finrota's business dates. It is
// loaded once, at start; a failure stops the program at once rather than
// letting each provider fall back to a zone of its own.
var Istanbul = mustZone("Europe/Istanbul")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("tz: " + err.Error())
	}
	return loc
}
