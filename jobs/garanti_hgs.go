package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

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
	Calls     int       // data calls made
	New       int       // movements stored that were not there before
	Deferred  int       // planned calls left for the next day's quota
	Failed    int       // tags whose call failed
	Retryable bool      // some failure may pass on its own
	NextCall  time.Time // when the consent's next data call is allowed
}

// Sync brings the tags of a consent up to date within its daily quota. It
// plans every call, reserves each one against frequencyPerDay before making
// it (counting reads and transaction lists alike, as the bank does), and
// stops when the day's quota is spent, queueing the rest for the next day.
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
	for i, call := range plan {
		if token == "" {
			if token, err = g.AccessToken(ctx, cl, c, "", callMargin); err != nil {
				return res, tokenFailure(err)
			}
		}
		ok, err := g.Store.ReserveGarantiCall(ctx, c.ID, g.Now(), c.FrequencyPerDay)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Deferred = len(plan) - i
			break
		}
		res.Calls++
		q := garanti.TxnQuery{ProductID: call.ProductID, Start: call.From, End: call.To, Authorities: live[call.ProductID]}
		out, err := cl.HGSTransactions(ctx, c.ConsentID, token, q)
		if garanti.IsUnauthorized(err) {
			// Refused before it counted: renew once and use the same reservation.
			if token, err = g.AccessToken(ctx, cl, c, token, callMargin); err != nil {
				return res, tokenFailure(err)
			}
			out, err = cl.HGSTransactions(ctx, c.ConsentID, token, q)
		}
		var ge *garanti.Error
		if errors.As(err, &ge) && ge.Status == 429 {
			// The bank counts differently from us (another client of the
			// same consent?): believe it and stop for the day.
			if err := g.Store.ExhaustGarantiQuota(ctx, c.ID, g.Now(), c.FrequencyPerDay); err != nil {
				return res, err
			}
			res.Deferred = len(plan) - i
			break
		}
		if err != nil {
			res.Failed++
			res.Retryable = res.Retryable || garanti.IsRetryable(err)
			if serr := g.Store.SetHGSVehicleError(ctx, call.ProductID, ErrorCode(err), err.Error()); serr != nil {
				return res, serr
			}
			continue
		}
		n, err := g.Store.SaveHGSWindow(ctx, window(c.ID, call, out))
		if err != nil {
			// What the bank sent cannot be stored (the rows were checked):
			// the same call would fail again, so the tag says so and the
			// others go on; the window stays unsynced for a later try.
			res.Failed++
			if serr := g.Store.SetHGSVehicleError(ctx, call.ProductID, "store", err.Error()); serr != nil {
				return res, serr
			}
			continue
		}
		res.New += n
	}
	if res.Deferred > 0 {
		next := today.AddDate(0, 0, 1).Add(time.Minute)
		_, err := Enqueue(ctx, g.Store.DB(), KindHGSSync, HGSSyncPayload{ConsentID: c.ID}, RunAt(next), MaxAttempts(5),
			UniqueKey(fmt.Sprintf("%s:%d:%s", KindHGSSync, c.ID, next.Format("2006-01-02"))))
		if err != nil && !errors.Is(err, ErrDuplicate) {
			return res, err
		}
	}
	_, res.NextCall, err = g.NextCall(ctx, c)
	return res, err
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

// HGSSyncPending reports whether an HGS sync is running or due now (not one
// waiting for tomorrow's quota), so a page can say so and refresh itself.
func HGSSyncPending(ctx context.Context, q sqlx.QueryerContext) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM jobs WHERE kind = $1
		AND (state = 'running' OR (state = 'queued' AND run_at <= now()))`, KindHGSSync)
	if err != nil {
		return false, fmt.Errorf("jobs: hgs sync pending: %w", err)
	}
	return n > 0, nil
}
