package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/connect"
	"kasa/providers/garanti"
	"kasa/store"
)

// Garanti job kinds.
const (
	KindGarantiStatus = "garanti.consent_status"
	KindGarantiTokens = "garanti.token_renew"
	KindHGSSync       = "garanti.hgs_sync"
	KindGarantiRotate = "garanti.rotate"
)

// tokenMargin is how long before its expiry an access token is renewed by
// the schedule; calls renew with callMargin to spare.
const (
	tokenMargin = 15 * time.Minute
	callMargin  = 2 * time.Minute
)

// ErrGarantiReauth means the consent's tokens cannot be renewed: the
// customer has to approve a new consent.
var ErrGarantiReauth = errors.New("garanti: consent needs re-authorisation")

// HGSSyncPayload is the payload of KindHGSSync: one consent, or every
// usable consent when ConsentID is 0. Manual syncs (the "refresh now"
// button) also retry tags whose last sync said they are not in the consent.
type HGSSyncPayload struct {
	ConsentID int64 `json:"consent_id"`
	Manual    bool  `json:"manual,omitempty"`
}

// GarantiJobs returns the handlers and schedules of the Garanti consent and
// HGS work: consent statuses hourly, token renewal every ten minutes, HGS
// sync every six hours, secrets re-encrypted and spent states pruned daily.
func GarantiJobs(st *store.Store, conn *connect.Connector) (map[string]HandlerFunc, []Schedule) {
	g := &Garanti{Store: st, Conn: conn, Now: time.Now}
	handlers := map[string]HandlerFunc{
		KindGarantiStatus: func(ctx context.Context, _ Job) error { return g.refreshStatuses(ctx) },
		KindGarantiTokens: func(ctx context.Context, _ Job) error { return g.renewTokens(ctx) },
		KindHGSSync:       g.syncJob,
		KindGarantiRotate: func(ctx context.Context, _ Job) error {
			if _, err := st.RotateGarantiSecrets(ctx); err != nil {
				return err
			}
			_, err := st.PruneGarantiStates(ctx, g.Now().Add(-24*time.Hour))
			return err
		},
	}
	schedules := []Schedule{
		{Kind: KindGarantiStatus, Every: time.Hour},
		{Kind: KindGarantiTokens, Every: 10 * time.Minute},
		{Kind: KindHGSSync, Every: 6 * time.Hour, Payload: HGSSyncPayload{}},
		{Kind: KindGarantiRotate, Every: 24 * time.Hour},
	}
	return handlers, schedules
}

// Garanti does the Garanti consent and HGS work for jobs and for the
// handlers' interactive calls.
type Garanti struct {
	Store *store.Store
	Conn  *connect.Connector
	Now   func() time.Time
}

// EnqueueHGSSync queues a sync of one consent (all usable consents when 0).
func EnqueueHGSSync(ctx context.Context, q sqlx.ExtContext, consentID int64, manual bool) (int64, error) {
	return Enqueue(ctx, q, KindHGSSync, HGSSyncPayload{ConsentID: consentID, Manual: manual}, MaxAttempts(5))
}

// ErrorCode names a failed Garanti call for the catalogue: the bank's E-code
// or OAuth error, else the product's own word for the kind of failure.
func ErrorCode(err error) string {
	var ge *garanti.Error
	if !errors.As(err, &ge) {
		if errors.Is(err, ErrGarantiReauth) {
			return "reauth"
		}
		return "unavailable"
	}
	switch {
	case ge.Code == garanti.CodeMalformed:
		return "unavailable"
	case ge.Code != "":
		return ge.Code
	case ge.Status == 401:
		return "unauthorized"
	case ge.Status == 429:
		return "quota"
	case ge.Status >= 500:
		return "unavailable"
	}
	return "http_" + strconv.Itoa(ge.Status)
}

// NextCall says how many data calls the consent made today and when the
// next one is allowed: now while under frequencyPerDay, else the next
// Istanbul midnight.
func (g *Garanti) NextCall(ctx context.Context, c store.GarantiConsent) (used int, next time.Time, err error) {
	now := g.Now()
	used, err = g.Store.GarantiUsage(ctx, c.ID, now)
	if err != nil {
		return 0, time.Time{}, err
	}
	if used < c.FrequencyPerDay {
		return used, now, nil
	}
	return used, store.GarantiDay(now).AddDate(0, 0, 1), nil
}

// AccessToken returns a usable access token of the consent, renewing it
// under the token row's lock when it is close to expiry or is stale (just
// refused by the bank). A refresh the bank refuses marks the consent as
// needing re-authorisation and returns ErrGarantiReauth.
func (g *Garanti) AccessToken(ctx context.Context, cl *garanti.Client, c store.GarantiConsent, stale string, margin time.Duration) (string, error) {
	tok, err := g.Store.RenewGarantiToken(ctx, c.ID, stale, margin, func(ctx context.Context, refresh string) (store.GarantiToken, error) {
		t, err := cl.Refresh(ctx, refresh)
		if err != nil {
			return store.GarantiToken{}, err
		}
		return store.GarantiToken{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry}, nil
	})
	if err == nil {
		return tok.Access, nil
	}
	if errors.Is(err, store.ErrNotFound) || !garanti.IsRetryable(err) {
		reason := ErrorCode(err)
		if merr := g.Store.MarkGarantiReauth(ctx, c.ID, reason); merr != nil {
			return "", merr
		}
		return "", fmt.Errorf("%w (%s): %w", ErrGarantiReauth, reason, err)
	}
	return "", err
}

// RefreshStatus reads the consent's status from the bank (a call that does
// not count against frequencyPerDay) and records it. A consent past its
// validation date reads as expired, which is a status, not an error.
func (g *Garanti) RefreshStatus(ctx context.Context, cl *garanti.Client, c store.GarantiConsent) error {
	list, err := cl.ConsentStatus(ctx, c.ConsentID)
	if err != nil {
		if serr := g.Store.SetGarantiConsentError(ctx, c.ID, ErrorCode(err), err.Error()); serr != nil {
			return serr
		}
		return err
	}
	raw := c.RawStatus
	var auths []store.GarantiAuthorityStatus
	for i, a := range list {
		mapped := a.Mapped()
		auths = append(auths, store.GarantiAuthorityStatus{AuthorityID: a.AuthorityID, Raw: a.Status, Status: string(mapped)})
		// The consent is active while any authority is; otherwise it takes
		// the first authority's status.
		if i == 0 || mapped == garanti.StatusActive {
			raw = a.Status
		}
	}
	status := string(garanti.MapStatus(raw))
	if status == string(garanti.StatusUnknown) {
		status = c.Status
	}
	if status == store.GarantiActive && c.ValidationDate.Before(store.GarantiDay(g.Now())) {
		status = store.GarantiExpired
	}
	if err := g.Store.SetGarantiConsentStatus(ctx, c.ID, status, raw, auths); err != nil {
		return err
	}
	if c.LastErrorCode != "" && status != store.GarantiAwaiting && status != store.GarantiAuthorised {
		return g.Store.SetGarantiConsentError(ctx, c.ID, "", "")
	}
	return nil
}

func (g *Garanti) refreshStatuses(ctx context.Context) error {
	cl, _, err := g.Conn.Garanti(ctx)
	if errors.Is(err, connect.ErrNotConfigured) {
		return nil
	}
	if err != nil {
		return err
	}
	cs, err := g.Store.GarantiConsents(ctx, store.GarantiAwaiting, store.GarantiAuthorised, store.GarantiActive)
	if err != nil {
		return err
	}
	var failed error
	for _, c := range cs {
		if err := g.RefreshStatus(ctx, cl, c); err != nil && garanti.IsRetryable(err) {
			failed = err // the others still get their turn
		}
	}
	return failed
}

func (g *Garanti) renewTokens(ctx context.Context) error {
	ids, err := g.Store.GarantiTokensExpiring(ctx, g.Now().Add(tokenMargin))
	if err != nil || len(ids) == 0 {
		return err
	}
	cl, _, err := g.Conn.Garanti(ctx)
	if err != nil {
		return err
	}
	var failed error
	for _, id := range ids {
		c, err := g.Store.GarantiConsent(ctx, id)
		if err != nil {
			return err
		}
		if _, err := g.AccessToken(ctx, cl, c, "", tokenMargin); err != nil && !errors.Is(err, ErrGarantiReauth) {
			failed = err
		}
	}
	return failed
}

func (g *Garanti) syncJob(ctx context.Context, j Job) error {
	var p HGSSyncPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("hgs sync: payload: %w", err))
	}
	ids := []int64{p.ConsentID}
	if p.ConsentID == 0 {
		cs, err := g.Store.GarantiConsents(ctx, store.GarantiActive)
		if err != nil {
			return err
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
		res, err := g.Sync(ctx, id, p.Manual)
		if err != nil {
			return err
		}
		if res.Retryable && !p.Manual {
			failed = fmt.Errorf("hgs sync: consent %d: some tags failed for a passing reason", id)
		}
	}
	return failed
}

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
				if errors.Is(err, ErrGarantiReauth) {
					return res, nil // shown on the consent; nothing to retry
				}
				return res, err
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
				if errors.Is(err, ErrGarantiReauth) {
					return res, nil
				}
				return res, err
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
			return res, err
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

// window turns the bank's answer into what the store keeps.
func window(consentID int64, call HGSCall, out garanti.HGSResult) store.HGSWindow {
	w := store.HGSWindow{ProductID: call.ProductID, ConsentID: consentID, From: call.From, To: call.To}
	if p := out.Product; p.ProductID != "" {
		w.Info = &store.HGSVehicleInfo{Plate: p.Plate, VehicleClass: p.VehicleClassID, Balance: p.Balance, StatusText: p.StatusText,
			AutoPayment: p.AutoPaymentAmount, MinPayment: p.MinPaymentAmount}
	}
	for _, t := range out.Transactions {
		w.Transactions = append(w.Transactions, store.HGSTransactionInput{Key: t.Key(), ProductID: call.ProductID, Amount: t.Amount,
			DebitCredit: t.DebitCredit, EntranceTS: t.EntranceTS, DepartureTS: t.DepartureTS, EntranceMotorway: t.EntranceMotorway,
			DepartureMotorway: t.DepartureMotorway, Explanation: t.Explanation, Raw: t.Raw})
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
