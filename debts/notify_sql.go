package debts

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"kasa/store"
	"kasa/tz"
)

// errNotifiedToday means a send was already requested on that Istanbul
// day, forced or not; only a forced send may follow it.
var errNotifiedToday = errors.New("debts: overdue notifications already requested today")

// createNotification records a send through tx, with the request id every
// attempt of it will carry. A send that is not forced gets errNotifiedToday
// when any send (a forced one too) was requested that Istanbul day; the
// table lock makes concurrent requests, on any instance, see each other.
func createNotification(ctx context.Context, tx sqlx.ExtContext, n NewDebtNotification) (int64, error) {
	if _, err := tx.ExecContext(ctx, `LOCK TABLE debt_notifications IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("debts: create notification: %w", err)
	}
	day := n.Day.In(tz.Istanbul).Format("2006-01-02")
	if !n.Forced {
		var sent bool
		if err := sqlx.GetContext(ctx, tx, &sent, `SELECT EXISTS (SELECT 1 FROM debt_notifications WHERE day = $1)`, day); err != nil {
			return 0, fmt.Errorf("debts: create notification: %w", err)
		}
		if sent {
			return 0, errNotifiedToday
		}
	}
	var id int64
	err := sqlx.GetContext(ctx, tx, &id, `INSERT INTO debt_notifications (day, requested_by, forced, scheduled, debts, agents, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		day, nullUser(n.UserID), n.Forced, n.Scheduled, n.Debts, n.Agents, uuid.NewString())
	if err != nil {
		return 0, fmt.Errorf("debts: create notification: %w", err)
	}
	return id, nil
}

// setNotificationJob notes the job that sends notification id.
func setNotificationJob(ctx context.Context, tx sqlx.ExtContext, id, jobID int64) error {
	return execOne(ctx, tx, "set notification job", `UPDATE debt_notifications SET job_id = $2 WHERE id = $1`, id, jobID)
}

// claimNotification marks a pending send as sending, just before the call,
// and returns the state it found: only when that is NotifyPending may the
// caller call Finrota. Finding NotifySending means an earlier attempt may
// have reached Finrota (its instance died, or its outcome was lost).
func (s *Service) claimNotification(ctx context.Context, id int64) (string, error) {
	var state string
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &state, `SELECT state FROM debt_notifications WHERE id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		if state != NotifyPending {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE debt_notifications SET state = 'sending' WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("debts: claim notification: %w", err)
	}
	return state, nil
}

// releaseNotification makes a sending send pending again after Finrota
// refused it without acting (429, 503), so a retry may call again.
func (s *Service) releaseNotification(ctx context.Context, id int64, errCode, errMessage string) error {
	_, err := s.st.DB().ExecContext(ctx, `UPDATE debt_notifications SET state = 'pending', error_code = $2, error_message = $3
		WHERE id = $1 AND state = 'sending'`, id, errCode, store.Truncate(errMessage, 1000))
	if err != nil {
		return fmt.Errorf("debts: release notification: %w", err)
	}
	return nil
}

// finishNotification records the outcome of a send, with its audit entry:
// state is NotifySent (errCode and errMessage empty), NotifyFailed (Finrota
// refused it) or NotifyUnknown (no answer: whether it went out is unknown).
func (s *Service) finishNotification(ctx context.Context, id int64, state, errCode, errMessage string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := execOne(ctx, tx, "finish notification", `UPDATE debt_notifications SET state = $2, error_code = $3, error_message = $4,
			finished_at = now() WHERE id = $1`, id, state, errCode, store.Truncate(errMessage, 1000)); err != nil {
			return err
		}
		return store.Audit(ctx, tx, 0, "debt.notify."+state, fmt.Sprintf("debt-notification:%d", id), map[string]any{"code": errCode})
	})
}

// setDailyNotify switches the daily overdue notification on or off through tx.
func setDailyNotify(ctx context.Context, tx sqlx.ExtContext, userID int64, on bool) error {
	return execOne(ctx, tx, "set daily notify", `UPDATE debt_options SET daily_notify = $1, updated_by = $2, updated_at = now()`,
		on, nullUser(userID))
}

// execOne runs a statement that must change one row at least; store.ErrNotFound when it changed none.
func execOne(ctx context.Context, q sqlx.ExecerContext, op, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("debts: %s: %w", op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("debts: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

// nullUser is NULL for the system (0), else the user's id.
func nullUser(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
