// Package apicall records every outbound call a provider client makes: one
// shared http.RoundTripper notes when the call started, which provider and
// operation it served, the HTTP status, how long it took, its X-Request-ID and
// the provider's error code. It never sees secrets or bodies: the client names
// the operation through the request context and reports the provider error
// code it parsed before closing the response body.
package apicall

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Call is one recorded outbound request.
type Call struct {
	At        time.Time
	Provider  string
	Operation string
	Method    string
	Status    int // 0 when no response arrived
	Duration  time.Duration
	RequestID string
	ErrorCode string // the provider's own code (E052, ACBH000104, 409…), if any
	Failure   string // transport failure without the URL, if no response arrived
}

// Recorder stores recorded calls. RecordCall must not block for long: it runs
// on the client's goroutine when the response body is closed.
type Recorder interface {
	RecordCall(ctx context.Context, c Call)
}

// RecorderFunc adapts a function to Recorder.
type RecorderFunc func(ctx context.Context, c Call)

// RecordCall calls f.
func (f RecorderFunc) RecordCall(ctx context.Context, c Call) { f(ctx, c) }

type info struct {
	provider, operation string

	mu        sync.Mutex
	errorCode string
}

type ctxKey struct{}

// WithOperation returns a context that names the provider and operation of
// the requests made with it. Clients call it once per logical call.
func WithOperation(ctx context.Context, provider, operation string) context.Context {
	return context.WithValue(ctx, ctxKey{}, &info{provider: provider, operation: operation})
}

// SetErrorCode records the provider error code parsed from a response. Call
// it before closing the response body, which is when the call is recorded.
func SetErrorCode(ctx context.Context, code string) {
	if in, ok := ctx.Value(ctxKey{}).(*info); ok {
		in.mu.Lock()
		in.errorCode = code
		in.mu.Unlock()
	}
}

// Transport records every request it carries into Recorder.
type Transport struct {
	Base     http.RoundTripper // http.DefaultTransport when nil
	Recorder Recorder          // calls are not recorded when nil
	Now      func() time.Time  // time.Now when nil
}

// RoundTrip performs the request and records it once its body is closed
// (or at once, when no response arrived).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	now := t.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	in, _ := req.Context().Value(ctxKey{}).(*info)
	record := func(status int, failure string) {
		if t.Recorder == nil {
			return
		}
		c := Call{
			At:        start,
			Method:    req.Method,
			Status:    status,
			Duration:  now().Sub(start),
			RequestID: req.Header.Get("X-Request-ID"),
			Failure:   failure,
		}
		if in != nil {
			c.Provider, c.Operation = in.provider, in.operation
			in.mu.Lock()
			c.ErrorCode = in.errorCode
			in.mu.Unlock()
		} else {
			c.Provider, c.Operation = req.URL.Host, req.URL.Path
		}
		t.Recorder.RecordCall(context.WithoutCancel(req.Context()), c)
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		record(0, failureText(err))
		return nil, err
	}
	resp.Body = &recordingBody{ReadCloser: resp.Body, done: func() { record(resp.StatusCode, "") }}
	return resp, nil
}

// failureText describes a transport error without its URL, which may carry
// query parameters.
func failureText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

type recordingBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *recordingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

type requestIDKey struct{}

// WithRequestID fixes the X-Request-ID of the calls made with ctx, so that a
// retry of one logical call (a job's next attempt) carries the same id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id fixed by WithRequestID, or a fresh UUID.
func RequestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		return id
	}
	return uuid.NewString()
}
