package jobs_test

import (
	"io"
	"testing"
)

// closeOrFail closes c and fails the test when that fails; deferred, it
// still reports what went wrong.
func closeOrFail(t testing.TB, c io.Closer) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

// noErr stops the test when err is not nil: for setup steps whose result
// the test does not look at otherwise.
func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
