package consents

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"kasa/providers/garanti"
	"kasa/store"
)

// revokeAttempts is how many times a withdrawal is tried before it is
// recorded as failed.
const revokeAttempts = 8

// Revoke stores a withdrawal of the consent, or of part of it, together
// with its audit entry and the job that delivers it to the bank, in one
// transaction (the outbox): if the bank is down the withdrawal stays
// pending and is retried, never lost. It returns the withdrawal's id and
// its job's, for the caller to wait on.
func (s *Service) Revoke(ctx context.Context, r RevocationRequest) (revID, jobID int64, err error) {
	err = s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if revID, err = CreateRevocation(ctx, tx, r); err != nil {
			return err
		}
		res, err := s.jobs.InsertTx(ctx, tx.Tx, RevokeArgs{RevocationID: revID}, nil)
		if err != nil {
			return err
		}
		jobID = res.Job.ID
		return setRevocationJob(ctx, tx, revID, jobID)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("consents: revoke consent %d: %w", r.ConsentID, err)
	}
	return revID, jobID, nil
}

// deliverRevocation delivers one withdrawal. The bank's delete is
// idempotent for a whole consent or an authority; a vehicle already
// withdrawn answers E052, which after a lost reply means the first attempt
// worked. lastAttempt says whether a failure now is the final one.
func (s *Service) deliverRevocation(ctx context.Context, id int64, lastAttempt bool) error {
	r, err := s.Revocation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil || r.State == RevocationDone {
		return err
	}
	c, err := s.Consent(ctx, r.ConsentID)
	if err != nil {
		return err
	}
	cl, _, err := s.conn.Garanti(ctx)
	if err != nil {
		return err
	}
	raw, err := s.deleteAtBank(ctx, cl, c, r)
	if err == nil {
		status := string(garanti.MapStatus(raw))
		if status == string(garanti.StatusUnknown) {
			status = c.Status
		}
		if raw == "" {
			raw = c.RawStatus
		}
		return s.completeRevocation(ctx, r, status, raw)
	}
	final := lastAttempt || !retryableRevoke(err)
	if nerr := s.noteRevocationError(ctx, r.ID, ErrorCode(err), err.Error(), final); nerr != nil {
		return nerr
	}
	if final {
		return river.JobCancel(fmt.Errorf("garanti revoke %d: %w", r.ID, err))
	}
	var ge *garanti.Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		return river.JobSnooze(ge.RetryAfter)
	}
	return err
}

// retryableRevoke reports whether a failed delete may work later: the
// bank's passing failures, and failures that are not the bank's answer
// (network, database). A refused refresh token or credentials are not.
func retryableRevoke(err error) bool {
	if errors.Is(err, ErrReauth) || errors.Is(err, ErrCredentials) || errors.Is(err, ErrNoTokens) {
		return false
	}
	var ge *garanti.Error
	return !errors.As(err, &ge) || garanti.IsRetryable(err)
}

// deleteAtBank makes the delete call with the consent's access token,
// renewing it once if the bank refuses it, and returns the bank's status.
func (s *Service) deleteAtBank(ctx context.Context, cl *garanti.Client, c Consent, r RevocationRequest) (string, error) {
	var items []garanti.DeleteItem
	for _, it := range r.Items() {
		items = append(items, garanti.DeleteItem{AuthorityID: it.AuthorityID, ProductID: it.ProductID})
	}
	token, err := s.AccessToken(ctx, cl, c, "", 0)
	if err != nil {
		return "", err
	}
	raw, err := cl.DeleteConsent(ctx, c.ConsentID, token, items)
	if garanti.IsUnauthorized(err) {
		if token, err = s.AccessToken(ctx, cl, c, token, 0); err != nil {
			return "", err
		}
		raw, err = cl.DeleteConsent(ctx, c.ConsentID, token, items)
	}
	if r.Mode == "product" && garanti.IsCode(err, "E052") {
		return c.RawStatus, nil // the vehicle is no longer in the consent: withdrawn already
	}
	return raw, err
}
