package static

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHashedURLsAreCachedForAYear(t *testing.T) {
	a := New()
	for _, name := range []string{"app.css", "htmx.min.js", "favicon.svg"} {
		p := a.Path(name)
		if !regexp.MustCompile(`^/static/[a-z.]+\.[0-9a-f]{12}\.(css|js|svg)$`).MatchString(p) {
			t.Fatalf("%s → %q: not a content-hashed URL", name, p)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") || w.Body.Len() == 0 {
			t.Errorf("%s: %d, Cache-Control %q", p, w.Code, w.Header().Get("Cache-Control"))
		}
	}
	// The unhashed name still works but is not cached for long.
	w := httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", "/static/app.css", nil))
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("unhashed: %d %q", w.Code, w.Header().Get("Cache-Control"))
	}
	w = httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", "/static/nope.js", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("missing file: %d", w.Code)
	}
	// htmx is the pinned 2.0.x.
	w = httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", a.Path("htmx.min.js"), nil))
	if !strings.Contains(w.Body.String(), `version:"2.0.`) {
		t.Error("the vendored htmx is not 2.0.x")
	}
}
