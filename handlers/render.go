package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gorilla/sessions"

	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

const (
	sessionName    = "kasa_session"
	sessionLangKey = "lang"
	sessionFlashes = "_flash"
)

// render writes a component with status. The component is rendered into a
// buffer first, so that a template error is still a clean 500 page instead
// of half a page under the intended status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		if status >= http.StatusInternalServerError {
			// The error page itself failed: a plain answer, no loop.
			h.log.Error("render error page", "request_id", requestID(r.Context()), "err", err)
			http.Error(w, http.StatusText(status), status)
			return
		}
		h.serverError(w, r, errorf("render", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		h.log.Debug("write response", "request_id", requestID(r.Context()), "err", err)
	}
}

// renderError shows an error page with a message from the catalogue; an
// empty key is the generic message carrying the request id.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	lang := i18n.FromContext(r.Context())
	msg := lang.T(key)
	if key == "" {
		msg = lang.T("error.generic", requestID(r.Context()))
	}
	h.render(w, r, status, views.ErrorPage(status, msg))
}

// serverError logs err and shows the generic error page: the user sees a
// code to quote, never the internal error text.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if store.Unavailable(err) {
		h.databaseUnavailable(w, r, err)
		return
	}
	h.log.Error("server error", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	h.renderError(w, r, http.StatusInternalServerError, "")
}

// databaseUnavailable answers 503 when the database cannot be reached: the
// request may succeed in a few seconds, so the page says to try again, and
// nothing about the session changes.
func (h *Handler) databaseUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Warn("database unavailable", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	h.renderError(w, r, http.StatusServiceUnavailable, "error.dbdown")
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, http.StatusNotFound, "error.notfound")
}

func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, http.StatusForbidden, "error.forbidden")
}

// session returns the request's session (already loaded by the middleware).
func (h *Handler) session(r *http.Request) *sessions.Session {
	s, _ := h.sessions.Get(r, sessionName)
	return s
}

// flash queues a message for the next page the user sees. Messages are
// stored already translated, in the language of the moment.
func (h *Handler) flash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	s := h.session(r)
	s.AddFlash(kind+"|"+msg, sessionFlashes)
	if err := s.Save(r, w); err != nil {
		h.log.Error("save flash", "request_id", requestID(r.Context()), "err", err)
	}
}

func (h *Handler) takeFlashes(w http.ResponseWriter, r *http.Request, s *sessions.Session) []views.Flash {
	if s == nil || s.IsNew {
		return nil
	}
	raw := s.Flashes(sessionFlashes)
	if len(raw) == 0 {
		return nil
	}
	if err := s.Save(r, w); err != nil {
		h.log.Error("save session", "request_id", requestID(r.Context()), "err", err)
	}
	var out []views.Flash
	for _, f := range raw {
		if str, ok := f.(string); ok {
			kind, msg, _ := strings.Cut(str, "|")
			out = append(out, views.Flash{Kind: kind, Message: msg})
		}
	}
	return out
}

// redirect sends the browser to a local path with 303 See Other.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else fallback: an
// open redirect would let a phishing link bounce through our sign-in page.
func safeNext(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n\\") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return next
}

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("bad id")
	}
	return id, nil
}

// queryInt reads a positive integer query parameter with a default.
func queryInt(r *http.Request, name string, def int) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 1 {
		return def
	}
	return n
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// errorf wraps an error with the operation, for the log.
func errorf(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }
