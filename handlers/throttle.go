package handlers

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

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

// clientAddr is the address the request came from. The product is served
// directly or behind a proxy that overwrites RemoteAddr; forwarded headers
// are not trusted, since any client can set them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
