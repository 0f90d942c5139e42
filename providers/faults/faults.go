// Package faults lets a fake provider server misbehave the way a real one
// does: slow answers, server errors, throttling, dropped connections and
// malformed bodies, any documented error answer of the provider (each fake
// brings its own catalogue of Answers), and lost replies: the provider acts,
// but its answer never arrives. Tests and the sandbox switch faults on and
// off at run time.
package faults

import (
	"io"
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
	answer    *Answer // a documented answer for the next answerLeft requests
	answerN   int     // <0: every request until Reset
	lost      int     // how many more requests lose their reply; <0: all
	delayed   int     // requests the latency has held since the last Reset
}

// Answer is one documented answer of a provider, such as an error code in
// its envelope, that a fake can give instead of the real handler's. Each
// fake builds its catalogue with its own wire types and writers.
type Answer struct {
	// Key identifies the answer in a catalogue and on the control page.
	Key string
	// Label says what the answer is, for the control page.
	Label string
	// Write writes the answer. It runs at the moment of the request, so it
	// may follow the fake's other switches (an envelope variant, say).
	Write http.HandlerFunc
}

// AnswerNext gives the next n requests answer a instead of the real
// handler's answer; n < 0 gives it to every request until Reset.
func (f *Faults) AnswerNext(n int, a Answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer, f.answerN = &a, n
}

// LoseReplies makes the next n requests lose their reply: the real handler
// runs, so the provider acts (a debt is created, a consent withdrawn), and
// then the connection is closed without an answer, as when a reply is lost
// on the way back. n < 0 loses every reply until Reset.
func (f *Faults) LoseReplies(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost = n
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
	f.answer, f.answerN, f.lost = nil, 0, 0
	f.delayed = 0
}

// State describes the faults in force, for a fake's control page.
type State struct {
	Latency   time.Duration
	Status    int
	Remaining int
	Drop      bool
	Malformed bool
	// Answer is the Key of the documented answer in force ("" for none),
	// for AnswerLeft more requests (<0: all).
	Answer     string
	AnswerLeft int
	// Lost is how many more requests lose their reply (<0: all).
	Lost int
	// Delayed counts the requests the latency has held since the last
	// Reset, the one still held included: a test sees by it that a request
	// has reached the provider.
	Delayed int
}

// State returns the faults in force.
func (f *Faults) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := State{Latency: f.latency, Status: f.status, Remaining: f.remaining, Drop: f.drop, Malformed: f.malformed, Lost: f.lost, Delayed: f.delayed}
	if f.answer != nil && f.answerN != 0 {
		st.Answer, st.AnswerLeft = f.answer.Key, f.answerN
	}
	return st
}

// fate is what one request meets.
type fate struct {
	latency   time.Duration
	status    int
	answer    *Answer
	lost      bool
	drop      bool
	malformed bool
}

// take decides what the next request meets and counts it.
func (f *Faults) take() fate {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft := fate{latency: f.latency, drop: f.drop, malformed: f.malformed}
	if ft.latency > 0 {
		f.delayed++
	}
	countDown := func(n *int) bool {
		if *n == 0 {
			return false
		}
		if *n > 0 {
			*n--
		}
		return true
	}
	switch {
	case ft.drop:
	case f.answer != nil && countDown(&f.answerN):
		ft.answer = f.answer
	case f.status != 0 && countDown(&f.remaining):
		ft.status = f.status
	case countDown(&f.lost):
		ft.lost = true
	}
	return ft
}

// Middleware applies the faults in force to each request before next sees it.
func (f *Faults) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft := f.take()
		if ft.latency > 0 {
			select {
			case <-time.After(ft.latency):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case ft.drop:
			hangUp(w)
		case ft.answer != nil:
			ft.answer.Write(w, r)
		case ft.status != 0:
			if ft.status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", strconv.Itoa(1))
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(ft.status)
			write(w, `{"message":"`+http.StatusText(ft.status)+`"}`)
		case ft.lost:
			// The provider does the work; only the reply goes missing.
			next.ServeHTTP(discard{h: http.Header{}}, r)
			hangUp(w)
		case ft.malformed:
			w.Header().Set("Content-Type", "application/json")
			write(w, `{"status":"success","result":{"items":[{"id":`)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// write sends a fault's body. A fake has no one to tell that the client
// hung up first, so a failed write is dropped.
func write(w http.ResponseWriter, body string) {
	_, _ = io.WriteString(w, body)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close() // dropping the connection is the point; how it went does not matter
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// discard is a ResponseWriter that throws the answer away: the reply that
// is lost on its way back.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}
