package handlers

import (
	"net"
	"net/http"
	"strings"
	"time"

	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

// throttleSignIn applies the per-address limit to sign-in attempts before
// the body is read: a flood from one address costs a lookup each, not a
// parse and a password hash. The refused attempt's form is not read, so the
// page shown cannot repeat the typed email.
func (h *Handler) throttleSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/login" {
			next.ServeHTTP(w, r)
			return
		}
		wait, err := h.store.TakeAddressAttempt(r.Context(), clientAddr(r, h.cfg.TrustProxy), h.loginLimits())
		if err != nil {
			h.serverError(w, r, errorf("login", err))
			return
		}
		if wait > 0 {
			h.loginThrottled(w, r, views.LoginForm{Next: safeNext(r.URL.Query().Get("next"), "")}, "login.throttled", wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loginThrottled shows the sign-in form again with 429, the message key
// (which says why) and how long to wait.
func (h *Handler) loginThrottled(w http.ResponseWriter, r *http.Request, form views.LoginForm, key string, wait time.Duration) {
	lang := i18n.FromContext(r.Context())
	w.Header().Set("Retry-After", retryAfter(wait))
	form.Error = lang.T(key, humanDuration(lang, wait))
	h.render(w, r, http.StatusTooManyRequests, views.LoginPage(form))
}

// loginLimits are the throttling rules of the configuration.
func (h *Handler) loginLimits() store.LoginLimits {
	return store.LoginLimits{
		AddressBurst: h.cfg.LoginBurst, AddressEvery: h.cfg.LoginEvery,
		DelayAfter: h.cfg.DelayAfter, DelayBase: h.cfg.DelayBase, DelayMax: h.cfg.DelayMax,
		LockAfter: h.cfg.LockAfter, LockFor: h.cfg.LockFor,
	}
}

// clientAddr is the address the request came from. Behind a reverse proxy
// (trustProxy) it is the last address in X-Forwarded-For, the one our proxy
// appended; earlier entries are the client's to forge. Without a proxy the
// header is ignored, since any client can set it.
func clientAddr(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
