package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"kasa/providers/garanti"
	"kasa/store"
)

// HGSCall is one planned transaction list call: a tag and a window of at
// most one year of calendar days (both ends included).
type HGSCall struct {
	ProductID string
	From, To  time.Time
}

// PlanHGSCalls lists the calls that bring a tag up to date over the
// consent's transaction dates [begin, end], as of today: first the newest
// days (those not yet fetched, and today again since it is still filling),
// then older history backwards, each window at most one year long as the
// bank allows (E050). Nothing is planned for days already fetched.
func PlanHGSCalls(v store.HGSVehicle, begin, end, today time.Time) []HGSCall {
	last := end
	if today.Before(last) {
		last = today
	}
	if last.Before(begin) {
		return nil
	}
	var calls []HGSCall
	backward := func(to time.Time) {
		for !to.Before(begin) {
			from := to.AddDate(-1, 0, 0)
			if to.After(from.AddDate(1, 0, 0)) { // 29 February
				from = from.AddDate(0, 0, 1)
			}
			if from.Before(begin) {
				from = begin
			}
			calls = append(calls, HGSCall{ProductID: v.ProductID, From: from, To: to})
			to = from.AddDate(0, 0, -1)
		}
	}
	if v.SyncedFrom == nil || v.SyncedTo == nil {
		backward(last)
		return calls
	}
	// Forward from the last day fetched (again: it may have been partial)
	// unless that day is over and was the last one the consent covers.
	if from := *v.SyncedTo; from.Before(last) || (!from.After(last) && !last.Before(today)) {
		if from.Before(begin) {
			from = begin
		}
		for !from.After(last) {
			to := from.AddDate(1, 0, 0)
			if to.After(last) {
				to = last
			}
			calls = append(calls, HGSCall{ProductID: v.ProductID, From: from, To: to})
			from = to.AddDate(0, 0, 1)
		}
	}
	if v.SyncedFrom.After(begin) {
		backward(v.SyncedFrom.AddDate(0, 0, -1))
	}
	return calls
}

// interleave orders the calls of several tags so each tag's first (newest)
// window comes before any tag's older history: a short quota then still
// brings every card up to date.
func interleave(perTag [][]HGSCall) []HGSCall {
	var out []HGSCall
	for i := 0; ; i++ {
		added := false
		for _, calls := range perTag {
			if i < len(calls) {
				out = append(out, calls[i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// SyncResult says what a sync did.
type SyncResult struct {
	Calls     int       // data calls the bank accepted (the ones counted against frequencyPerDay)
	Vehicles  int       // tags brought up to date by an accepted call
	New       int       // movements stored that were not there before
	Deferred  int       // planned calls left for later (the bank's Retry-After, or the next day's quota)
	Failed    int       // tags whose call failed
	Uncovered int       // tags no usable consent covers: not synced, no call made
	Retryable bool      // some failure may pass on its own
	ErrorCode string    // the last failure, for the catalogue
	Quota     bool      // the day's frequencyPerDay ran out: the rest waits for the next day
	Limit     int       // frequencyPerDay of the consent whose day ran out
	RetryAt   time.Time // the bank throttled (429) and asked to wait until then; zero otherwise
	NextCall  time.Time // when the consent's next data call is allowed
}

// Outcome names what the sync achieved, for the page and the flash.
func (r SyncResult) Outcome() string {
	switch {
	case !r.RetryAt.IsZero():
		return store.HGSOutcomeBusy
	case r.Quota && r.Calls == 0:
		return store.HGSOutcomeQuota
	case r.Failed > 0 && r.Calls == 0:
		return store.HGSOutcomeFailed
	case r.Failed > 0:
		return store.HGSOutcomePartial
	case r.Calls > 0:
		return store.HGSOutcomeFetched
	case r.Uncovered > 0:
		return store.HGSOutcomeUncovered
	}
	return store.HGSOutcomeNothing
}

// add folds the result of another consent's sync into r.
func (r *SyncResult) add(o SyncResult) {
	r.Calls += o.Calls
	r.Vehicles += o.Vehicles
	r.New += o.New
	r.Deferred += o.Deferred
	r.Failed += o.Failed
	r.Retryable = r.Retryable || o.Retryable
	if o.ErrorCode != "" {
		r.ErrorCode = o.ErrorCode
	}
	if o.Quota && !r.Quota {
		r.Quota, r.Limit, r.NextCall = true, o.Limit, o.NextCall
	}
	if o.RetryAt.After(r.RetryAt) {
		r.RetryAt = o.RetryAt
	}
}

// run is the record of the result.
func (r SyncResult) run(jobID int64, manual bool) store.HGSSyncRun {
	out := store.HGSSyncRun{Manual: manual, Outcome: r.Outcome(), Vehicles: r.Vehicles, Calls: r.Calls, NewRows: r.New,
		Failed: r.Failed, Deferred: r.Deferred, Uncovered: r.Uncovered, ErrorCode: r.ErrorCode, QuotaLimit: r.Limit}
	if jobID != 0 {
		out.JobID = &jobID
	}
	switch {
	case !r.RetryAt.IsZero():
		out.RetryAt = &r.RetryAt
	case r.Quota && !r.NextCall.IsZero():
		out.RetryAt = &r.NextCall
	}
	return out
}

// throttleWait is how long to wait after a 429 that names no Retry-After.
const throttleWait = time.Minute

// daySpent reports whether a 429 means the consent's calls for the day are
// used up. Only the bank can say so: its Retry-After runs into the next
// Istanbul day, or, giving none, it names frequencyPerDay or the plan limit.
// Any other 429 is throttling: the calls were not counted, and the sync
// waits as long as the bank asked.
func daySpent(ge *garanti.Error, now time.Time) bool {
	if ge.RetryAfter > 0 {
		return !now.Add(ge.RetryAfter).Before(store.GarantiDay(now).AddDate(0, 0, 1))
	}
	info := strings.ToLower(ge.Info)
	return strings.Contains(info, "frequencyperday") || strings.Contains(info, "plan limit")
}

// SyncAll brings the tags up to date: first every tag is put under a usable
// consent that covers it (see store.AssignHGSVehicles), then the consent
// given, or every usable consent when consentID is 0, is synced. Tags that
// no consent covers are counted, not called for.
func (g *Garanti) SyncAll(ctx context.Context, consentID int64, manual bool) (SyncResult, error) {
	var res SyncResult
	uncovered, err := g.Store.AssignHGSVehicles(ctx, g.Now())
	if err != nil {
		return res, err
	}
	res.Uncovered = len(uncovered)
	ids := []int64{consentID}
	if consentID == 0 {
		cs, err := g.Store.GarantiConsents(ctx, store.GarantiActive)
		if err != nil {
			return res, err
		}
		ids = ids[:0]
		for _, c := range cs {
			if c.Usable() {
				ids = append(ids, c.ID)
			}
		}
	}
	var failed error
	for _, id := range ids {
		r, err := g.Sync(ctx, id, manual)
		res.add(r)
		if err != nil {
			if consentID != 0 {
				return res, err
			}
			failed = err // the other consents still get their turn
		}
	}
	return res, failed
}

// Sync brings the tags of a consent up to date within its daily quota. It
// plans every call and reserves each one against frequencyPerDay before
// making it (so instances together never exceed it), keeping the
// reservation only when the bank accepted the call: a call it throttled,
// refused, or did not answer readably does not count, as the bank does not
// count it. It stops when the day's quota is spent, queueing the rest for
// the next day, and when the bank throttles, queueing the rest after its
// Retry-After. Tags the consent grants nothing in force for are skipped.
func (g *Garanti) Sync(ctx context.Context, consentID int64, manual bool) (SyncResult, error) {
	var res SyncResult
	c, err := g.Store.GarantiConsent(ctx, consentID)
	if err != nil {
		return res, Permanent(err)
	}
	if !c.Usable() {
		return res, nil
	}
	// The status job may not have seen the validation date pass yet: a call
	// now would only earn E031 on every card.
	if expired, err := g.MarkExpiredIfPast(ctx, c); err != nil || expired {
		return res, err
	}
	vehicles, err := g.Store.HGSVehicles(ctx, c.ID)
	if err != nil {
		return res, err
	}
	products, err := g.Store.GarantiConsentProducts(ctx, c.ID)
	if err != nil {
		return res, err
	}
	live := map[string][]string{}
	for _, p := range products {
		if p.Live() {
			live[p.ProductID] = append(live[p.ProductID], p.AuthorityID)
		}
	}
	today := store.GarantiDay(g.Now())
	var perTag [][]HGSCall
	for _, v := range vehicles {
		if len(live[v.ProductID]) == 0 {
			continue // nothing in force for it here: store.AssignHGSVehicles counts it
		}
		if v.LastErrorCode == "E052" && !manual {
			continue // the tag left the consent; only a person retries it
		}
		perTag = append(perTag, PlanHGSCalls(v, c.TranBegin, c.TranEnd, today))
	}
	plan := interleave(perTag)
	cl, _, err := g.Conn.Garanti(ctx)
	if err != nil {
		return res, err
	}
	token := ""
	synced := map[string]bool{}
	for i, call := range plan {
		at := g.Now()
		ok, err := g.Store.ReserveGarantiCall(ctx, c.ID, at, c.FrequencyPerDay)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Deferred, res.Quota, res.Limit = len(plan)-i, true, c.FrequencyPerDay
			break
		}
		if token == "" {
			if token, err = g.AccessToken(ctx, cl, c, "", callMargin); err != nil {
				if rerr := g.Store.ReleaseGarantiCall(ctx, c.ID, at); rerr != nil {
					return res, rerr
				}
				res.Failed, res.ErrorCode = res.Failed+1, ErrorCode(err)
				return res, tokenFailure(err)
			}
		}
		q := garanti.TxnQuery{ProductID: call.ProductID, Start: call.From, End: call.To, Authorities: live[call.ProductID]}
		out, err := cl.HGSTransactions(ctx, c.ConsentID, token, q)
		if garanti.IsUnauthorized(err) {
			// Refused before it counted: renew once and use the same reservation.
			if token, err = g.AccessToken(ctx, cl, c, token, callMargin); err != nil {
				if rerr := g.Store.ReleaseGarantiCall(ctx, c.ID, at); rerr != nil {
					return res, rerr
				}
				res.Failed, res.ErrorCode = res.Failed+1, ErrorCode(err)
				return res, tokenFailure(err)
			}
			out, err = cl.HGSTransactions(ctx, c.ConsentID, token, q)
		}
		if err != nil {
			if rerr := g.Store.ReleaseGarantiCall(ctx, c.ID, at); rerr != nil {
				return res, rerr
			}
		}
		var ge *garanti.Error
		if errors.As(err, &ge) && ge.Status == http.StatusTooManyRequests {
			res.Deferred = len(plan) - i
			if now := g.Now(); daySpent(ge, now) {
				// The bank counts differently from us (another client of the
				// same consent?): believe it and stop for the day.
				if err := g.Store.ExhaustGarantiQuota(ctx, c.ID, now, c.FrequencyPerDay); err != nil {
					return res, err
				}
				res.Quota, res.Limit = true, c.FrequencyPerDay
			} else {
				wait := ge.RetryAfter
				if wait <= 0 {
					wait = throttleWait
				}
				res.RetryAt = now.Add(wait)
			}
			break
		}
		if err != nil {
			res.Failed++
			res.ErrorCode = ErrorCode(err)
			res.Retryable = res.Retryable || garanti.IsRetryable(err)
			if serr := g.Store.SetHGSVehicleError(ctx, call.ProductID, res.ErrorCode, err.Error()); serr != nil {
				return res, serr
			}
			continue
		}
		res.Calls++
		n, err := g.Store.SaveHGSWindow(ctx, window(c.ID, call, out))
		if err != nil {
			// What the bank sent cannot be stored (the rows were checked):
			// the same call would fail again, so the tag says so and the
			// others go on; the window stays unsynced for a later try.
			res.Failed++
			res.ErrorCode = "store"
			if serr := g.Store.SetHGSVehicleError(ctx, call.ProductID, "store", err.Error()); serr != nil {
				return res, serr
			}
			continue
		}
		synced[call.ProductID] = true
		res.New += n
	}
	res.Vehicles = len(synced)
	if res.Quota && res.Deferred > 0 {
		next := today.AddDate(0, 0, 1).Add(time.Minute)
		if err := g.scheduleSync(ctx, c.ID, next, next.Format("2006-01-02")); err != nil {
			return res, err
		}
	}
	if !res.RetryAt.IsZero() {
		if err := g.scheduleSync(ctx, c.ID, res.RetryAt, res.RetryAt.UTC().Format(time.RFC3339)); err != nil {
			return res, err
		}
	}
	_, res.NextCall, err = g.NextCall(ctx, c)
	return res, err
}

// scheduleSync queues a sync of the consent at at, once per key.
func (g *Garanti) scheduleSync(ctx context.Context, consentID int64, at time.Time, key string) error {
	_, err := Enqueue(ctx, g.Store.DB(), KindHGSSync, HGSSyncPayload{ConsentID: consentID}, RunAt(at), MaxAttempts(5),
		UniqueKey(fmt.Sprintf("%s:%d:%s", KindHGSSync, consentID, key)))
	if err != nil && !errors.Is(err, ErrDuplicate) {
		return err
	}
	return nil
}

// tokenFailure is what Sync returns when no access token can be had: a
// flagged, misconfigured or never-approved consent is shown on its page and
// not worth retrying; a passing failure is retried.
func tokenFailure(err error) error {
	switch {
	case errors.Is(err, ErrGarantiReauth):
		return nil
	case errors.Is(err, ErrGarantiCredentials), errors.Is(err, ErrGarantiNoTokens):
		return Permanent(err)
	}
	var ge *garanti.Error
	if errors.As(err, &ge) && !garanti.IsRetryable(err) {
		return Permanent(err)
	}
	return err
}

// window turns the bank's answer into what the store keeps.
func window(consentID int64, call HGSCall, out garanti.HGSResult) store.HGSWindow {
	w := store.HGSWindow{ProductID: call.ProductID, ConsentID: consentID, From: call.From, To: call.To}
	if p := out.Product; p.ProductID != "" {
		w.Info = &store.HGSVehicleInfo{Plate: p.Plate, VehicleClass: p.VehicleClassID, Balance: p.Balance, StatusText: p.StatusText,
			AutoPayment: p.AutoPaymentAmount, MinPayment: p.MinPaymentAmount}
	}
	for _, t := range out.Transactions {
		in := store.HGSTransactionInput{Key: t.Key(), ProductID: call.ProductID, Amount: t.Amount,
			DebitCredit: t.DebitCredit, EntranceTS: t.EntranceTS, DepartureTS: t.DepartureTS, EntranceMotorway: t.EntranceMotorway,
			DepartureMotorway: t.DepartureMotorway, Explanation: t.Explanation, Raw: t.Raw}
		if why := in.Valid(); why != "" {
			// Kept aside whole rather than blocking the tag's other rows.
			w.Unrecognised = append(w.Unrecognised, store.HGSUnrecognisedRow{Key: in.Key, Reason: why, Raw: t.Raw})
			continue
		}
		w.Transactions = append(w.Transactions, in)
	}
	return w
}
