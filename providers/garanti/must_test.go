package garanti

import (
	"io"
	"testing"
)

// writeOrFail writes a test server's answer, failing the test if it cannot.
func writeOrFail(t testing.TB, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Error(err)
	}
}
