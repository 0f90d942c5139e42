package queue_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"kasa/eventually"
	"kasa/queue"
	"kasa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recordArgs asks a worker to record that it ran for ID.
type recordArgs struct {
	ID int `json:"id"`
}

func (recordArgs) Kind() string { return "test.record" }

// recorder inserts one row per run into ran; the primary key turns a second
// run of the same job into a failure the test sees.
type recorder struct {
	river.WorkerDefaults[recordArgs]
	db *sql.DB
}

func (r *recorder) Work(ctx context.Context, j *river.Job[recordArgs]) error {
	_, err := r.db.ExecContext(ctx, `INSERT INTO ran (id, job_id) VALUES ($1, $2)`, j.Args.ID, j.ID)
	return err
}

type env struct {
	t   *testing.T
	url string
	db  *sql.DB
	ins *queue.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, url: storetest.URL(t)}
	st := storetest.Open(t, e.url)
	e.db = st.DB().DB
	if _, err := e.db.Exec(`CREATE TABLE ran (id int PRIMARY KEY, job_id bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.ins, err = queue.NewInserter(e.db, quiet); err != nil {
		t.Fatal(err)
	}
	return e
}

// instance starts a worker client as one product instance would.
func (e *env) instance(o queue.Options, periodic ...*river.PeriodicJob) *queue.Worker {
	e.t.Helper()
	workers := queue.NewWorkers()
	river.AddWorker(workers, &recorder{db: e.db})
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[tickArgs]) error { return nil }))
	o.ListenURL, o.Logger, o.Periodic = e.url, quiet, periodic
	w, err := queue.Start(context.Background(), e.db, workers, o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			e.t.Error(err)
		}
	})
	return w
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestInsertedJobExistsExactlyWhenItsTransactionCommits: a job inserted in
// a rolled-back transaction never runs; a committed one runs once.
func TestInsertedJobExistsExactlyWhenItsTransactionCommits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		id     int
		commit bool
	}{{1, false}, {2, true}} {
		tx, err := e.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ins.InsertTx(ctx, tx, recordArgs{ID: c.id}, nil); err != nil {
			t.Fatal(err)
		}
		if c.commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	e.instance(queue.Options{})
	eventually.That(t, "the committed job ran", func() error {
		if n := e.count(`SELECT count(*) FROM ran WHERE id = 2`); n != 1 {
			return fmt.Errorf("ran %d times", n)
		}
		return nil
	})
	if n := e.count(`SELECT count(*) FROM river_job`); n != 1 {
		t.Errorf("%d jobs stored, want only the committed one", n)
	}
}

// TestTwoInstancesRunEachJobOnce: two instances on one database share the
// work and run each job exactly once.
func TestTwoInstancesRunEachJobOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.instance(queue.Options{Workers: 3})
	e.instance(queue.Options{Workers: 3})
	const jobs = 200
	for i := range jobs {
		if _, err := e.ins.Insert(ctx, recordArgs{ID: i}, nil); err != nil {
			t.Fatal(err)
		}
	}
	eventually.That(t, "every job finished", func() error {
		if n := e.count(`SELECT count(*) FROM river_job WHERE state = 'completed'`); n != jobs {
			return fmt.Errorf("%d of %d completed", n, jobs)
		}
		return nil
	})
	if n := e.count(`SELECT count(*) FROM ran`); n != jobs {
		t.Errorf("%d runs recorded for %d jobs", n, jobs)
	}
	if n := e.count(`SELECT count(*) FROM river_job WHERE attempt <> 1`); n != 0 {
		t.Errorf("%d jobs took more than one attempt (a second run failed on the primary key)", n)
	}
	if n := e.count(`SELECT count(DISTINCT attempted_by[1]) FROM river_job`); n != 2 {
		t.Logf("work done by %d instance(s)", n) // sharing is likely, not guaranteed
	}
}

// tickArgs is a periodic job without uniqueness: a witness of each time an
// instance's periodic enqueuer ran.
type tickArgs struct{}

func (tickArgs) Kind() string { return "test.tick" }

// TestPeriodicJobRunsOncePerPeriodAcrossInstances: with two instances, and
// after the leader stops and the other takes over inside the same period,
// the periodic job has run once.
func TestPeriodicJobRunsOncePerPeriodAcrossInstances(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	once := queue.Every(time.Hour, recordArgs{ID: 7})
	tick := river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return tickArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
	a := e.instance(queue.Options{}, once, tick)
	eventually.That(t, "the first leader ran the periodic job", func() error {
		if n := e.count(`SELECT count(*) FROM ran WHERE id = 7`); n != 1 {
			return fmt.Errorf("ran %d times", n)
		}
		return nil
	})
	e.instance(queue.Options{}, once, tick)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	eventually.That(t, "the second instance took over as leader and ran its schedule", func() error {
		if n := e.count(`SELECT count(*) FROM river_job WHERE kind = 'test.tick'`); n < 2 {
			return fmt.Errorf("%d ticks", n)
		}
		return nil
	})
	if n := e.count(`SELECT count(*) FROM river_job WHERE kind = 'test.record'`); n != 1 {
		t.Errorf("the once-per-hour job was inserted %d times in one hour", n)
	}
}

// TestKilledInstancesJobIsRescuedAndCompletedOnce: a job left running by
// an instance that died is taken over by another and completed once.
func TestKilledInstancesJobIsRescuedAndCompletedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// What a killed instance leaves behind: its job running, attempted by it,
	// long ago, never finished.
	if _, err := e.db.Exec(`
		INSERT INTO river_job (kind, args, state, attempt, max_attempts, attempted_at, attempted_by, queue, priority, scheduled_at)
		VALUES ('test.record', '{"id": 9}', 'running', 1, 10, now() - interval '2 hours', '{dead-instance}', 'default', 1, now() - interval '2 hours')`); err != nil {
		t.Fatal(err)
	}
	e.instance(queue.Options{RescueAfter: time.Minute, JobTimeout: 30 * time.Second})
	eventually.That(t, "the abandoned job was rescued and completed", func() error {
		var state string
		if err := e.db.QueryRow(`SELECT state FROM river_job WHERE kind = 'test.record'`).Scan(&state); err != nil {
			return err
		}
		if state != "completed" {
			return errors.New("state " + state)
		}
		return nil
	})
	if n := e.count(`SELECT count(*) FROM ran WHERE id = 9`); n != 1 {
		t.Errorf("ran %d times", n)
	}
}
