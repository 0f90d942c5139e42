package vakifbank

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

// writeOrFail writes a test server's answer, failing the test if it cannot.
func writeOrFail(t testing.TB, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Error(err)
	}
}
