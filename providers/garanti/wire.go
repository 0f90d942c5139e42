package garanti

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"kasa/tz"
)

// The bank's documents give types that its own samples do not always keep
// ("Int" account numbers, "Long" phone numbers, "Boolean" flags), so the
// client reads such fields leniently instead of failing a whole sync.

// flexString reads a JSON string or number (digits kept as written).
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// flexBool reads true/false, as JSON or as a string ("true", "Y", "E", "1").
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		var v bool
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*f = flexBool(v)
		return nil
	}
	switch strings.ToLower(string(s)) {
	case "true", "y", "e", "1", "yes", "evet":
		*f = true
	default:
		*f = false
	}
	return nil
}

// flexInt reads a JSON number or numeric string; anything else is 0.
type flexInt int

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	n, err := strconv.ParseFloat(string(s), 64)
	if err != nil || n < -1e9 || n > 1e9 {
		*f = 0
		return nil
	}
	*f = flexInt(n)
	return nil
}

// parseDate reads an ISODate as an Istanbul calendar day; a full timestamp
// is reduced to its Istanbul day.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation(dateLayout, s, tz.Istanbul); err == nil {
		return t, true
	}
	if t, ok := parseTimestamp(s); ok {
		t = t.In(tz.Istanbul)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, tz.Istanbul), true
	}
	return time.Time{}, false
}

// timestampLayouts are the forms the bank's timestamps are seen in: ISO 8601
// with or without offset and fraction, with a space, and DB2's
// 2006-01-02-15.04.05.000000. A timestamp without offset is Istanbul time.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02-15.04.05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range timestampLayouts {
		if t, err := time.ParseInLocation(l, s, tz.Istanbul); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
