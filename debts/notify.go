package debts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/queue"
	"kasa/store"
	"kasa/tz"
)

// NotifyArgs is one send of the overdue notifications. Key makes the job
// unique: one per Istanbul day, across every instance; a forced send has a
// key of its own.
type NotifyArgs struct {
	NotificationID int64  `json:"notificationId"`
	Key            string `json:"key" river:"unique"`
}

// Kind implements river.JobArgs.
func (NotifyArgs) Kind() string { return "debts.notify" }

// NotifyKey is the unique key of the day's overdue notification: one per
// Istanbul day. A forced send gets a key of its own (notificationID), which
// is what "forced" means.
func NotifyKey(day time.Time, forced bool, notificationID int64) string {
	key := NotifyArgs{}.Kind() + "@" + day.In(tz.Istanbul).Format(time.DateOnly)
	if forced {
		key += fmt.Sprintf("#forced-%d", notificationID)
	}
	return key
}

// Notification is a request to notify every overdue debtor.
type Notification struct {
	// UserID is who asked; 0 for the daily job.
	UserID int64
	// Forced sends again on a day that already had a send.
	Forced bool
	// Debts and Agents are what the send reaches, for the record.
	Debts, Agents int
}

// Notify records a send of the overdue notifications for today, its audit
// entry and its job in one transaction. ErrDuplicate when a send, forced or
// not, was already requested today and n is not forced.
func (s *Service) Notify(ctx context.Context, n Notification) (notificationID, jobID int64, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		notificationID, jobID, err = s.enqueueNotification(ctx, tx, NewDebtNotification{
			Day: tz.Day(s.now()), UserID: n.UserID, Forced: n.Forced, Debts: n.Debts, Agents: n.Agents,
		})
		if err != nil {
			return err
		}
		return store.Audit(ctx, tx, n.UserID, "debt.notify.request", "debt-notifications",
			map[string]any{"notification": notificationID, "forced": n.Forced, "debts": n.Debts, "agents": n.Agents})
	})
	if err != nil && !errors.Is(err, ErrDuplicate) {
		err = fmt.Errorf("debts: notify: %w", err)
	}
	return notificationID, jobID, err
}

// enqueueNotification records a send and queues it through tx.
func (s *Service) enqueueNotification(ctx context.Context, tx *sqlx.Tx, n NewDebtNotification) (notificationID, jobID int64, err error) {
	day := n.Day.In(tz.Istanbul)
	notificationID, err = createNotification(ctx, tx, n)
	if errors.Is(err, errNotifiedToday) {
		return 0, 0, fmt.Errorf("debts: notify %s: %w", day.Format(time.DateOnly), ErrDuplicate)
	}
	if err != nil {
		return 0, 0, err
	}
	// Three attempts at most, and only after a refusal that means Finrota
	// did nothing (429, 503): every send notifies everyone again, so an
	// attempt that may have reached Finrota is never repeated (see Work).
	jobID, err = s.insert(ctx, tx, NotifyArgs{NotificationID: notificationID, Key: NotifyKey(day, n.Forced, notificationID)},
		&river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: anyState}},
		fmt.Errorf("debts: notify %s: %w", day.Format(time.DateOnly), ErrDuplicate))
	if err != nil {
		return 0, 0, err
	}
	return notificationID, jobID, setNotificationJob(ctx, tx, notificationID, jobID)
}

// SetDailyNotify switches the daily automatic send on or off, audited.
func (s *Service) SetDailyNotify(ctx context.Context, userID int64, on bool) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := setDailyNotify(ctx, tx, userID, on); err != nil {
			return err
		}
		return store.Audit(ctx, tx, userID, "debt.notify.daily", "debt-options", map[string]any{"on": on})
	})
	if err != nil {
		return fmt.Errorf("debts: daily notify: %w", err)
	}
	return nil
}

// notifyWorker makes one send.
type notifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	s *Service
}

// Work asks Finrota to notify every overdue debtor. The call is not
// idempotent, so it is made at most once per send: the send is marked
// sending before the call, and an attempt that finds it so (its instance
// died, or the answer was lost) does not call again but marks the outcome
// unknown for a person to check at the portal. Only a refusal that means
// "not processed" (429, 503) makes it pending again for a retry.
func (w *notifyWorker) Work(ctx context.Context, j *river.Job[NotifyArgs]) error {
	s := w.s
	n, err := s.DebtNotificationByID(ctx, j.Args.NotificationID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("debts: notify: %w", err))
	}
	if n.State != NotifyPending && n.State != NotifySending {
		return nil
	}
	client, err := s.conn.Finrota(ctx)
	if err != nil {
		// Nothing was sent: a pending send stays pending for its retry.
		e := debtError(err)
		if queue.Attempts(j.JobRow) < j.MaxAttempts && n.State == NotifyPending {
			return err
		}
		if ferr := s.finishNotification(ctx, n.ID, NotifyFailed, e.Code, e.Message); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	found, err := s.claimNotification(ctx, n.ID)
	if err != nil {
		return err
	}
	switch found {
	case NotifyPending:
	case NotifySending:
		if ferr := s.finishNotification(ctx, n.ID, NotifyUnknown, "unknown",
			"an earlier attempt may have reached Finrota; not sent again"); ferr != nil {
			return ferr
		}
		return river.JobCancel(fmt.Errorf("debts: notify %d: outcome of an earlier attempt unknown", n.ID))
	default:
		return nil
	}
	err = client.SendOverdueNotifications(apicall.WithRequestID(ctx, n.RequestID))
	if err == nil {
		return s.finishNotification(ctx, n.ID, NotifySent, "", "")
	}
	e := debtError(err)
	code := e.Code
	if code == "" {
		code = fmt.Sprint(e.Status)
	}
	var fe *finrota.Error
	notProcessed := errors.As(err, &fe) && (fe.Status == http.StatusTooManyRequests || fe.Status == http.StatusServiceUnavailable)
	if notProcessed && queue.Attempts(j.JobRow) < j.MaxAttempts {
		if rerr := s.releaseNotification(ctx, n.ID, code, e.Message); rerr != nil {
			return rerr
		}
		return river.JobSnooze(max(fe.RetryAfter, 5*time.Second))
	}
	state := NotifyFailed
	if !errors.As(err, &fe) || fe.Status >= 500 && !notProcessed || fe.Code == finrota.CodeMalformed {
		// No answer, a server error or an unreadable one: Finrota may
		// have sent the notifications.
		state = NotifyUnknown
	}
	if ferr := s.finishNotification(ctx, n.ID, state, code, e.Message); ferr != nil {
		return ferr
	}
	return river.JobCancel(err)
}

// NotifyDailyArgs is the day's automatic send, unique per Istanbul day.
type NotifyDailyArgs struct {
	// Day is the Istanbul day, as YYYY-MM-DD.
	Day string `json:"day"`
}

// Kind implements river.JobArgs.
func (NotifyDailyArgs) Kind() string { return "debts.notify.daily" }

// DailyNotifyJob is the daily job for the current Istanbul day: unique by
// its day in every state, so it runs once per day however often the
// schedule (or a restart, or a second instance) offers it.
func (s *Service) DailyNotifyJob() (river.JobArgs, *river.InsertOpts) {
	return NotifyDailyArgs{Day: tz.Day(s.now()).Format(time.DateOnly)},
		&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: anyState}}
}

// notifyDailyWorker sends the day's notification when switched on.
type notifyDailyWorker struct {
	river.WorkerDefaults[NotifyDailyArgs]
	s *Service
}

// Work queues the day's notification when it is switched on and something
// is overdue; a send a person already requested that day makes it a no-op.
func (w *notifyDailyWorker) Work(ctx context.Context, j *river.Job[NotifyDailyArgs]) error {
	s := w.s
	on, err := s.DebtDailyNotify(ctx)
	if err != nil || !on {
		return err
	}
	today, err := time.ParseInLocation(time.DateOnly, j.Args.Day, tz.Istanbul)
	if err != nil {
		return river.JobCancel(fmt.Errorf("debts: daily notify: day %q: %w", j.Args.Day, err))
	}
	sum, err := s.OverdueSummary(ctx, today)
	if err != nil || sum.Debts == 0 {
		return err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, _, err := s.enqueueNotification(ctx, tx, NewDebtNotification{
			Day: today, Scheduled: true, Debts: sum.Debts, Agents: sum.Agents,
		})
		return err
	})
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	return err
}
