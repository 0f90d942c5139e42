package debts

import (
	"context"
	"fmt"
	"time"

	"kasa/store"
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

// DebtNotificationByID returns a send, or store.ErrNotFound.
func (s *Service) DebtNotificationByID(ctx context.Context, id int64) (DebtNotification, error) {
	var n DebtNotification
	err := s.st.DB().GetContext(ctx, &n, `SELECT `+notificationColumns+` FROM debt_notifications n
		LEFT JOIN users u ON u.id = n.requested_by WHERE n.id = $1`, id)
	return n, store.NotFound(err)
}

// DebtNotifications returns the latest sends, newest first.
func (s *Service) DebtNotifications(ctx context.Context, limit int) ([]DebtNotification, error) {
	var ns []DebtNotification
	err := s.st.DB().SelectContext(ctx, &ns, `SELECT `+notificationColumns+` FROM debt_notifications n
		LEFT JOIN users u ON u.id = n.requested_by ORDER BY n.requested_at DESC, n.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("debts: debt notifications: %w", err)
	}
	return ns, nil
}

// DebtDailyNotify reports whether the overdue notifications go out daily
// by themselves.
func (s *Service) DebtDailyNotify(ctx context.Context) (bool, error) {
	var on bool
	err := s.st.DB().GetContext(ctx, &on, `SELECT daily_notify FROM debt_options`)
	if err != nil {
		return false, fmt.Errorf("debts: debt options: %w", err)
	}
	return on, nil
}
