// Package faults lets a fake provider server misbehave the way a real one
// does: slow answers, server errors, throttling, dropped connections and
// malformed bodies. Tests and the sandbox switch faults on and off at run time.
package faults

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults is a set of switchable failures; the zero value injects none and is
// safe for concurrent use.
type Faults struct {
	mu        sync.Mutex
	latency   time.Duration
	status    int // status to answer with instead of the real handler
	remaining int // how many more requests get status; <0 means every one
	drop      bool
	malformed bool
}

// SetLatency delays every answer by d.
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// FailNext answers the next n requests with status (5xx, or 429 with
// Retry-After: 1). n < 0 fails every request until Reset.
func (f *Faults) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.remaining = status, n
}

// Down fails every request with 503 until Reset: the provider is unreachable
// for practical purposes.
func (f *Faults) Down() { f.FailNext(-1, http.StatusServiceUnavailable) }

// DropConnections closes connections without answering while on is true.
func (f *Faults) DropConnections(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop = on
}

// Malformed answers 200 with a truncated JSON body while on is true.
func (f *Faults) Malformed(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.malformed = on
}

// Reset switches every fault off.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency, f.status, f.remaining, f.drop, f.malformed = 0, 0, 0, false, false
}

// State describes the faults in force, for a fake's control page.
type State struct {
	Latency   time.Duration
	Status    int
	Remaining int
	Drop      bool
	Malformed bool
}

// State returns the faults in force.
func (f *Faults) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return State{f.latency, f.status, f.remaining, f.drop, f.malformed}
}

// take decides what the next request meets.
func (f *Faults) take() (latency time.Duration, status int, drop, malformed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != 0 && f.remaining != 0 {
		status = f.status
		if f.remaining > 0 {
			f.remaining--
		}
	}
	return f.latency, status, f.drop, f.malformed
}

// Middleware applies the faults in force to each request before next sees it.
func (f *Faults) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		latency, status, drop, malformed := f.take()
		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case drop:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case status != 0:
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", strconv.Itoa(1))
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(`{"message":"` + http.StatusText(status) + `"}`))
		case malformed:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"success","result":{"items":[{"id":`))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
