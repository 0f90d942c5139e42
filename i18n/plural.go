package i18n

// singular is the English text of a message whose count is 1. Turkish needs
// no such form: a noun after a number stays singular ("1 gün", "3 gün").
type singular struct {
	// Arg is the index, among the message's arguments, of the count that
	// decides the form.
	Arg int
	// EN is the text used when that count is 1; its placeholders match the
	// message's (checked by the tests).
	EN string
}

// singulars holds the English singular of every message whose count names
// a noun. A message with more than one count is worded so that at most one
// noun follows a number ("Movements fetched: %d").
var singulars = map[string]singular{
	"duration.seconds":           {0, "%d second"},
	"duration.minutes":           {0, "%d minute"},
	"debts.v.toolong":            {0, "At most %d character is allowed."},
	"debts.sync.done":            {0, "Sync finished: %d record read."},
	"debts.sync.running":         {1, "A sync is already running (started %s, %d record read so far); its result will appear on this page, there is no need to start another."},
	"debts.overdue.upperbound":   {0, "For %d debt it is not known whether the agent or current account is active (Finrota offers no list of them). Finrota skips inactive ones, so the counts are an upper bound."},
	"debts.p.throttled":          {0, "Finrota's per-minute request limit was reached (HTTP 429); Finrota asked to wait %d second. The record will be sent again by itself after that; there is nothing to do."},
	"debts.check.differs":        {0, "%d field differs. Choose the side that is right: take Finrota's values here, or send ours to Finrota again."},
	"garanti.valid.toolong":      {0, "At most %d character."},
	"garanti.valid.toolong.id":   {0, "At most %d character (this one has %d). The bank refuses a longer %s on every consent request (%s). Copy the value from the API Store dashboard exactly, without extra spaces."},
	"garanti.valid.toolong.name": {0, "At most %d character (this one has %d). The bank refuses a longer company name (TPP-Name) on every consent request (%s). Shorten it, for example to the short form of the trade name."},
	"garanti.bank.differs":       {0, "%d difference between the bank's record and ours (as of %s). The bank's record is what counts: refresh the status; if an authority or a vehicle is missing, renew the consent and ask the customer to approve it again."},
	"garanti.bank.authority.on":  {0, "In force (%d vehicle)"},
	"garanti.consent.daysleft":   {0, "%d day left"},
	"hgs.refresh.quota":          {0, "Today's %d call is used up; the next call is allowed after %s."},
	"hgs.unrecognised":           {0, "%d row from the bank could not be read as a movement; it is kept as sent for review."},
	"hgs.run.partial":            {0, "The call failed for %d vehicle; see the explanation on its card."},
	"bankacct.created":           {1, "%s has been saved; the movements of the last %d day are being fetched from the bank."},
	"mov.breaks.shown":           {0, "The first %d is listed."},
	"mov.breaks.body":            {0, "In %d place the balance does not equal the previous balance plus the amount: movements may be missing in between, or the bank corrected a record."},
	"mov.diff.shown":             {0, "The newest %d is listed."},
	"debts.overdue.paid.link":    {0, "Show only the %d fully paid debt"},
	"valid.mov.text.long":        {0, "The search text can be at most %d character; you entered %d."},
}

// isOne reports whether a count argument is 1.
func isOne(v any) bool {
	switch n := v.(type) {
	case int:
		return n == 1
	case int64:
		return n == 1
	case int32:
		return n == 1
	case int16:
		return n == 1
	case int8:
		return n == 1
	case uint:
		return n == 1
	case uint64:
		return n == 1
	case uint32:
		return n == 1
	case uint16:
		return n == 1
	case uint8:
		return n == 1
	}
	return false
}
