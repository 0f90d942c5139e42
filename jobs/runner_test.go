package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"kasa/jobs"
)

func TestRetryWithBackoff(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	var calls atomic.Int32
	var mu sync.Mutex
	var states []string
	r, _ := start(t, db, map[string]jobs.HandlerFunc{"flaky": func(context.Context, jobs.Job) error {
		if calls.Add(1) <= 2 {
			return errBoom
		}
		return nil
	}}, jobs.Options{
		// Hours, so the job cannot come due again until the test moves run_at.
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Hour },
		OnState: func(kind, state string) { mu.Lock(); states = append(states, kind+":"+state); mu.Unlock() },
	})
	id := enqueue(t, db, "flaky", nil)
	for attempt := 1; attempt <= 2; attempt++ {
		j := waitFor(t, db, id, fmt.Sprintf("retry %d", attempt), func(j jobs.Job) bool {
			return j.State == jobs.StateQueued && j.Attempts == attempt
		})
		if got, want := j.RunAt.Sub(j.UpdatedAt), time.Duration(attempt)*time.Hour; got != want {
			t.Errorf("attempt %d: run_at moved by %v, want %v", attempt, got, want)
		}
		if j.LastError != "boom" || j.LockedUntil != nil {
			t.Errorf("attempt %d: %+v", attempt, j)
		}
		exec(t, db, `UPDATE jobs SET run_at = now() WHERE id = $1`, id) // time passes
		r.Kick()
	}
	j := wait(t, db, id)
	if j.State != jobs.StateDone || j.Attempts != 3 || calls.Load() != 3 || j.FinishedAt == nil {
		t.Errorf("final: %+v, calls %d", j, calls.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"flaky:running", "flaky:queued", "flaky:running", "flaky:queued", "flaky:running", "flaky:done"}
	if !slices.Equal(states, want) {
		t.Errorf("OnState saw %v, want %v", states, want)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 3000)
	for _, tc := range []struct {
		name     string
		handler  jobs.HandlerFunc
		opts     []jobs.Option
		attempts int
		lastErr  string
	}{
		{"max attempts", func(context.Context, jobs.Job) error { return errBoom },
			[]jobs.Option{jobs.MaxAttempts(3)}, 3, "boom"},
		{"permanent", func(context.Context, jobs.Job) error { return jobs.Permanent(fmt.Errorf("bad debt: %w", errBoom)) },
			nil, 1, "bad debt: boom"},
		{"retry after out of attempts", func(context.Context, jobs.Job) error { return jobs.RetryAfter(errBoom, time.Hour) },
			[]jobs.Option{jobs.MaxAttempts(1)}, 1, "boom"},
		{"panic", func(context.Context, jobs.Job) error { panic("kaboom") },
			[]jobs.Option{jobs.MaxAttempts(2)}, 2, "panic: kaboom"},
		{"long error", func(context.Context, jobs.Job) error { return jobs.Permanent(errors.New(long)) },
			nil, 1, long[:2000] + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openDB(t)
			var calls atomic.Int32
			start(t, db, map[string]jobs.HandlerFunc{
				"work": func(ctx context.Context, j jobs.Job) error { calls.Add(1); return tc.handler(ctx, j) },
				"ok":   ok,
			}, jobs.Options{Backoff: func(int) time.Duration { return 0 }})
			id := enqueue(t, db, "work", nil, tc.opts...)
			j := wait(t, db, id)
			if j.State != jobs.StateFailed || j.Attempts != tc.attempts || int(calls.Load()) != tc.attempts ||
				j.LastError != tc.lastErr || j.FinishedAt == nil || !utf8.ValidString(j.LastError) {
				t.Errorf("got state %s attempts %d calls %d last_error %.80q; want failed after %d, %.80q",
					j.State, j.Attempts, calls.Load(), j.LastError, tc.attempts, tc.lastErr)
			}
			// The runner survives and runs the next job.
			if j := wait(t, db, enqueue(t, db, "ok", nil)); j.State != jobs.StateDone {
				t.Errorf("next job: %+v", j)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	start(t, db, map[string]jobs.HandlerFunc{"limited": func(context.Context, jobs.Job) error {
		return jobs.RetryAfter(fmt.Errorf("429: %w", errBoom), 90*time.Minute)
	}}, jobs.Options{Backoff: func(int) time.Duration { return time.Second }})
	id := enqueue(t, db, "limited", nil)
	j := waitFor(t, db, id, "retry", func(j jobs.Job) bool { return j.Attempts == 1 && j.State == jobs.StateQueued })
	if got := j.RunAt.Sub(j.UpdatedAt); got != 90*time.Minute {
		t.Errorf("run_at moved by %v, want 90m", got)
	}
	if j.LastError != "429: boom" {
		t.Errorf("last_error = %q", j.LastError)
	}
}

func TestUnknownKindFails(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	start(t, db, map[string]jobs.HandlerFunc{"known": ok}, jobs.Options{})
	j := wait(t, db, enqueue(t, db, "mystery", nil))
	if j.State != jobs.StateFailed || j.Attempts != 1 || !strings.Contains(j.LastError, `no handler for kind "mystery"`) {
		t.Errorf("got %+v", j)
	}
}

func TestExpiredLeaseIsReclaimed(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	// alive holds a valid lease and comes first in claim order: it must be left alone.
	alive := enqueue(t, db, "work", nil)
	dead := enqueue(t, db, "work", nil)
	exec(t, db, `UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'alive',
		locked_until = now() + interval '1 hour' WHERE id = $1`, alive)
	exec(t, db, `UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'dead',
		locked_until = now() - interval '1 second' WHERE id = $1`, dead)
	start(t, db, map[string]jobs.HandlerFunc{"work": ok}, jobs.Options{ID: "rescuer"})
	j := wait(t, db, dead)
	if j.State != jobs.StateDone || j.Attempts != 2 || j.LockedBy != "rescuer" {
		t.Errorf("dead instance's job: %+v", j)
	}
	j, _ = jobs.Get(context.Background(), db, alive)
	if j.State != jobs.StateRunning || j.LockedBy != "alive" || j.Attempts != 1 {
		t.Errorf("live lease was taken: %+v", j)
	}
}

func TestStaleRunnerCannotOverwrite(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	started, release := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // runs before the runners stop, should the test fail early
	var staleStates []string
	var mu sync.Mutex
	_, stopStale := start(t, db, map[string]jobs.HandlerFunc{"work": func(context.Context, jobs.Job) error {
		close(started)
		<-release
		return jobs.Permanent(errors.New("stale result"))
	}}, jobs.Options{ID: "stale", Workers: 1, Lease: time.Hour,
		OnState: func(_, s string) { mu.Lock(); staleStates = append(staleStates, s); mu.Unlock() }})
	id := enqueue(t, db, "work", nil)
	<-started

	// The stale runner stalls past its lease; another runner takes the job.
	exec(t, db, `UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = $1`, id)
	start(t, db, map[string]jobs.HandlerFunc{"work": ok}, jobs.Options{ID: "fresh"})
	if j := wait(t, db, id); j.State != jobs.StateDone || j.LockedBy != "fresh" || j.Attempts != 2 {
		t.Fatalf("fresh runner: %+v", j)
	}

	unblock()
	stopStale() // returns once the stale runner has tried to record its result
	j, _ := jobs.Get(context.Background(), db, id)
	if j.State != jobs.StateDone || j.LastError != "" || j.LockedBy != "fresh" {
		t.Errorf("stale result overwrote the job: %+v", j)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(staleStates, []string{jobs.StateRunning}) {
		t.Errorf("stale runner reported %v", staleStates)
	}
}

func TestHeartbeatKeepsLease(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	const lease = 300 * time.Millisecond
	started, release := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // runs before the runners stop, should the test fail early
	var longRuns, otherRuns atomic.Int32
	start(t, db, map[string]jobs.HandlerFunc{"long": func(context.Context, jobs.Job) error {
		longRuns.Add(1)
		close(started)
		<-release
		return nil
	}}, jobs.Options{ID: "long", Lease: lease, Workers: 1})
	id := enqueue(t, db, "long", nil)
	<-started
	first := waitFor(t, db, id, "claim", func(j jobs.Job) bool { return j.LockedUntil != nil })

	// Another runner polls eagerly; it would claim the job once the lease lapsed.
	start(t, db, map[string]jobs.HandlerFunc{"long": func(context.Context, jobs.Job) error {
		otherRuns.Add(1)
		return nil
	}}, jobs.Options{ID: "other", Lease: lease, PollInterval: 10 * time.Millisecond})
	// Wait until the lease has been renewed well past several lease periods.
	waitFor(t, db, id, "renewed lease", func(j jobs.Job) bool {
		return j.LockedUntil != nil && j.LockedUntil.Sub(*first.LockedUntil) > 4*lease
	})
	unblock()
	j := wait(t, db, id)
	if j.State != jobs.StateDone || j.LockedBy != "long" || j.Attempts != 1 || longRuns.Load() != 1 || otherRuns.Load() != 0 {
		t.Errorf("job %+v; long ran %d, other ran %d", j, longRuns.Load(), otherRuns.Load())
	}
}

func TestConcurrentRunnersRunEachJobOnce(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	const n = 50
	var mu sync.Mutex
	runs := map[int64]int{}
	h := map[string]jobs.HandlerFunc{"work": func(_ context.Context, j jobs.Job) error {
		mu.Lock()
		runs[j.ID]++
		mu.Unlock()
		return nil
	}}
	var ids []int64
	for range n / 2 {
		ids = append(ids, enqueue(t, db, "work", nil))
	}
	start(t, db, h, jobs.Options{ID: "a", Workers: 4, PollInterval: 10 * time.Millisecond})
	start(t, db, h, jobs.Options{ID: "b", Workers: 4, PollInterval: 10 * time.Millisecond})
	for range n - n/2 {
		ids = append(ids, enqueue(t, db, "work", nil))
	}
	for _, id := range ids {
		if j := wait(t, db, id); j.State != jobs.StateDone || j.Attempts != 1 {
			t.Errorf("job %d: %+v", id, j)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if runs[id] != 1 {
			t.Errorf("job %d ran %d times", id, runs[id])
		}
	}
	if len(runs) != n {
		t.Errorf("%d jobs ran, want %d", len(runs), n)
	}
}

// TestJobThatKeepsKillingItsInstanceFails: a job whose instance died on its
// last attempt is not claimed again forever; it fails, with a reason.
func TestJobThatKeepsKillingItsInstanceFails(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	id := enqueue(t, db, "work", nil, jobs.MaxAttempts(3))
	exec(t, db, `UPDATE jobs SET state = 'running', attempts = 3, locked_by = 'dead', last_error = 'out of memory',
		locked_until = now() - interval '1 second' WHERE id = $1`, id)
	ran := make(chan struct{}, 1)
	start(t, db, map[string]jobs.HandlerFunc{"work": func(context.Context, jobs.Job) error { ran <- struct{}{}; return nil }}, jobs.Options{ID: "rescuer"})
	j := wait(t, db, id)
	if j.State != jobs.StateFailed || j.Attempts != 3 || !strings.Contains(j.LastError, "no attempts are left") || !strings.Contains(j.LastError, "out of memory") {
		t.Fatalf("exhausted job: %+v", j)
	}
	select {
	case <-ran:
		t.Fatal("the exhausted job ran again")
	default:
	}
}
