package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"kasa/eventually"
	"kasa/jobs"
	"kasa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// openDB returns a pool on a fresh migrated database and its URL.
func openDB(t *testing.T) (*sqlx.DB, string) {
	t.Helper()
	url := storetest.URL(t)
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, db) })
	return db, url
}

// start runs a runner until the test ends (or stop is called) and fails the
// test if Run returns an error.
func start(t *testing.T, db *sqlx.DB, handlers map[string]jobs.HandlerFunc, o jobs.Options) (r *jobs.Runner, stop func()) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval == 0 {
		o.PollInterval = 50 * time.Millisecond
	}
	r = jobs.NewRunner(db, handlers, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return")
		}
	}
	t.Cleanup(stop)
	return r, stop
}

// waitFor polls job id until cond holds, failing the test if it never does.
func waitFor(t *testing.T, db *sqlx.DB, id int64, what string, cond func(jobs.Job) bool) jobs.Job {
	t.Helper()
	var j jobs.Job
	eventually.That(t, fmt.Sprintf("job %d: %s", id, what), func() error {
		var err error
		if j, err = jobs.Get(context.Background(), db, id); err != nil {
			t.Fatal(err)
		}
		if !cond(j) {
			return fmt.Errorf("job %+v", j)
		}
		return nil
	})
	return j
}

// wait waits for job id to finish, failing the test if it never does.
func wait(t *testing.T, db *sqlx.DB, id int64) jobs.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Timeout)
	defer cancel()
	j, err := jobs.Wait(ctx, db, id)
	if err != nil {
		t.Fatalf("wait for job %d: %v (last %+v)", id, err, j)
	}
	return j
}

func enqueue(t *testing.T, q sqlx.ExtContext, kind string, payload any, opts ...jobs.Option) int64 {
	t.Helper()
	id, err := jobs.Enqueue(context.Background(), q, kind, payload, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func exec(t *testing.T, db *sqlx.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

func ok(context.Context, jobs.Job) error { return nil }

var errBoom = errors.New("boom")
