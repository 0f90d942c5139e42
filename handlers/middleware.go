package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

// middleware wraps next in the chain every request passes, outermost first.
func (h *Handler) middleware(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, http.StatusForbidden, "error.crossorigin")
	}))
	var hdl http.Handler = next
	hdl = h.limitBodies(hdl)
	hdl = h.throttleSignIn(hdl)
	hdl = h.withSession(hdl)
	hdl = cop.Handler(hdl)
	hdl = securityHeaders(hdl)
	hdl = h.recoverPanics(hdl)
	hdl = h.observe(hdl)
	hdl = browserLanguage(hdl)
	hdl = withRequestID(hdl)
	return hdl
}

// browserLanguage sets the browser's language early, so that pages shown
// before the session is read (a refused cross-site post, a panic) speak it;
// withSession refines it with the user's choice.
func browserLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
		next.ServeHTTP(w, r.WithContext(i18n.WithLang(r.Context(), l)))
	})
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// withRequestID honours a sane incoming X-Request-ID or makes one, and
// returns it on the response.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request and counts it by route pattern and status.
func (h *Handler) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		_, pattern := h.mux.Handler(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		h.metrics.observeRequest(pattern, sw.status, elapsed)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, "/static/") {
			level = slog.LevelDebug
		}
		h.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path), // never the query: it may carry an OAuth code
			slog.String("route", pattern),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
		)
	})
}

// recoverPanics turns a panic into the generic error page; the details go
// to the log only.
func (h *Handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.Error("panic", "request_id", requestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				h.renderError(w, r, http.StatusInternalServerError, "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows our own scripts and styles only: no inline
// script, no inline style attributes, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// withSession loads the session and the signed-in user, picks the language
// and puts the view environment into the request context.
func (h *Handler) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		sess, err := h.sessions.Get(r, sessionName)
		if store.Unavailable(err) {
			// Not knowing who this is is not the same as knowing it is
			// nobody: answering as if signed out would send the user to
			// sign in and lose what they sent. Say so, leave the cookie.
			h.databaseUnavailable(w, r, errorf("load session", err))
			return
		}
		if err != nil {
			h.log.Error("load session", "request_id", requestID(ctx), "err", err)
		}
		user := store.SessionUser(sess)
		lang := h.language(r, sess.Values, user)
		ctx = i18n.WithLang(ctx, lang)
		ctx = context.WithValue(ctx, keyUser, user)
		env := &views.Env{
			Lang:         lang,
			User:         user,
			Sandbox:      h.cfg.Sandbox,
			SandboxLinks: h.cfg.SandboxLinks,
			Assets:       h.assets,
			Path:         h.backPath(r),
			RequestID:    requestID(ctx),
			Flashes:      h.takeFlashes(w, r, sess),
		}
		next.ServeHTTP(w, r.WithContext(views.WithEnv(ctx, env)))
	})
}

// language is the session's choice, else the user's saved one, else the
// browser's.
func (h *Handler) language(r *http.Request, values map[any]any, user *store.User) i18n.Lang {
	if s, ok := values[sessionLangKey].(string); ok {
		if l, ok := i18n.Parse(s); ok {
			return l
		}
	}
	if user != nil {
		if l, ok := i18n.Parse(user.Language); ok {
			return l
		}
	}
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// retryAfter formats seconds for a Retry-After header.
func retryAfter(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return strconv.Itoa(max(s, 1))
}

// backPath is where the language switch returns to: the page itself for a
// GET (filters included); for a page rendered in reply to a POST, the
// nearest path that can be fetched (/account/password → /account), never a
// 404.
func (h *Handler) backPath(r *http.Request) string {
	if r.Method == http.MethodGet {
		return r.URL.RequestURI()
	}
	for p := r.URL.Path; p != "/" && p != ""; p = path.Dir(p) {
		probe := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}, Host: r.Host}
		if _, pattern := h.mux.Handler(probe); pattern != "" && pattern != "/" {
			return p
		}
	}
	return "/"
}
