package jobs_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/eventually"
	"kasa/jobs"
)

func TestSchedulesOnePerPeriod(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	var now atomic.Pointer[time.Time]
	set := func(s string) {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		now.Store(&tm)
	}
	set("2026-03-01T10:00:30Z")
	clock := func() time.Time { return *now.Load() }
	var runs atomic.Int32
	h := map[string]jobs.HandlerFunc{"sync": func(_ context.Context, j jobs.Job) error {
		if string(j.Payload) != `{"bank": "vakif"}` {
			return jobs.Permanent(errBoom)
		}
		runs.Add(1)
		return nil
	}}
	sched := []jobs.Schedule{{Kind: "sync", Every: time.Minute, Payload: map[string]string{"bank": "vakif"}}}
	_, stopA := start(t, db, h, jobs.Options{ID: "a", Now: clock, Schedules: sched, PollInterval: 10 * time.Millisecond})
	_, stopB := start(t, db, h, jobs.Options{ID: "b", Now: clock, Schedules: sched, PollInterval: 10 * time.Millisecond})

	byKey := func(key string) int64 {
		t.Helper()
		var id int64
		eventually.That(t, "a job with key "+key, func() error {
			return db.Get(&id, `SELECT id FROM jobs WHERE unique_key = $1`, key)
		})
		return id
	}
	if j := wait(t, db, byKey("sync@2026-03-01T10:00:00Z")); j.State != jobs.StateDone {
		t.Errorf("first period: %+v", j)
	}
	set("2026-03-01T10:00:59Z") // same period: nothing new
	set("2026-03-01T10:01:05Z")
	if j := wait(t, db, byKey("sync@2026-03-01T10:01:00Z")); j.State != jobs.StateDone {
		t.Errorf("second period: %+v", j)
	}
	stopA()
	stopB()
	var keys []string
	if err := db.Select(&keys, `SELECT unique_key FROM jobs ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || runs.Load() != 2 {
		t.Errorf("jobs %v, runs %d; want one per period", keys, runs.Load())
	}
}

func TestListenNotifyWakesRunner(t *testing.T) {
	t.Parallel()
	db, url := openDB(t)
	ran := make(chan int64, 10)
	start(t, db, map[string]jobs.HandlerFunc{"ping": func(_ context.Context, j jobs.Job) error {
		ran <- j.ID
		return nil
	}}, jobs.Options{ListenURL: url, PollInterval: time.Minute, Workers: 1})

	// Another instance's pool: no Kick reaches this runner, only the notification.
	other, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, other)
	for i := range 3 {
		tx := other.MustBegin()
		id := enqueue(t, tx, "ping", nil)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ran:
			if got != id {
				t.Fatalf("ran %d, want %d", got, id)
			}
		case <-time.After(30 * time.Second): // well inside the minute between polls
			t.Fatalf("job %d (#%d) not picked up within 30s of its commit: the notification did not wake the runner", id, i)
		}
		// Let the worker record the result and go idle before the next one.
		wait(t, db, id)
	}
}

func TestGracefulShutdownFinishesHandler(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	started, release := make(chan struct{}), make(chan struct{})
	var ctxErr atomic.Value
	r := jobs.NewRunner(db, map[string]jobs.HandlerFunc{
		"slow": func(ctx context.Context, j jobs.Job) error {
			close(started)
			<-release
			ctxErr.Store(ctx.Err() == nil)
			return nil
		},
		"later": ok,
	}, jobs.Options{Workers: 2, PollInterval: 10 * time.Millisecond, ShutdownGrace: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unblock := sync.OnceFunc(func() { close(release) })
	defer unblock() // should the test fail early
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx) }()
	id := enqueue(t, db, "slow", nil)
	<-started
	cancel()

	// Shutdown has begun: an idle worker must not claim new work.
	later := enqueue(t, db, "later", nil)
	r.Kick()
	select {
	case err := <-runDone:
		t.Fatalf("Run returned (%v) while a handler was running", err)
	case <-time.After(200 * time.Millisecond):
	}
	unblock()
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(eventually.Timeout):
		t.Fatal("Run did not return after the handler finished")
	}
	if j, _ := jobs.Get(context.Background(), db, id); j.State != jobs.StateDone {
		t.Errorf("in-flight job: %+v", j)
	}
	if v, _ := ctxErr.Load().(bool); !v {
		t.Error("handler context was cancelled within the grace period")
	}
	if j, _ := jobs.Get(context.Background(), db, later); j.State != jobs.StateQueued || j.Attempts != 0 {
		t.Errorf("job enqueued during shutdown was claimed: %+v", j)
	}
}

func TestShutdownGraceCancelsHandler(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	started := make(chan struct{})
	var once sync.Once
	_, stop := start(t, db, map[string]jobs.HandlerFunc{"stuck": func(ctx context.Context, j jobs.Job) error {
		once.Do(func() { close(started) })
		<-ctx.Done()
		return ctx.Err()
	}}, jobs.Options{ShutdownGrace: 100 * time.Millisecond, Workers: 1})
	id := enqueue(t, db, "stuck", nil)
	<-started
	stop() // fails the test if Run errs or hangs
	j, _ := jobs.Get(context.Background(), db, id)
	// The interruption was not the job's fault: queued again, attempt given back.
	if j.State != jobs.StateQueued || j.Attempts != 0 || !strings.Contains(j.LastError, "interrupted by shutdown") {
		t.Errorf("interrupted job: %+v", j)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for attempt, base := range map[int]time.Duration{
		1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 12: 2048 * time.Second,
		13: time.Hour, 40: time.Hour, 1000: time.Hour,
	} {
		for range 20 {
			if d := jobs.DefaultBackoff(attempt); d > base || d < base*3/4 {
				t.Fatalf("DefaultBackoff(%d) = %v, want in [%v, %v]", attempt, d, base*3/4, base)
			}
		}
	}
}
