// Package consents is the Garanti BBVA consent area: the consents the
// customer approves at the bank (created here, approved through the OAuth
// redirect and its one-time state, activated, refreshed and withdrawn), the
// tokens that go with them, and the River workers that keep their statuses
// and tokens current and deliver withdrawals. The hgs area reads HGS data
// under these consents through this package's tokens and daily quota.
package consents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"kasa/connect"
	"kasa/providers/garanti"
	"kasa/queue"
	"kasa/store"
)

// tokenMargin is how long before its expiry an access token is renewed by
// the schedule; calls renew with CallMargin to spare.
const tokenMargin = 15 * time.Minute

// CallMargin is how long an access token must stay valid for a data call to
// be made with it; a token closer to its expiry is renewed first.
const CallMargin = 2 * time.Minute

// ErrReauth means the bank refused the consent's refresh token: the
// customer has to approve a new consent.
var ErrReauth = errors.New("garanti: consent needs re-authorisation")

// ErrCredentials means the bank refused the application's own credentials
// while renewing a token: an admin fixes them on the setup page; the consent
// itself is fine.
var ErrCredentials = errors.New("garanti: application credentials refused")

// ErrNoTokens means the consent has no tokens (it was never approved):
// there is nothing to renew and nothing to re-approve.
var ErrNoTokens = errors.New("garanti: consent has no tokens")

// Deps are what the consent area needs from the process.
type Deps struct {
	Store *store.Store
	// Jobs inserts the area's jobs in its transactions.
	Jobs *queue.Client
	Conn *connect.Connector
	// Now is the product clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Activated, if set, is called after a consent became active, to start
	// the first sync of its tags (the hgs area, which the consents area
	// does not import).
	Activated func(ctx context.Context, consentID int64) error
}

// Service holds the consent area's use cases and workers.
type Service struct {
	store *store.Store
	jobs  *queue.Client
	conn  *connect.Connector
	now   func() time.Time
	log   *slog.Logger

	activated func(ctx context.Context, consentID int64) error
}

// New returns the consent area over d.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Service{store: d.Store, jobs: d.Jobs, conn: d.Conn, now: d.Now, log: d.Logger, activated: d.Activated}
}

// Client returns the Garanti client with the application's current
// settings; connect.ErrNotConfigured before the application is registered.
func (s *Service) Client(ctx context.Context) (*garanti.Client, error) {
	cl, _, err := s.conn.Garanti(ctx)
	if err != nil {
		return nil, fmt.Errorf("consents: client: %w", err)
	}
	return cl, nil
}

// ErrorCode names a failed Garanti call for the catalogue: the bank's E-code
// or OAuth error, else the product's own word for the kind of failure.
func ErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrReauth):
		return "reauth"
	case errors.Is(err, ErrNoTokens):
		return "notokens"
	case errors.Is(err, ErrQuota):
		return "quota"
	case errors.Is(err, ErrNotActive):
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
		// nothing and asked to wait (hgs.OutcomeQuota says when the
		// day's calls are spent).
		return "throttled"
	case ge.Status >= 500:
		return "unavailable"
	}
	return "http_" + strconv.Itoa(ge.Status)
}

// Consent returns the consent with the product's id.
func (s *Service) Consent(ctx context.Context, id int64) (Consent, error) {
	return getConsent(ctx, s.store.DB(), id)
}

// NextCall says how many data calls the consent made today and when the
// next one is allowed: now while under frequencyPerDay, else the next
// Istanbul midnight.
func (s *Service) NextCall(ctx context.Context, c Consent) (used int, next time.Time, err error) {
	now := s.now()
	used, err = s.Usage(ctx, c.ID, now)
	if err != nil {
		return 0, time.Time{}, err
	}
	return used, c.NextCall(used, now), nil
}

// AccessToken returns a usable access token of the consent, renewing it
// under the token row's lock when it is close to expiry or is stale (just
// refused by the bank). Only the bank refusing the refresh token itself
// (invalid_grant) marks the consent as needing re-approval (ErrReauth); the
// bank refusing the application's credentials (invalid_client, 401) is
// recorded on the consent as ErrCredentials for an admin to fix at setup; a
// consent without tokens is ErrNoTokens; anything else is returned as it
// is. A refresh that succeeds clears the flag (RenewToken).
func (s *Service) AccessToken(ctx context.Context, cl *garanti.Client, c Consent, stale string, margin time.Duration) (string, error) {
	tok, err := s.RenewToken(ctx, c.ID, stale, margin, func(ctx context.Context, refresh string) (Token, error) {
		t, err := cl.Refresh(ctx, refresh)
		if err != nil {
			return Token{}, err
		}
		return Token{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry}, nil
	})
	switch {
	case err == nil:
		return tok.Access, nil
	case errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("%w: %w", ErrNoTokens, err)
	case garanti.IsCode(err, "invalid_grant"):
		if merr := s.MarkReauth(ctx, c.ID, "invalid_grant"); merr != nil {
			return "", merr
		}
		return "", fmt.Errorf("%w: %w", ErrReauth, err)
	case garanti.IsCode(err, "invalid_client") || garanti.IsUnauthorized(err):
		if serr := s.setError(ctx, c.ID, ErrorCode(err), err.Error()); serr != nil {
			return "", serr
		}
		return "", fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	return "", err
}

// RefreshStatus reads the consent's status from the bank (a call that does
// not count against frequencyPerDay) and records it. A consent past its
// validation date reads as expired, which is a status, not an error.
func (s *Service) RefreshStatus(ctx context.Context, cl *garanti.Client, c Consent) error {
	list, err := cl.ConsentStatus(ctx, c.ConsentID)
	if err != nil {
		if serr := s.setError(ctx, c.ID, ErrorCode(err), err.Error()); serr != nil {
			return serr
		}
		return err
	}
	raw := c.RawStatus
	var auths []AuthorityStatus
	for i, a := range list {
		mapped := a.Mapped()
		auths = append(auths, AuthorityStatus{AuthorityID: a.AuthorityID, Raw: a.Status, Status: string(mapped)})
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
	if (status == Active || status == Authorised) && c.PastValidation(s.now()) {
		status = Expired
	}
	if c.Status == Abandoned && (status == Awaiting || status == Authorised) {
		status = c.Status // its approval can no longer come back to the product
	}
	if err := s.setStatus(ctx, c.ID, status, raw, auths); err != nil {
		return err
	}
	if c.LastErrorCode != "" && status != Awaiting && status != Authorised {
		return s.setError(ctx, c.ID, "", "")
	}
	return nil
}

// Refresh asks the bank for the consent's status now (the consent page's
// "refresh" button).
func (s *Service) Refresh(ctx context.Context, c Consent) error {
	cl, err := s.Client(ctx)
	if err != nil {
		return err
	}
	return s.RefreshStatus(ctx, cl, c)
}

// refreshStatuses is the status worker's work: abandon the consents whose
// approval can no longer come back, then ask the bank about every consent
// still in play.
func (s *Service) refreshStatuses(ctx context.Context) error {
	// A consent whose approval can no longer come back is not asked about.
	if _, err := s.abandon(ctx); err != nil {
		return err
	}
	cl, _, err := s.conn.Garanti(ctx)
	if errors.Is(err, connect.ErrNotConfigured) {
		return nil
	}
	if err != nil {
		return err
	}
	cs, err := s.Consents(ctx, Awaiting, Authorised, Active)
	if err != nil {
		return err
	}
	var failed error
	for _, c := range cs {
		if err := s.RefreshStatus(ctx, cl, c); err != nil && garanti.IsRetryable(err) {
			failed = err // the others still get their turn
		}
	}
	return failed
}

// MarkExpiredIfPast records as expired a consent whose validation date
// (an Istanbul calendar day) is over, and reports whether it did: no data
// call is made under it, and it shows as expired rather than as errors.
func (s *Service) MarkExpiredIfPast(ctx context.Context, c Consent) (bool, error) {
	if c.Final() || !c.PastValidation(s.now()) {
		return false, nil
	}
	if err := s.setStatus(ctx, c.ID, Expired, c.RawStatus, nil); err != nil {
		return false, err
	}
	return true, nil
}

// renewTokens is the token worker's work: every usable consent's access
// token that expires within tokenMargin is renewed.
func (s *Service) renewTokens(ctx context.Context) error {
	ids, err := s.tokensExpiring(ctx, s.now().Add(tokenMargin))
	if err != nil || len(ids) == 0 {
		return err
	}
	cl, _, err := s.conn.Garanti(ctx)
	if err != nil {
		return err
	}
	var failed error
	for _, id := range ids {
		c, err := s.Consent(ctx, id)
		if err != nil {
			return err
		}
		if _, err := s.AccessToken(ctx, cl, c, "", tokenMargin); err != nil && garanti.IsRetryable(err) {
			failed = err // the flagged and the misconfigured are shown on their consent
		}
	}
	return failed
}
