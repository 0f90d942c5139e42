package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"kasa/i18n"
	"kasa/views"
)

// badTextKey keys the names of the submitted fields that were not UTF-8 text.
type badTextKey struct{}

// checkText is the one place where submitted values (the query string and
// a posted form) are checked to be UTF-8 text, before any handler reads
// them. Bytes that are not text would make Postgres refuse the statement
// and the user see an error page; here each such value is replaced by its
// readable part (the rest shown as U+FFFD) so the form can be shown again,
// and its field is remembered for textErrors, through which every form
// handler refuses it with a message at the field.
func (h *Handler) checkText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var bad []string
		if r.URL.RawQuery != "" {
			q := r.URL.Query()
			if names := cleanValues(q); len(names) > 0 {
				bad = append(bad, names...)
				r.URL.RawQuery = q.Encode()
			}
		}
		if r.Method == http.MethodPost {
			// The form is read here, once, for every handler: one that
			// cannot be read is a bad request, as it would be to the handler.
			if err := r.ParseForm(); err != nil {
				h.renderError(w, r, http.StatusBadRequest, "error.badrequest")
				return
			}
			bad = append(bad, cleanValues(r.PostForm)...)
			cleanValues(r.Form)
		}
		if len(bad) > 0 {
			r = r.WithContext(context.WithValue(r.Context(), badTextKey{}, bad))
		}
		next.ServeHTTP(w, r)
	})
}

// cleanValues makes every name and value in v valid UTF-8 and returns the
// names (as cleaned) of the fields that were not.
func cleanValues(v url.Values) []string {
	var bad []string
	for name, vals := range v {
		dirty := !utf8.ValidString(name)
		for i, s := range vals {
			if !utf8.ValidString(s) {
				vals[i], dirty = strings.ToValidUTF8(s, "\uFFFD"), true
			}
		}
		if !dirty {
			continue
		}
		clean := strings.ToValidUTF8(name, "\uFFFD")
		if clean != name {
			delete(v, name)
			v[clean] = append(v[clean], vals...)
		}
		bad = append(bad, clean)
	}
	return bad
}

// textErrors puts the message for text that is not UTF-8 at every field of
// r that carried such bytes, in place of any other message for that field,
// and reports whether there was one. Every form handler calls it with its
// errors before deciding whether the form is valid.
func textErrors(r *http.Request, errs views.Errors) bool {
	bad, _ := r.Context().Value(badTextKey{}).([]string)
	if len(bad) == 0 {
		return false
	}
	l := i18n.FromContext(r.Context())
	for _, name := range bad {
		errs[name] = l.T("valid.text.utf8")
	}
	return true
}
