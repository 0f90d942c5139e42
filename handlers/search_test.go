package handlers

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHGSMotorwaySearchIgnoresTurkishCase: in sandbox data the motorway
// filter found the Çamlıca passages for Çamlıca and none for ÇAMLICA; every
// spelling by Turkish case rules now finds the same passages, on the page
// and in the export.
func TestHGSMotorwaySearchIgnoresTurkishCase(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin, _ := activeConsent(t, e, 10)
	exported := func(search string) int {
		t.Helper()
		resp, err := admin.Get(e.srv.URL + "/hgs/export.csv?" + url.Values{"motorway": {search}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer closeOrFail(t, resp.Body)
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("export %q: %d %v", search, resp.StatusCode, err)
		}
		return strings.Count(strings.TrimSpace(string(body)), "\n") // rows after the header
	}
	want := exported("Çamlıca")
	if want == 0 {
		t.Fatal("the sandbox has no Çamlıca passages to search")
	}
	for _, search := range []string{"ÇAMLICA", "çamlıca", "kuzey marmara otoyolu - ÇAMLICA", "KUZEY MARMARA"} {
		got := exported(search)
		if search == "KUZEY MARMARA" {
			if got < want {
				t.Errorf("%q: %d rows, fewer than the %d Çamlıca ones", search, got, want)
			}
			continue
		}
		if got != want {
			t.Errorf("%q: %d rows, want %d as for Çamlıca", search, got, want)
		}
	}
	resp, doc := e.get(admin, "/hgs?motorway=%C3%87AMLICA")
	if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid=hgs-txn]`).Length() != min(want, hgsPageSize) {
		t.Errorf("page for ÇAMLICA: %d, %d rows, want %d", resp.StatusCode, doc.Find(`[data-testid=hgs-txn]`).Length(), min(want, hgsPageSize))
	}
}
