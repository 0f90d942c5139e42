package hgs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"kasa/consents"
	"kasa/providers/garanti"
	"kasa/tz"
)

// Call is one planned transaction list call: a tag and a window of at
// most one year of calendar days (both ends included).
type Call struct {
	ProductID string
	From, To  time.Time
}

// PlanCalls lists the calls that bring a tag up to date over the
// consent's transaction dates [begin, end], as of today: first the newest
// days (those not yet fetched, and today again since it is still filling),
// then older history backwards, each window at most one year long as the
// bank allows (E050). Nothing is planned for days already fetched.
func PlanCalls(v Vehicle, begin, end, today time.Time) []Call {
	last := end
	if today.Before(last) {
		last = today
	}
	if last.Before(begin) {
		return nil
	}
	var calls []Call
	backward := func(to time.Time) {
		for !to.Before(begin) {
			from := to.AddDate(-1, 0, 0)
			if to.After(from.AddDate(1, 0, 0)) { // 29 February
				from = from.AddDate(0, 0, 1)
			}
			if from.Before(begin) {
				from = begin
			}
			calls = append(calls, Call{ProductID: v.ProductID, From: from, To: to})
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
			calls = append(calls, Call{ProductID: v.ProductID, From: from, To: to})
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
func interleave(perTag [][]Call) []Call {
	var out []Call
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
		return OutcomeBusy
	case r.Quota && r.Calls == 0:
		return OutcomeQuota
	case r.Failed > 0 && r.Calls == 0:
		return OutcomeFailed
	case r.Failed > 0:
		return OutcomePartial
	case r.Calls > 0:
		return OutcomeFetched
	case r.Uncovered > 0:
		return OutcomeUncovered
	}
	return OutcomeNothing
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
func (r SyncResult) run(jobID int64, manual bool) SyncRun {
	out := SyncRun{Manual: manual, Outcome: r.Outcome(), Vehicles: r.Vehicles, Calls: r.Calls, NewRows: r.New,
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

// SyncAll brings the tags up to date: first every tag is put under a usable
// consent that covers it (see assign), then the consent
// given, or every usable consent when consentID is 0, is synced. Tags that
// no consent covers are counted, not called for.
func (s *Service) SyncAll(ctx context.Context, consentID int64, manual bool) (SyncResult, error) {
	var res SyncResult
	uncovered, err := s.assign(ctx, s.now())
	if err != nil {
		return res, err
	}
	res.Uncovered = len(uncovered)
	ids := []int64{consentID}
	if consentID == 0 {
		cs, err := s.consents.Consents(ctx, consents.Active)
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
		r, err := s.Sync(ctx, id, manual)
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
func (s *Service) Sync(ctx context.Context, consentID int64, manual bool) (SyncResult, error) {
	var res SyncResult
	c, err := s.consents.Consent(ctx, consentID)
	if err != nil {
		return res, cancel(err)
	}
	if !c.Usable() {
		return res, nil
	}
	// The status job may not have seen the validation date pass yet: a call
	// now would only earn E031 on every card.
	if expired, err := s.consents.MarkExpiredIfPast(ctx, c); err != nil || expired {
		return res, err
	}
	vehicles, err := s.Vehicles(ctx, c.ID)
	if err != nil {
		return res, err
	}
	products, err := s.consents.Products(ctx, c.ID)
	if err != nil {
		return res, err
	}
	live := map[string][]string{}
	for _, p := range products {
		if p.Live() {
			live[p.ProductID] = append(live[p.ProductID], p.AuthorityID)
		}
	}
	today := tz.Day(s.now())
	var perTag [][]Call
	for _, v := range vehicles {
		if len(live[v.ProductID]) == 0 {
			continue // nothing in force for it here: assign counts it
		}
		if v.LastErrorCode == "E052" && !manual {
			continue // the tag left the consent; only a person retries it
		}
		perTag = append(perTag, PlanCalls(v, c.TranBegin, c.TranEnd, today))
	}
	plan := interleave(perTag)
	cl, err := s.consents.Client(ctx)
	if err != nil {
		return res, err
	}
	token := ""
	synced := map[string]bool{}
	for i, call := range plan {
		at := s.now()
		ok, err := s.consents.ReserveCall(ctx, c, at)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Deferred, res.Quota, res.Limit = len(plan)-i, true, c.FrequencyPerDay
			break
		}
		if token == "" {
			if token, err = s.consents.AccessToken(ctx, cl, c, "", consents.CallMargin); err != nil {
				if rerr := s.consents.ReleaseCall(ctx, c, at); rerr != nil {
					return res, rerr
				}
				res.Failed, res.ErrorCode = res.Failed+1, consents.ErrorCode(err)
				return res, tokenFailure(err)
			}
		}
		q := garanti.TxnQuery{ProductID: call.ProductID, Start: call.From, End: call.To, Authorities: live[call.ProductID]}
		out, err := cl.HGSTransactions(ctx, c.ConsentID, token, q)
		if garanti.IsUnauthorized(err) {
			// Refused before it counted: renew once and use the same reservation.
			if token, err = s.consents.AccessToken(ctx, cl, c, token, consents.CallMargin); err != nil {
				if rerr := s.consents.ReleaseCall(ctx, c, at); rerr != nil {
					return res, rerr
				}
				res.Failed, res.ErrorCode = res.Failed+1, consents.ErrorCode(err)
				return res, tokenFailure(err)
			}
			out, err = cl.HGSTransactions(ctx, c.ConsentID, token, q)
		}
		if err != nil {
			if rerr := s.consents.ReleaseCall(ctx, c, at); rerr != nil {
				return res, rerr
			}
		}
		var ge *garanti.Error
		if errors.As(err, &ge) && ge.Status == http.StatusTooManyRequests {
			res.Deferred = len(plan) - i
			if now := s.now(); consents.DaySpent(ge, now) {
				// The bank counts differently from us (another client of the
				// same consent?): believe it and stop for the day.
				if err := s.consents.ExhaustQuota(ctx, c, now); err != nil {
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
			res.ErrorCode = consents.ErrorCode(err)
			res.Retryable = res.Retryable || garanti.IsRetryable(err)
			if serr := s.SetVehicleError(ctx, call.ProductID, res.ErrorCode, err.Error()); serr != nil {
				return res, serr
			}
			continue
		}
		res.Calls++
		n, err := s.SaveWindow(ctx, window(c.ID, call, out))
		if err != nil {
			// What the bank sent cannot be stored (the rows were checked):
			// the same call would fail again, so the tag says so and the
			// others go on; the window stays unsynced for a later try.
			res.Failed++
			res.ErrorCode = "store"
			if serr := s.SetVehicleError(ctx, call.ProductID, "store", err.Error()); serr != nil {
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
		if err := s.scheduleSync(ctx, c.ID, next, next.Format("2006-01-02")); err != nil {
			return res, err
		}
	}
	if !res.RetryAt.IsZero() {
		if err := s.scheduleSync(ctx, c.ID, res.RetryAt, res.RetryAt.UTC().Format(time.RFC3339)); err != nil {
			return res, err
		}
	}
	_, res.NextCall, err = s.consents.NextCall(ctx, c)
	return res, err
}

// scheduleSync queues a sync of the consent at at, once per key: River's
// unique jobs keep a second insert of the same consent and key (another
// instance, a retried sync) from queueing it twice.
func (s *Service) scheduleSync(ctx context.Context, consentID int64, at time.Time, key string) error {
	_, err := s.jobs.Insert(ctx, SyncArgs{ConsentID: consentID, Key: key}, &river.InsertOpts{ScheduledAt: at,
		UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		return fmt.Errorf("hgs: schedule sync of consent %d: %w", consentID, err)
	}
	return nil
}

// tokenFailure is what Sync returns when no access token can be had: a
// flagged, misconfigured or never-approved consent is shown on its page and
// not worth retrying; a passing failure is retried.
func tokenFailure(err error) error {
	switch {
	case errors.Is(err, consents.ErrReauth):
		return nil
	case errors.Is(err, consents.ErrCredentials), errors.Is(err, consents.ErrNoTokens):
		return cancel(err)
	}
	var ge *garanti.Error
	if errors.As(err, &ge) && !garanti.IsRetryable(err) {
		return cancel(err)
	}
	return err
}

// window turns the bank's answer into what the store keeps.
func window(consentID int64, call Call, out garanti.HGSResult) Window {
	w := Window{ProductID: call.ProductID, ConsentID: consentID, From: call.From, To: call.To}
	if p := out.Product; p.ProductID != "" {
		w.Info = &VehicleInfo{Plate: p.Plate, VehicleClass: p.VehicleClassID, Balance: p.Balance, StatusText: p.StatusText,
			AutoPayment: p.AutoPaymentAmount, MinPayment: p.MinPaymentAmount}
	}
	for _, t := range out.Transactions {
		in := TransactionInput{Key: t.Key(), ProductID: call.ProductID, Amount: t.Amount,
			DebitCredit: t.DebitCredit, EntranceTS: t.EntranceTS, DepartureTS: t.DepartureTS, EntranceMotorway: t.EntranceMotorway,
			DepartureMotorway: t.DepartureMotorway, Explanation: t.Explanation, Raw: t.Raw}
		if why := in.Valid(); why != "" {
			// Kept aside whole rather than blocking the tag's other rows.
			w.Unrecognised = append(w.Unrecognised, UnrecognisedRow{Key: in.Key, Reason: why, Raw: t.Raw})
			continue
		}
		w.Transactions = append(w.Transactions, in)
	}
	return w
}
