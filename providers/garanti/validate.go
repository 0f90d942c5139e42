package garanti

import (
	"strings"
	"time"
	"unicode/utf8"

	"kasa/tz"
)

// MaxValidationDays is how far ahead a consent's validationDate may lie. The
// bank sets the number ("cannot be greater than X days", E044) without
// publishing it; 180 is what the product assumes and the fake enforces.
const MaxValidationDays = 180

// MaxFrequencyPerDay is the largest frequencyPerDay the product asks for.
// The bank documents only a length limit on the field (E020); two digits it
// is.
const MaxFrequencyPerDay = 99

// Field length limits the product assumes for the bank's "Error Max
// Character" codes, whose numbers the seed does not give.
const (
	MaxAuthorityIDLen = 50 // E007
	MaxAttributeLen   = 50 // E012, E013
)

// Length limits the product assumes for the application's identifiers,
// which travel as headers on every consent and HGS call; the bank answers
// "Error Max Character" (E014–E017) past them without publishing the
// numbers. They are counted in characters, as the bank words it.
const (
	MaxClientIDLen       = 64  // Client-ID, E014
	MaxClientIDPortalLen = 64  // Client-ID-Portal, E015
	MaxTPPIDLen          = 64  // TPP-ID, E016
	MaxTPPNameLen        = 100 // TPP-Name (the company name at registration), E017
)

// AppFieldLimit is the limit and E-code of one application identifier.
type AppFieldLimit struct {
	Max  int
	Code string
}

// AppFieldLimits are the limits ValidateAppCredentials applies, by
// AppCredentials field name, so a form can tell the user the number.
var AppFieldLimits = map[string]AppFieldLimit{
	"ClientID":       {MaxClientIDLen, "E014"},
	"ClientIDPortal": {MaxClientIDPortalLen, "E015"},
	"TPPID":          {MaxTPPIDLen, "E016"},
	"TPPName":        {MaxTPPNameLen, "E017"},
}

// ValidateAppCredentials checks the identifiers the bank receives on every
// consent call against the length limits its error catalogue implies
// (E014–E017), so setup refuses a value the bank would refuse only at the
// next consent. Empty values are the forms' business (an empty TPP-ID
// means the Client-ID). Field is the AppCredentials field name, Index -1.
func ValidateAppCredentials(app AppCredentials) []FieldError {
	var errs []FieldError
	for _, f := range []struct{ name, value string }{
		{"ClientID", app.ClientID}, {"ClientIDPortal", app.ClientIDPortal}, {"TPPID", app.TPPID}, {"TPPName", app.TPPName},
	} {
		if l := AppFieldLimits[f.name]; utf8.RuneCountInString(f.value) > l.Max {
			errs = append(errs, fieldError(f.name, -1, l.Code))
		}
	}
	return errs
}

// Authority IDs of the HGS consent. The seed names them only inside E056 and
// E057; a deployment that learns other IDs changes them here.
const (
	AuthorityProductInfo     = "HgsProductInfo"
	AuthorityTransactionInfo = "HgsTransactionInfo"
)

// FieldError is one rule of the bank a consent request breaks, with the
// E-code the bank would answer, so the web form can show it before the user
// waits for a round trip.
type FieldError struct {
	// Field is the ConsentRequest field: ValidationDate, FrequencyPerDay,
	// TranBeginDate, TranEndDate or Authorities.
	Field string
	// Index is the position in Authorities, or -1 for other fields.
	Index int
	// Code is the bank's E-code the rule prevents; Message its catalogue text.
	Code    string
	Message string
}

func fieldError(field string, index int, code string) FieldError {
	return FieldError{Field: field, Index: index, Code: code, Message: Codes[code]}
}

// ValidateConsentRequest checks req against the bank's create-consent rules
// that need no bank data, as of now (dates are Istanbul calendar days). It
// returns every broken rule, in field order; nil means the bank should
// accept the request.
func ValidateConsentRequest(req ConsentRequest, now time.Time) []FieldError {
	var errs []FieldError
	switch {
	case req.FrequencyPerDay < 1 || req.FrequencyPerDay > MaxFrequencyPerDay:
		errs = append(errs, fieldError("FrequencyPerDay", -1, "E020"))
	case !req.Recurring && req.FrequencyPerDay != 1:
		errs = append(errs, fieldError("FrequencyPerDay", -1, "E022"))
	}
	today := calendarDay(now.In(tz.Istanbul))
	switch {
	case req.ValidationDate.IsZero() || calendarDay(req.ValidationDate).Before(today):
		errs = append(errs, fieldError("ValidationDate", -1, "E023"))
	case calendarDay(req.ValidationDate).After(today.AddDate(0, 0, MaxValidationDays)):
		errs = append(errs, fieldError("ValidationDate", -1, "E044"))
	}
	if req.TranBeginDate.IsZero() {
		errs = append(errs, fieldError("TranBeginDate", -1, "E041"))
	}
	if req.TranEndDate.IsZero() {
		errs = append(errs, fieldError("TranEndDate", -1, "E040"))
	}
	if !req.TranBeginDate.IsZero() && !req.TranEndDate.IsZero() {
		begin, end := calendarDay(req.TranBeginDate), calendarDay(req.TranEndDate)
		switch {
		case end.Before(begin):
			errs = append(errs, fieldError("TranEndDate", -1, "E042"))
		case end.After(begin.AddDate(1, 0, 0)):
			errs = append(errs, fieldError("TranEndDate", -1, "E050"))
		}
	}
	if len(req.Authorities) == 0 {
		errs = append(errs, fieldError("Authorities", -1, "E006"))
	}
	seen := map[string]bool{}
	for i, a := range req.Authorities {
		id := strings.TrimSpace(a.ID)
		switch {
		case id == "":
			errs = append(errs, fieldError("Authorities", i, "E006"))
		case len(id) > MaxAuthorityIDLen:
			errs = append(errs, fieldError("Authorities", i, "E007"))
		case a.AttributeName == "" && a.Attribute != "":
			errs = append(errs, fieldError("Authorities", i, "E010"))
		case a.Attribute == "" && a.AttributeName != "":
			errs = append(errs, fieldError("Authorities", i, "E011"))
		case len(a.AttributeName) > MaxAttributeLen:
			errs = append(errs, fieldError("Authorities", i, "E012"))
		case len(a.Attribute) > MaxAttributeLen:
			errs = append(errs, fieldError("Authorities", i, "E013"))
		case seen[id]:
			errs = append(errs, fieldError("Authorities", i, "E025"))
		}
		seen[id] = true
	}
	return errs
}

// calendarDay is the calendar date of t in its own location, as a UTC
// midnight, so dates from different zones compare by their written day.
func calendarDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

const dateLayout = "2006-01-02"

// isoDate writes the calendar date of t as the bank's ISODate; a zero time
// is sent as "", so the bank names the missing field instead of year 1.
func isoDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateLayout)
}
