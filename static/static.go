// Package static holds the vendored htmx, the stylesheet and the icons,
// embedded into the binary and served under content-hashed URLs so that
// browsers may cache them for a year.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed *.js *.css *.svg
var files embed.FS

// Assets serves the embedded files and names them by content.
type Assets struct {
	byName map[string]string // name → hashed URL path
	byHash map[string]string // hashed file name → name
}

// New hashes the embedded files.
func New() *Assets {
	a := &Assets{byName: map[string]string{}, byHash: map[string]string{}}
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		b, _ := files.ReadFile(e.Name())
		sum := sha256.Sum256(b)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext
		a.byName[e.Name()] = "/static/" + hashed
		a.byHash[hashed] = e.Name()
	}
	return a
}

// Path returns the URL of an embedded file, e.g. "/static/app.3f2a…css".
func (a *Assets) Path(name string) string {
	if p, ok := a.byName[name]; ok {
		return p
	}
	return "/static/" + name
}

// ServeHTTP serves /static/<hashed name> with a one-year immutable cache,
// and an unhashed name without long caching.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if orig, ok := a.byHash[name]; ok {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		name = orig
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(w, r, files, name)
}
