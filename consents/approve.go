package consents

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"kasa/providers/garanti"
)

// statusCheckAttempts is how many times the status check queued at a new
// consent's approval deadline is tried.
const statusCheckAttempts = 3

// Create stores a consent the bank has just created, with its one-time
// OAuth state, its audit entry and a status check for when the state
// expires, in one transaction: a consent the customer never approved then
// reads as abandoned at once rather than at the next hourly check.
func (s *Service) Create(ctx context.Context, n NewConsent) (int64, error) {
	var id int64
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if id, err = s.insert(ctx, tx, n); err != nil {
			return err
		}
		_, err = s.jobs.InsertTx(ctx, tx.Tx, StatusArgs{}, &river.InsertOpts{ScheduledAt: n.StateExpires.Add(time.Second),
			MaxAttempts: statusCheckAttempts})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("consents: create: %w", err)
	}
	return id, nil
}

// Fail records on the consent why a step of its approval failed, for the
// consent page to show.
func (s *Service) Fail(ctx context.Context, c Consent, code, detail string) error {
	return s.setError(ctx, c.ID, code, detail)
}

// Declined records the bank's return with an error instead of a code: the
// consent's status is asked of the bank, which knows best what became of
// it; a declined one (access_denied) reads as rejected even if the bank
// cannot be asked now. The error itself is recorded on the consent. It
// fails only when no client can be made; what it cannot record is logged.
func (s *Service) Declined(ctx context.Context, c Consent, code, detail string) error {
	cl, err := s.Client(ctx)
	if err != nil {
		return err
	}
	if err := s.RefreshStatus(ctx, cl, c); err != nil && code == "access_denied" {
		if err := s.setStatus(ctx, c.ID, Rejected, c.RawStatus, nil); err != nil {
			s.log.Error("mark consent rejected", "consent", c.ID, "err", err)
		}
	}
	if err := s.Fail(ctx, c, code, detail); err != nil {
		s.log.Error("record consent error", "consent", c.ID, "err", err)
	}
	return nil
}

// Approve completes the customer's approval: the code is exchanged (with
// the PKCE verifier), the tokens stored encrypted, and the consent
// activated. bankErr is the bank's refusal (or its absence) at the exchange
// or the activation, for the consent page; err is a failure of the product
// itself.
func (s *Service) Approve(ctx context.Context, c Consent, code, verifier string) (bankErr, err error) {
	cl, err := s.Client(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := cl.ExchangeCode(ctx, code, verifier)
	if err != nil {
		return err, nil
	}
	if err := s.SaveTokens(ctx, c.ID, Token{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry}); err != nil {
		return nil, fmt.Errorf("consents: approve %d: %w", c.ID, err)
	}
	if err := s.setStatus(ctx, c.ID, Authorised, "K", nil); err != nil {
		return nil, fmt.Errorf("consents: approve %d: %w", c.ID, err)
	}
	if err := s.activate(ctx, cl, c, tok.AccessToken); err != nil {
		return err, nil
	}
	return nil, nil
}

// Activate retries the product list call after it failed in the callback,
// with the tokens already obtained; a failure is recorded on the consent.
func (s *Service) Activate(ctx context.Context, c Consent) error {
	cl, err := s.Client(ctx)
	var token string
	if err == nil {
		token, err = s.AccessToken(ctx, cl, c, "", 0)
	}
	if err == nil {
		err = s.activate(ctx, cl, c, token)
	}
	if err != nil {
		if serr := s.Fail(ctx, c, ErrorCode(err), err.Error()); serr != nil {
			s.log.Error("record consent error", "consent", c.ID, "err", serr)
		}
		return err
	}
	return nil
}

// activate calls the product list, which makes the consent active at the
// bank, stores what was granted and starts the first sync of its tags.
func (s *Service) activate(ctx context.Context, cl *garanti.Client, c Consent, access string) error {
	granted, err := cl.ConsentProducts(ctx, c.ConsentID, access)
	if err != nil {
		return err
	}
	var products []Product
	for _, p := range granted.Products {
		products = append(products, Product{ProductID: p.ProductID, AuthorityID: p.AuthorityID, Flag: p.Flag})
	}
	if err := s.SaveActivation(ctx, c.ID, "A", products); err != nil {
		return err
	}
	if s.activated != nil {
		if err := s.activated(ctx, c.ID); err != nil {
			return fmt.Errorf("consents: after activating %d: %w", c.ID, err)
		}
	}
	return nil
}
