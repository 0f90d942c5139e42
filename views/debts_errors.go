package views

import (
	"net/http"
	"strconv"

	"kasa/debts"
	"kasa/i18n"
)

// The kinds of Finrota failure the product explains, each with its own
// message and next step (CONTRACTS §1.6), whichever page shows it.
const (
	FinrotaNotConfigured  = "not_configured"
	FinrotaUnreachable    = "unreachable" // no answer at all
	FinrotaUnavailable    = "unavailable" // 5xx
	FinrotaThrottled      = "throttled"   // 429
	FinrotaMalformed      = "malformed"   // an answer that could not be read
	FinrotaCredentials    = "credentials" // 401 after a renewed token
	FinrotaForbidden      = "forbidden"   // 403
	FinrotaValidation     = "refused"     // 400, 422
	FinrotaNotFound       = "notfound"    // 404
	FinrotaConflict       = "conflict"    // 409
	FinrotaMirrorConflict = "mirror_conflict"
	FinrotaMirrorRule     = "mirror_rule"
	FinrotaInternal       = "internal" // an error of Kasa's own on the last attempt
	FinrotaOther          = "other"
)

// FinrotaClass names the kind of a recorded Finrota failure from its HTTP
// status and code (a provider code, a numeric status kept as the code, or
// one of the product's own: not_configured, unreachable, malformed,
// mirror_conflict); "" when nothing failed.
func FinrotaClass(status int, code string) string {
	switch code {
	case FinrotaNotConfigured, FinrotaUnreachable, FinrotaMirrorConflict, FinrotaMirrorRule, FinrotaInternal:
		return code
	case debts.FailMalformed:
		return FinrotaMalformed
	}
	if status == 0 {
		status, _ = strconv.Atoi(code)
	}
	switch {
	case status == 0 && code == "":
		return ""
	case status == http.StatusUnauthorized:
		return FinrotaCredentials
	case status == http.StatusForbidden:
		return FinrotaForbidden
	case status == http.StatusTooManyRequests:
		return FinrotaThrottled
	case status >= 500:
		return FinrotaUnavailable
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return FinrotaValidation
	case status == http.StatusNotFound:
		return FinrotaNotFound
	case status == http.StatusConflict:
		return FinrotaConflict
	}
	return FinrotaOther
}

// retryAfterSeconds is the wait Finrota asked for with a 429, as recorded
// with the debt's last attempt; 0 when it named none.
func retryAfterSeconds(d debts.Debt) int {
	secs, err := strconv.Atoi(first(d.ErrorFields()["retryAfter"]))
	if err != nil || secs <= 0 {
		return 0
	}
	return secs
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// deliveryRetryMessage explains a failure the outbox retries by itself:
// pending while attempts remain, and what to do once they ran out.
func deliveryRetryMessage(l i18n.Lang, class string, d debts.Debt) string {
	failed := d.State == debts.DebtFailed
	switch class {
	case FinrotaUnreachable:
		if failed {
			return l.T("debts.p.unreachable.gaveup")
		}
		return l.T("debts.p.unreachable")
	case FinrotaThrottled:
		if failed {
			return l.T("debts.p.throttled.gaveup")
		}
		if secs := retryAfterSeconds(d); secs > 0 {
			return l.T("debts.p.throttled", secs)
		}
		return l.T("debts.p.throttled.soon")
	case FinrotaMalformed:
		if failed {
			return l.T("debts.p.malformed.gaveup")
		}
		return l.T("debts.p.malformed")
	}
	if failed {
		return l.T("debts.p.gaveup")
	}
	return l.T("debts.p.unavailable")
}

// SyncFailure explains in l why a sync failed or is retrying, from the
// reason code the sync recorded, with what to do. Anything else (a row
// written before codes were kept, which may hold an error's raw text) gets
// the generic reason: raw text is never shown.
func SyncFailure(l i18n.Lang, code string) string {
	if _, ok := i18n.Lookup("debts.sync.err." + code); ok && code != "" {
		return l.T("debts.sync.err." + code)
	}
	return l.T("debts.sync.err.internal")
}

// CheckFailure explains in l why Finrota could not be read for a check
// at Finrota (or to take its values), from the same reason codes as a
// sync, with this page's next step: check again, never sync again.
func CheckFailure(l i18n.Lang, code string) string {
	if _, ok := i18n.Lookup("debts.check.err." + code); ok && code != "" {
		return l.T("debts.check.failed", l.T("debts.check.err."+code))
	}
	return l.T("debts.check.failed", SyncFailure(l, code)+" "+l.T("debts.check.again"))
}

// syncRetried lists the reasons a sync is retried rather than failed at
// once: what to do after they finally failed is to try again later.
var syncRetried = map[string]bool{FinrotaUnavailable: true, FinrotaUnreachable: true, FinrotaThrottled: true,
	FinrotaMalformed: true, FinrotaNotConfigured: true}

// SyncFailed is the whole explanation of a failed sync: its reason and,
// for reasons that pass by themselves, when to try again.
func SyncFailed(l i18n.Lang, code string) string {
	text := l.T("debts.sync.failed", SyncFailure(l, code))
	if syncRetried[code] {
		text += " " + l.T("debts.sync.again")
	}
	return text
}

// SyncState explains a sync still running: while it waits for its next
// attempt, why and when; otherwise how far it got.
func SyncState(l i18n.Lang, s debts.DebtSync) string {
	switch {
	case s.Retrying() && s.RetryAt != nil:
		return l.T("debts.sync.retrying", SyncFailure(l, s.Error), l.DateTime(*s.RetryAt), s.Attempts+1, s.MaxAttempts)
	case s.Retrying():
		return l.T("debts.sync.retrying.now", SyncFailure(l, s.Error))
	}
	return l.T("debts.sync.running", l.DateTime(s.StartedAt), s.Items)
}

// NotifyFailure explains in l why an overdue-notification send did not go
// out (or may have), or why it waits for another attempt, from the code it
// recorded, with what to do.
func NotifyFailure(l i18n.Lang, n debts.DebtNotification) string {
	if n.State == debts.NotifyUnknown {
		return l.T("debts.notify.unknown")
	}
	class := FinrotaClass(0, n.ErrorCode)
	if class == "" {
		return ""
	}
	if n.State == debts.NotifyPending || n.State == debts.NotifySending {
		// Refused without acting (429, 503): the job tries again.
		if class == FinrotaThrottled {
			return l.T("debts.notify.retrying.throttled")
		}
		return l.T("debts.notify.retrying.unavailable")
	}
	if _, ok := i18n.Lookup("debts.notify.err." + class); ok {
		return l.T("debts.notify.err." + class)
	}
	return l.T("debts.notify.err.other", n.ErrorMessage)
}
