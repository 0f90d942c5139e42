package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/connect"
	"kasa/providers/vakifbank"
	"kasa/store"
)

// Job kinds of the VakıfBank movement sync.
const (
	// KindMovementSync fetches one range of one account and stores it.
	KindMovementSync = "movements.sync"
	// KindMovementSchedule queues the incremental sync of every account.
	KindMovementSchedule = "movements.schedule"
)

// MovementSyncEvery is how often every account is brought up to date.
const MovementSyncEvery = time.Hour

// MovementOverlap is how far before the last synced day an incremental sync
// starts again: movements the bank books late, with an earlier date, are
// caught, and the ones already stored are skipped.
const MovementOverlap = 3 * 24 * time.Hour

// InitialSyncDays is the history a new account is synced with at once;
// pages fetch older periods when someone asks for them.
const InitialSyncDays = 30

// movementSyncAttempts bounds the retries of a bank that keeps failing.
const movementSyncAttempts = 5

type movementSyncPayload struct {
	SyncID int64 `json:"sync_id"`
}

// MovementJobs returns the handlers and schedules of the VakıfBank account movement sync.
func MovementJobs(st *store.Store, conn *connect.Connector) (map[string]HandlerFunc, []Schedule) {
	m := &movementSyncer{st: st, conn: conn, now: time.Now}
	handlers := map[string]HandlerFunc{
		KindMovementSync:     m.sync,
		KindMovementSchedule: m.schedule,
	}
	return handlers, []Schedule{{Kind: KindMovementSchedule, Every: MovementSyncEvery}}
}

// RequestMovementSync records a sync of [from, to] for an account and
// queues the job that performs it, in one transaction. userID is 0 for the
// product's own syncs.
func RequestMovementSync(ctx context.Context, st *store.Store, accountID int64, from, to time.Time, reason string, userID int64) (store.MovementSync, error) {
	return st.StartMovementSync(ctx, store.NewMovementSync{AccountID: accountID, From: from, To: to, Reason: reason, RequestedBy: userID},
		func(tx *sqlx.Tx, syncID int64) (int64, error) {
			return Enqueue(ctx, tx, KindMovementSync, movementSyncPayload{SyncID: syncID},
				UniqueKey(fmt.Sprintf("%s:%d", KindMovementSync, syncID)), MaxAttempts(movementSyncAttempts))
		})
}

// JoinOrRequestMovementSync is RequestMovementSync for a person asking for a
// period: an unfinished run of the account that covers [from, to-slack]
// is returned (joined true) instead of starting another, so visitors asking
// for the same period moments apart, each with their own "now", share one
// fetch.
func JoinOrRequestMovementSync(ctx context.Context, st *store.Store, accountID int64, from, to time.Time, slack time.Duration, reason string, userID int64) (run store.MovementSync, joined bool, err error) {
	return st.JoinOrStartMovementSync(ctx, store.NewMovementSync{AccountID: accountID, From: from, To: to, Reason: reason, RequestedBy: userID}, slack,
		func(tx *sqlx.Tx, syncID int64) (int64, error) {
			return Enqueue(ctx, tx, KindMovementSync, movementSyncPayload{SyncID: syncID},
				UniqueKey(fmt.Sprintf("%s:%d", KindMovementSync, syncID)), MaxAttempts(movementSyncAttempts))
		})
}

// RequestMovementRefetch fetches [from, to] of an account again, stored or
// not, through the same job as every sync (the client windows the range
// into one-year requests aligned to Istanbul days): what is missing is
// added, what matches is left alone and what the bank reports differently
// is recorded with its old and new version. An unfinished run of the
// account covering [from, to-slack] is joined instead (a double click, or
// a fetch under way), since every sync compares what it fetches in the
// same way.
func RequestMovementRefetch(ctx context.Context, st *store.Store, accountID int64, from, to time.Time, slack time.Duration, userID int64) (store.MovementSync, error) {
	run, _, err := JoinOrRequestMovementSync(ctx, st, accountID, from, to, slack, store.ReasonRefetch, userID)
	return run, err
}

// movementSyncer runs the sync jobs.
type movementSyncer struct {
	st   *store.Store
	conn *connect.Connector
	now  func() time.Time
}

// sync fetches a run's range (the client windows it into one-year requests
// and de-duplicates), stores it in one batch (adding what is missing and
// recording what the bank now reports differently) and widens the
// account's coverage. The bank refusing the request (an ACBH code: the account is not
// the consent holder's, a malformed number) fails the run at once with the
// code on the account; an unavailable bank is retried with backoff.
func (m *movementSyncer) sync(ctx context.Context, j Job) error {
	var p movementSyncPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.SyncID == 0 {
		return Permanent(fmt.Errorf("movements sync: bad payload %s", j.Payload))
	}
	run, err := m.st.MovementSync(ctx, p.SyncID)
	if errors.Is(err, store.ErrNotFound) {
		return Permanent(err)
	}
	if err != nil {
		return err
	}
	if run.Finished() {
		return nil // a repeated delivery of a finished run
	}
	acct, err := m.st.BankAccount(ctx, run.AccountID)
	if err != nil {
		return m.fail(ctx, j, run.ID, err)
	}
	if err := m.st.MarkMovementSyncRunning(ctx, run.ID); err != nil {
		return err
	}
	client, err := m.conn.VakifBank(ctx)
	if err != nil {
		return m.fail(ctx, j, run.ID, err)
	}
	txns, err := client.Range(ctx, acct.Number, run.From, run.To)
	if err != nil {
		return m.fail(ctx, j, run.ID, err)
	}
	saved, err := m.st.SaveMovements(ctx, acct.ID, run.ID, toNewMovements(txns))
	if err != nil {
		return m.fail(ctx, j, run.ID, err)
	}
	return m.st.FinishMovementSync(ctx, run.ID, len(txns), saved.Inserted)
}

// fail records err on the run and tells the runner whether to retry: a
// refusal by the bank, missing settings or a vanished record will not mend
// themselves; anything else (the bank down, a dropped connection, our own
// database) is retried until the job runs out of attempts.
func (m *movementSyncer) fail(ctx context.Context, j Job, syncID int64, err error) error {
	var ve *vakifbank.Error
	permanent := errors.Is(err, connect.ErrNotConfigured) || errors.Is(err, store.ErrNotFound) ||
		errors.As(err, &ve) && !ve.Retryable()
	final := permanent || j.Attempts >= j.MaxAttempts
	code := vakifbank.ErrorCode(err)
	if errors.Is(err, connect.ErrNotConfigured) {
		code = CodeNotConfigured
	}
	if ferr := m.st.FailMovementSync(context.WithoutCancel(ctx), syncID, code, err.Error(), final); ferr != nil {
		return errors.Join(err, ferr)
	}
	if permanent {
		return Permanent(err)
	}
	return err
}

// CodeNotConfigured is the error code of a sync that failed because the
// VakıfBank settings are incomplete.
const CodeNotConfigured = "not_configured"

// schedule queues an incremental sync of every account that has none open.
func (m *movementSyncer) schedule(ctx context.Context, j Job) error {
	accounts, err := m.st.BankAccounts(ctx)
	if err != nil {
		return err
	}
	now := m.now()
	var errs []error
	for _, a := range accounts {
		if a.Pending {
			continue // a sync is already under way; the next period catches up
		}
		from := a.IncrementalFrom(now, MovementOverlap, InitialSyncDays)
		if _, err := RequestMovementSync(ctx, m.st, a.ID, from, now, "schedule", 0); err != nil {
			errs = append(errs, fmt.Errorf("account %d: %w", a.ID, err))
		}
	}
	return errors.Join(errs...)
}

// toNewMovements converts the bank's movements for the store.
func toNewMovements(txns []vakifbank.Transaction) []store.NewMovement {
	out := make([]store.NewMovement, len(txns))
	for i, t := range txns {
		out[i] = store.NewMovement{
			TransactionID: t.ID, BookedAt: t.Date, Direction: t.Type.String(), Amount: t.Amount, Balance: t.Balance,
			Currency: t.Currency, Code: t.Code, Name: t.Name, Description: t.Description, Raw: t.Raw,
		}
	}
	return out
}
