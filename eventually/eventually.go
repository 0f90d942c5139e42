// Package eventually is the one way the tests wait for state that a
// goroutine, a job runner, a server process or the database reaches in its
// own time.
//
// A test that sleeps for a fixed time, or polls against a short deadline of
// its own, passes or fails with the speed of the machine: a busy two-core CI
// runner is many times slower than a laptop. That instead polls a condition
// until it holds, with a deadline generous enough never to be the reason a
// correct test fails, and on timeout reports what it was waiting for and the
// last state it saw, so a real failure still says what went wrong.
package eventually

import (
	"testing"
	"time"
)

// Timeout is how long That waits before failing the test. It is meant to
// be reached only when the awaited state never comes.
const Timeout = 60 * time.Second

// Polling starts at firstPoll between attempts and doubles up to maxPoll,
// so a state reached at once is seen at once and a slow one costs little.
const (
	firstPoll = 10 * time.Millisecond
	maxPoll   = 200 * time.Millisecond
)

// That calls cond until it returns nil, waiting a little longer between
// calls each time. If cond has not returned nil within Timeout, the test
// fails with t.Fatalf, naming what was awaited and the last error cond
// returned; cond's error should therefore describe the state it saw ("job
// 12 is queued, attempt 2"), not merely that it was not the wanted one.
//
// Because it calls t.Fatalf, That must be called from the goroutine running
// the test, never from a goroutine the test started.
func That(t testing.TB, what string, cond func() error) {
	t.Helper()
	Within(t, Timeout, what, cond)
}

// Within is That with a deadline of d instead of Timeout. cond is always
// called at least once, and once more after the deadline has passed, so the
// last error reported is the state at the deadline.
func Within(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	if err := poll(d, cond); err != nil {
		t.Fatalf("timed out after %s waiting for %s; last seen: %v", d, what, err)
	}
}

// poll calls cond until it returns nil or d has passed, returning cond's
// last error.
func poll(d time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	wait := firstPoll
	for {
		err := cond()
		if err == nil {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return err
		}
		time.Sleep(min(wait, left))
		wait = min(2*wait, maxPoll)
	}
}
