package eventually_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"kasa/eventually"
)

func TestThatReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	eventually.That(t, "the fifth poll", func() error {
		calls++
		if calls < 5 {
			return fmt.Errorf("poll %d", calls)
		}
		return nil
	})
	if calls != 5 {
		t.Fatalf("cond called %d times, want 5: That must stop polling once it holds", calls)
	}
}

func TestThatDoesNotWaitForAConditionThatAlreadyHolds(t *testing.T) {
	calls := 0
	eventually.That(t, "at once", func() error { calls++; return nil })
	if calls != 1 {
		t.Fatalf("cond called %d times, want 1", calls)
	}
}

// fatalTB records a Fatalf and ends its goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls Within with a fake test in a goroutine of its own, since
// Fatalf ends the goroutine, and returns the failure message ("" if none).
func run(d time.Duration, cond func() error) string {
	f := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		eventually.Within(f, d, "the ledger to balance", cond)
	}()
	<-done
	return f.msg
}

func TestWithinFailsNamingWhatAndTheLastState(t *testing.T) {
	calls := 0
	msg := run(0, func() error {
		calls++
		return fmt.Errorf("difference %d TRY", calls)
	})
	if calls == 0 {
		t.Fatal("cond never called")
	}
	for _, want := range []string{"the ledger to balance", fmt.Sprintf("difference %d TRY", calls)} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure %q does not mention %q", msg, want)
		}
	}
}

func TestWithinDoesNotFailWhenTheConditionHolds(t *testing.T) {
	calls := 0
	msg := run(time.Hour, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if msg != "" || calls != 3 {
		t.Fatalf("failed with %q after %d calls", msg, calls)
	}
}
