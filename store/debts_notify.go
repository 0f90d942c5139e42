package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"kasa/tz"
)

// The states of an overdue-debt notification send.
const (
	NotifyPending = "pending"
	// NotifySending is set just before the call; a retry that finds it
	// cannot know whether Finrota acted, so it does not call again.
	NotifySending = "sending"
	NotifySent    = "sent"
	NotifyFailed  = "failed"
	// NotifyUnknown means the outcome is unknown: a person checks the portal.
	NotifyUnknown = "unknown"
)

// ErrNotifiedToday means a send was already requested on that Istanbul
// day, forced or not; only a forced send may follow it.
var ErrNotifiedToday = errors.New("store: overdue notifications already requested today")

// DebtNotification is one request to Finrota to notify every overdue debtor.
type DebtNotification struct {
	ID           int64      `db:"id" json:"id"`
	Day          time.Time  `db:"day" json:"day"`
	RequestedBy  *string    `db:"requested_by" json:"requested_by"`
	RequestedAt  time.Time  `db:"requested_at" json:"requested_at"`
	Forced       bool       `db:"forced" json:"forced"`
	Scheduled    bool       `db:"scheduled" json:"scheduled"`
	Debts        int        `db:"debts" json:"debts"`
	Agents       int        `db:"agents" json:"agents"`
	RequestID    string     `db:"request_id" json:"request_id"`
	JobID        *int64     `db:"job_id" json:"job_id"`
	State        string     `db:"state" json:"state"`
	ErrorCode    string     `db:"error_code" json:"error_code"`
	ErrorMessage string     `db:"error_message" json:"error_message"`
	FinishedAt   *time.Time `db:"finished_at" json:"finished_at"`
}

// NewDebtNotification is a send about to be enqueued.
type NewDebtNotification struct {
	Day           time.Time // the Istanbul day
	UserID        int64     // 0 for the schedule
	Forced        bool
	Scheduled     bool
	Debts, Agents int // what the overdue page counted
}

const notificationColumns = `n.id, n.day, u.email AS requested_by, n.requested_at, n.forced, n.scheduled, n.debts, n.agents,
	n.request_id, n.job_id, n.state, n.error_code, n.error_message, n.finished_at`

// CreateDebtNotification records a send through tx, with the request id
// every attempt of it will carry. The caller enqueues its job in tx and
// notes it with SetDebtNotificationJob. A send that is not forced gets
// ErrNotifiedToday when any send (a forced one too) was requested that
// Istanbul day; the table lock makes concurrent requests, on any instance,
// see each other.
func CreateDebtNotification(ctx context.Context, tx *sqlx.Tx, n NewDebtNotification) (int64, error) {
	if _, err := tx.ExecContext(ctx, `LOCK TABLE debt_notifications IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("store: create debt notification: %w", err)
	}
	if !n.Forced {
		var sent bool
		if err := tx.GetContext(ctx, &sent, `SELECT EXISTS (SELECT 1 FROM debt_notifications WHERE day = $1)`,
			dayString(n.Day.In(tz.Istanbul))); err != nil {
			return 0, fmt.Errorf("store: create debt notification: %w", err)
		}
		if sent {
			return 0, ErrNotifiedToday
		}
	}
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO debt_notifications (day, requested_by, forced, scheduled, debts, agents, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		dayString(n.Day.In(tz.Istanbul)), nullUser(n.UserID), n.Forced, n.Scheduled, n.Debts, n.Agents, uuid.NewString())
	if err != nil {
		return 0, fmt.Errorf("store: create debt notification: %w", err)
	}
	return id, nil
}

// SetDebtNotificationJob notes the job that sends notification id.
func SetDebtNotificationJob(ctx context.Context, tx *sqlx.Tx, id, jobID int64) error {
	return execOne(ctx, tx, `UPDATE debt_notifications SET job_id = $2 WHERE id = $1`, id, jobID)
}

// DebtNotificationByID returns a send, or ErrNotFound.
func (s *Store) DebtNotificationByID(ctx context.Context, id int64) (DebtNotification, error) {
	var n DebtNotification
	err := s.db.GetContext(ctx, &n, `SELECT `+notificationColumns+` FROM debt_notifications n
		LEFT JOIN users u ON u.id = n.requested_by WHERE n.id = $1`, id)
	return n, notFound(err)
}

// DebtNotifications returns the latest sends, newest first.
func (s *Store) DebtNotifications(ctx context.Context, limit int) ([]DebtNotification, error) {
	var ns []DebtNotification
	err := s.db.SelectContext(ctx, &ns, `SELECT `+notificationColumns+` FROM debt_notifications n
		LEFT JOIN users u ON u.id = n.requested_by ORDER BY n.requested_at DESC, n.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: debt notifications: %w", err)
	}
	return ns, nil
}

// ClaimDebtNotification marks a pending send as sending, just before the
// call, and returns the state it found: only when that is NotifyPending may
// the caller call Finrota. Finding NotifySending means an earlier attempt
// may have reached Finrota (its instance died, or its outcome was lost).
func (s *Store) ClaimDebtNotification(ctx context.Context, id int64) (string, error) {
	var state string
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &state, `SELECT state FROM debt_notifications WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err)
		}
		if state != NotifyPending {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE debt_notifications SET state = 'sending' WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: claim debt notification: %w", err)
	}
	return state, nil
}

// ReleaseDebtNotification makes a sending send pending again after Finrota
// refused it without acting (429, 503), so a retry may call again.
func (s *Store) ReleaseDebtNotification(ctx context.Context, id int64, errCode, errMessage string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE debt_notifications SET state = 'pending', error_code = $2, error_message = $3
		WHERE id = $1 AND state = 'sending'`, id, errCode, Truncate(errMessage, 1000))
	if err != nil {
		return fmt.Errorf("store: release debt notification: %w", err)
	}
	return nil
}

// FinishDebtNotification records the outcome of a send: state is
// NotifySent (errCode and errMessage empty), NotifyFailed (Finrota refused
// it) or NotifyUnknown (no answer: whether it went out is unknown).
func (s *Store) FinishDebtNotification(ctx context.Context, id int64, state, errCode, errMessage string) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := execOne(ctx, tx, `UPDATE debt_notifications SET state = $2, error_code = $3, error_message = $4, finished_at = now()
			WHERE id = $1`, id, state, errCode, Truncate(errMessage, 1000)); err != nil {
			return fmt.Errorf("store: finish debt notification: %w", err)
		}
		return Audit(ctx, tx, 0, "debt.notify."+state, fmt.Sprintf("debt-notification:%d", id), map[string]any{"code": errCode})
	})
}

// DebtDailyNotify reports whether the overdue notifications go out daily
// by themselves.
func (s *Store) DebtDailyNotify(ctx context.Context) (bool, error) {
	var on bool
	err := s.db.GetContext(ctx, &on, `SELECT daily_notify FROM debt_options`)
	if err != nil {
		return false, fmt.Errorf("store: debt options: %w", err)
	}
	return on, nil
}

// SetDebtDailyNotify switches the daily overdue notification on or off.
func (s *Store) SetDebtDailyNotify(ctx context.Context, userID int64, on bool) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := execOne(ctx, tx, `UPDATE debt_options SET daily_notify = $1, updated_by = $2, updated_at = now()`, on, nullUser(userID)); err != nil {
			return fmt.Errorf("store: set debt options: %w", err)
		}
		return Audit(ctx, tx, userID, "debt.notify.daily", "debt-options", map[string]any{"on": on})
	})
}

// DebtNotificationOn returns the latest send of the Istanbul day of day,
// forced or not, or ErrNotFound: after any send that day only a forced one
// may go out.
func (s *Store) DebtNotificationOn(ctx context.Context, day time.Time) (DebtNotification, error) {
	var n DebtNotification
	err := s.db.GetContext(ctx, &n, `SELECT `+notificationColumns+` FROM debt_notifications n
		LEFT JOIN users u ON u.id = n.requested_by WHERE n.day = $1 ORDER BY n.id DESC LIMIT 1`,
		dayString(day.In(tz.Istanbul)))
	return n, notFound(err)
}
