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
	KindGarantiPrune  = "garanti.prune_states"
)

// tokenMargin is how long before its expiry an access token is renewed by
// the schedule; calls renew with callMargin to spare.
const (
	tokenMargin = 15 * time.Minute
	callMargin  = 2 * time.Minute
)

// hgsRunRetention is how long the record of an HGS sync is kept; the page
// shows the latest, the rest is there to look back at recent trouble.
const hgsRunRetention = 90 * 24 * time.Hour

// ErrGarantiReauth means the bank refused the consent's refresh token: the
// customer has to approve a new consent.
var ErrGarantiReauth = errors.New("garanti: consent needs re-authorisation")

// ErrGarantiCredentials means the bank refused the application's own
// credentials while renewing a token: an admin fixes them on the setup
// page; the consent itself is fine.
var ErrGarantiCredentials = errors.New("garanti: application credentials refused")

// ErrGarantiNoTokens means the consent has no tokens (it was never
// approved): there is nothing to renew and nothing to re-approve.
var ErrGarantiNoTokens = errors.New("garanti: consent has no tokens")

// HGSSyncPayload is the payload of KindHGSSync: one consent, or every
// usable consent when ConsentID is 0. Manual syncs (the "refresh now"
// button) also retry tags whose last sync said they are not in the consent.
type HGSSyncPayload struct {
	ConsentID int64 `json:"consent_id"`
	Manual    bool  `json:"manual,omitempty"`
}

// GarantiJobs returns the handlers and schedules of the Garanti consent and
// HGS work: consent statuses hourly, token renewal every ten minutes, HGS
// sync every six hours, spent OAuth states and old sync records pruned daily. (Their secrets are
// re-encrypted by the shared rotation job, store.RotateSecrets.)
func GarantiJobs(st *store.Store, conn *connect.Connector) (map[string]HandlerFunc, []Schedule) {
	g := &Garanti{Store: st, Conn: conn, Now: time.Now}
	handlers := map[string]HandlerFunc{
		KindGarantiStatus: func(ctx context.Context, _ Job) error { return g.refreshStatuses(ctx) },
		KindGarantiTokens: func(ctx context.Context, _ Job) error { return g.renewTokens(ctx) },
		KindHGSSync:       g.syncJob,
		KindGarantiRevoke: g.revokeJob,
		KindGarantiPrune: func(ctx context.Context, _ Job) error {
			if _, err := st.PruneGarantiStates(ctx, g.Now().Add(-24*time.Hour)); err != nil {
				return err
			}
			_, err := st.PruneHGSSyncRuns(ctx, g.Now().Add(-hgsRunRetention))
			return err
		},
	}
	schedules := []Schedule{
		{Kind: KindGarantiStatus, Every: time.Hour},
		{Kind: KindGarantiTokens, Every: 10 * time.Minute},
		{Kind: KindHGSSync, Every: 6 * time.Hour, Payload: HGSSyncPayload{}},
		{Kind: KindGarantiPrune, Every: 24 * time.Hour},
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

// EnqueueStatusCheck queues a check of the consents' statuses at at: when
// a new consent's approval state expires, so a consent the customer never
// approved reads as abandoned then rather than at the next hourly check.
func EnqueueStatusCheck(ctx context.Context, q sqlx.ExtContext, at time.Time) (int64, error) {
	return Enqueue(ctx, q, KindGarantiStatus, struct{}{}, RunAt(at), MaxAttempts(3))
}

// EnqueueHGSSync queues a sync of one consent (all usable consents when 0).
func EnqueueHGSSync(ctx context.Context, q sqlx.ExtContext, consentID int64, manual bool) (int64, error) {
	return Enqueue(ctx, q, KindHGSSync, HGSSyncPayload{ConsentID: consentID, Manual: manual}, MaxAttempts(5))
}

// ErrorCode names a failed Garanti call for the catalogue: the bank's E-code
// or OAuth error, else the product's own word for the kind of failure.
func ErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrGarantiReauth):
		return "reauth"
	case errors.Is(err, ErrGarantiNoTokens):
		return "notokens"
	case errors.Is(err, ErrGarantiQuota):
		return "quota"
	case errors.Is(err, ErrGarantiNotActive):
		return "notactive"
	}
	var ge *garanti.Error
	if !errors.As(err, &ge) {
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
		// Throttling, not the consent's daily quota: the bank counted
		// nothing and asked to wait (store.HGSOutcomeQuota says when the
		// day's calls are spent).
		return "throttled"
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
	return used, c.NextCall(used, now), nil
}

// AccessToken returns a usable access token of the consent, renewing it
// under the token row's lock when it is close to expiry or is stale (just
// refused by the bank). Only the bank refusing the refresh token itself
// (invalid_grant) marks the consent as needing re-approval
// (ErrGarantiReauth); the bank refusing the application's credentials
// (invalid_client, 401) is recorded on the consent as ErrGarantiCredentials
// for an admin to fix at setup; a consent without tokens is
// ErrGarantiNoTokens; anything else is returned as it is. A refresh that
// succeeds clears the flag (store.RenewGarantiToken).
func (g *Garanti) AccessToken(ctx context.Context, cl *garanti.Client, c store.GarantiConsent, stale string, margin time.Duration) (string, error) {
	tok, err := g.Store.RenewGarantiToken(ctx, c.ID, stale, margin, func(ctx context.Context, refresh string) (store.GarantiToken, error) {
		t, err := cl.Refresh(ctx, refresh)
		if err != nil {
			return store.GarantiToken{}, err
		}
		return store.GarantiToken{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry}, nil
	})
	switch {
	case err == nil:
		return tok.Access, nil
	case errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("%w: %w", ErrGarantiNoTokens, err)
	case garanti.IsCode(err, "invalid_grant"):
		if merr := g.Store.MarkGarantiReauth(ctx, c.ID, "invalid_grant"); merr != nil {
			return "", merr
		}
		return "", fmt.Errorf("%w: %w", ErrGarantiReauth, err)
	case garanti.IsCode(err, "invalid_client") || garanti.IsUnauthorized(err):
		if serr := g.Store.SetGarantiConsentError(ctx, c.ID, ErrorCode(err), err.Error()); serr != nil {
			return "", serr
		}
		return "", fmt.Errorf("%w: %w", ErrGarantiCredentials, err)
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
	if (status == store.GarantiActive || status == store.GarantiAuthorised) && c.PastValidation(g.Now()) {
		status = store.GarantiExpired
	}
	if c.Status == store.GarantiAbandoned && (status == store.GarantiAwaiting || status == store.GarantiAuthorised) {
		status = c.Status // its approval can no longer come back to the product
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
	// A consent whose approval can no longer come back is not asked about.
	if _, err := g.Store.AbandonGarantiConsents(ctx); err != nil {
		return err
	}
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

// MarkExpiredIfPast records as expired a consent whose validation date
// (an Istanbul calendar day) is over, and reports whether it did: no data
// call is made under it, and it shows as expired rather than as errors.
func (g *Garanti) MarkExpiredIfPast(ctx context.Context, c store.GarantiConsent) (bool, error) {
	if c.Final() || !c.PastValidation(g.Now()) {
		return false, nil
	}
	if err := g.Store.SetGarantiConsentStatus(ctx, c.ID, store.GarantiExpired, c.RawStatus, nil); err != nil {
		return false, err
	}
	return true, nil
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
		if _, err := g.AccessToken(ctx, cl, c, "", tokenMargin); err != nil && garanti.IsRetryable(err) {
			failed = err // the flagged and the misconfigured are shown on their consent
		}
	}
	return failed
}

func (g *Garanti) syncJob(ctx context.Context, j Job) error {
	var p HGSSyncPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("hgs sync: payload: %w", err))
	}
	res, err := g.SyncAll(ctx, p.ConsentID, p.Manual)
	run := res.run(j.ID, p.Manual)
	if err != nil {
		run.Outcome, run.ErrorCode = store.HGSOutcomeFailed, ErrorCode(err)
		if res.Calls > 0 {
			run.Outcome = store.HGSOutcomePartial
		}
	}
	if rerr := g.Store.RecordHGSSyncRun(ctx, run); rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil {
		return err
	}
	if res.Retryable && !p.Manual {
		return fmt.Errorf("hgs sync: some tags failed for a passing reason (%s)", res.ErrorCode)
	}
	return nil
}
