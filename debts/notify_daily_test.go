package debts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kasa/debts"
	"kasa/eventually"
	"kasa/tz"
)

// TestDebtDailyNotificationOncePerIstanbulDayWhenOn: the daily job sends
// nothing while the switch is off; switched on, it sends the day's
// notification once, as the schedule's, however often the job is offered
// that Istanbul day; the next day it may run again.
func TestDebtDailyNotificationOncePerIstanbulDayWhenOn(t *testing.T) {
	t.Parallel()
	e := newDebtEnv(t)
	ctx := context.Background()
	e.start(t)
	_, sj := e.sync(t)
	if j := wait(t, e, sj); j.State != stateDone {
		t.Fatalf("sync: %+v", j)
	}
	if sum, err := e.svc.OverdueSummary(ctx, tz.Day(time.Now())); err != nil || sum.Debts == 0 {
		t.Fatalf("nothing overdue to notify about: %+v, %v", sum, err)
	}
	// offer inserts the day's job as the schedule does; 0 when the day
	// already has its job.
	offer := func() int64 {
		t.Helper()
		args, opts := e.svc.DailyNotifyJob()
		res, err := e.ins.Insert(ctx, args, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.UniqueSkippedAsDuplicate {
			return 0
		}
		return res.Job.ID
	}
	sends := func() []debts.DebtNotification {
		t.Helper()
		ns, err := e.svc.DebtNotifications(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}

	// Off: the day's job runs and sends nothing.
	job := offer()
	if job == 0 {
		t.Fatal("the first offer of the day was refused")
	}
	if j := wait(t, e, job); j.State != stateDone || len(sends()) != 0 {
		t.Fatalf("switched off: job %+v, %d sends", j, len(sends()))
	}
	if again := offer(); again != 0 {
		t.Fatalf("a second job the same Istanbul day: %d", again)
	}

	// On, the next Istanbul day: one scheduled send, sent once.
	noErr(t, e.svc.SetDailyNotify(ctx, 0, true))
	tomorrow := tz.Day(time.Now()).AddDate(0, 0, 1).Add(3 * time.Hour)
	e.now = func() time.Time { return tomorrow }
	job = offer()
	if job == 0 {
		t.Fatal("the next day's job was refused")
	}
	if j := wait(t, e, job); j.State != stateDone {
		t.Fatalf("switched on: job %+v", j)
	}
	eventually.That(t, "the day's scheduled send to be sent", func() error {
		ns := sends()
		if len(ns) != 1 || !ns[0].Scheduled || ns[0].State != debts.NotifySent ||
			ns[0].Day.Format(time.DateOnly) != tomorrow.Format(time.DateOnly) {
			return fmt.Errorf("sends %+v", ns)
		}
		return nil
	})
	if len(e.sb.Finrota.Notifications()) == 0 {
		t.Fatal("Finrota notified no one")
	}
	if again := offer(); again != 0 {
		t.Fatalf("a second job the same Istanbul day: %d", again)
	}
	if n := len(sends()); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}
}
