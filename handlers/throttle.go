package handlers

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"kasa/i18n"
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
		if ok, wait := h.loginIP.allow(clientAddr(r, h.cfg.TrustProxy)); !ok {
			h.loginThrottled(w, r, views.LoginForm{Next: safeNext(r.URL.Query().Get("next"), "")}, wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loginThrottled shows the sign-in form again with 429 and how long to wait.
func (h *Handler) loginThrottled(w http.ResponseWriter, r *http.Request, form views.LoginForm, wait time.Duration) {
	lang := i18n.FromContext(r.Context())
	w.Header().Set("Retry-After", retryAfter(wait))
	form.Error = lang.T("login.throttled", humanDuration(lang, wait))
	h.render(w, r, http.StatusTooManyRequests, views.LoginPage(form))
}

// ipLimiter throttles sign-in attempts per client address.
type ipLimiter struct {
	mu       sync.Mutex
	every    time.Duration
	burst    int
	now      func() time.Time
	limiters map[string]*ipEntry
}

type ipEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(every time.Duration, burst int, now func() time.Time) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, now: now, limiters: map[string]*ipEntry{}}
}

// allow takes one attempt for addr; when none is left it says how long to wait.
func (l *ipLimiter) allow(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.limiters[addr]
	if !ok {
		e = &ipEntry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.limiters[addr] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets addresses idle for longer than idle.
func (l *ipLimiter) sweep(idle time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cutoff := l.now().Add(-idle)
	for k, e := range l.limiters {
		if e.seen.Before(cutoff) {
			delete(l.limiters, k)
		}
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

// unknownLogins counts failed sign-ins for emails that have no active
// account, and locks them as the database locks real accounts: otherwise a
// 429 after a few wrong passwords would tell which emails exist.
type unknownLogins struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]*unknownEntry
}

type unknownEntry struct {
	fails int
	until time.Time
	seen  time.Time
}

func newUnknownLogins(now func() time.Time) *unknownLogins {
	return &unknownLogins{now: now, entries: map[string]*unknownEntry{}}
}

// locked reports how long email stays locked, if it is.
func (u *unknownLogins) locked(email string) (time.Duration, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if e, ok := u.entries[strings.ToLower(email)]; ok && u.now().Before(e.until) {
		return e.until.Sub(u.now()), true
	}
	return 0, false
}

// fail counts a failure; after lockAfter in a row the email is locked for lockFor.
func (u *unknownLogins) fail(email string, lockAfter int, lockFor time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := strings.ToLower(email)
	e, ok := u.entries[k]
	if !ok {
		e = &unknownEntry{}
		u.entries[k] = e
	}
	now := u.now()
	e.fails++
	e.seen = now
	if e.fails >= lockAfter {
		e.until, e.fails = now.Add(lockFor), 0
	}
}

// sweep forgets emails idle for longer than idle and not locked.
func (u *unknownLogins) sweep(idle time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	for k, e := range u.entries {
		if e.seen.Before(now.Add(-idle)) && now.After(e.until) {
			delete(u.entries, k)
		}
	}
}
