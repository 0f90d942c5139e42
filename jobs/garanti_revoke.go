package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"kasa/providers/garanti"
	"kasa/store"
)

// KindGarantiRevoke delivers a withdrawal (delete) of a consent, or of part
// of it, to the bank: the outbox of the consent page's revoke.
const KindGarantiRevoke = "garanti.revoke"

// RevokePayload is the payload of KindGarantiRevoke.
type RevokePayload struct {
	RevocationID int64 `json:"revocation_id"`
}

// EnqueueGarantiRevoke queues the delivery of a stored withdrawal; call it
// in the transaction that stored it.
func EnqueueGarantiRevoke(ctx context.Context, q sqlx.ExtContext, revocationID int64) (int64, error) {
	return Enqueue(ctx, q, KindGarantiRevoke, RevokePayload{RevocationID: revocationID}, MaxAttempts(8))
}

// revokeJob delivers one withdrawal. The bank's delete is idempotent for a
// whole consent or an authority; a vehicle already withdrawn answers E052,
// which after a lost reply means the first attempt worked.
func (g *Garanti) revokeJob(ctx context.Context, j Job) error {
	var p RevokePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("garanti revoke: payload: %w", err))
	}
	r, err := g.Store.GarantiRevocation(ctx, p.RevocationID)
	if errors.Is(err, store.ErrNotFound) {
		return Permanent(err)
	}
	if err != nil || r.State == store.RevocationDone {
		return err
	}
	c, err := g.Store.GarantiConsent(ctx, r.ConsentID)
	if err != nil {
		return err
	}
	cl, _, err := g.Conn.Garanti(ctx)
	if err != nil {
		return err
	}
	raw, err := g.deleteAtBank(ctx, cl, c, r)
	if err == nil {
		status := string(garanti.MapStatus(raw))
		if status == string(garanti.StatusUnknown) {
			status = c.Status
		}
		if raw == "" {
			raw = c.RawStatus
		}
		return g.Store.CompleteGarantiRevocation(ctx, r.ID, status, raw)
	}
	final := j.Attempts >= j.MaxAttempts || !retryableRevoke(err)
	if nerr := g.Store.NoteGarantiRevocationError(ctx, r.ID, ErrorCode(err), err.Error(), final); nerr != nil {
		return nerr
	}
	if final {
		return Permanent(fmt.Errorf("garanti revoke %d: %w", r.ID, err))
	}
	var ge *garanti.Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		return RetryAfter(err, ge.RetryAfter)
	}
	return err
}

// retryableRevoke reports whether a failed delete may work later: the
// bank's passing failures, and failures that are not the bank's answer
// (network, database). A refused refresh token or credentials are not.
func retryableRevoke(err error) bool {
	if errors.Is(err, ErrGarantiReauth) || errors.Is(err, ErrGarantiCredentials) || errors.Is(err, ErrGarantiNoTokens) {
		return false
	}
	var ge *garanti.Error
	return !errors.As(err, &ge) || garanti.IsRetryable(err)
}

// deleteAtBank makes the delete call with the consent's access token,
// renewing it once if the bank refuses it, and returns the bank's status.
func (g *Garanti) deleteAtBank(ctx context.Context, cl *garanti.Client, c store.GarantiConsent, r store.GarantiRevocationRequest) (string, error) {
	var items []garanti.DeleteItem
	for _, it := range r.Items() {
		items = append(items, garanti.DeleteItem{AuthorityID: it.AuthorityID, ProductID: it.ProductID})
	}
	token, err := g.AccessToken(ctx, cl, c, "", 0)
	if err != nil {
		return "", err
	}
	raw, err := cl.DeleteConsent(ctx, c.ConsentID, token, items)
	if garanti.IsUnauthorized(err) {
		if token, err = g.AccessToken(ctx, cl, c, token, 0); err != nil {
			return "", err
		}
		raw, err = cl.DeleteConsent(ctx, c.ConsentID, token, items)
	}
	if r.Mode == "product" && garanti.IsCode(err, "E052") {
		return c.RawStatus, nil // the vehicle is no longer in the consent: withdrawn already
	}
	return raw, err
}
