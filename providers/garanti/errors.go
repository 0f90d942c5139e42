package garanti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Error is an answer from the bank that is not a success: the apiError
// envelope of the API services, the OAuth error of the token endpoints, a
// gateway's own body, or a body the client could not read.
type Error struct {
	// Status is the HTTP status (a 2xx when a success status carried an
	// error envelope or an unreadable body).
	Status int
	// Code is the bank's apiResponseCode (E001–E061), the OAuth error
	// (invalid_grant…), CodeMalformed for an unreadable body, or "" when
	// the bank gave none (401s and gateway errors).
	Code string
	// Info is the bank's explanation, trimmed; never a secret of ours.
	Info string
	// RequestID is the X-Request-ID the client sent, for support tickets.
	RequestID string
	// RetryAfter is how long the bank asked the caller to wait (429, 503).
	RetryAfter time.Duration
}

// CodeMalformed is the Code of an Error for a body the client could not
// read or understand.
const CodeMalformed = "malformed"

// Error describes the failure as "400 Bad Request: E052 Customer has no
// consent for this product (request …)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(e.Status))
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Code != "" || e.Info != "" {
		b.WriteString(":")
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Info != "" {
		b.WriteString(" " + e.Info)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.RequestID)
	}
	return b.String()
}

// errorEnvelope covers every error body the bank's endpoints are known to
// send: apiError from the services, RFC 6749 errors from the OAuth
// gateway, and a bare message from gateways in front of both.
type errorEnvelope struct {
	APIError *struct {
		Info        string `json:"info"`
		APIResponse struct {
			Code string `json:"apiResponseCode"`
			Info string `json:"apiResponseInfo"`
		} `json:"apiResponse"`
	} `json:"apiError"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
}

// parseError turns an error response into *Error. It never fails: an
// unreadable body still yields the status and the request id.
func parseError(status int, h http.Header, body []byte, reqID string) *Error {
	e := &Error{Status: status, RequestID: reqID}
	if h != nil {
		e.RetryAfter = retryAfter(h.Get("Retry-After"))
	}
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		e.Info = http.StatusText(status)
		if status >= 200 && status < 300 {
			e.Code = CodeMalformed
		}
		return e
	}
	switch {
	case env.APIError != nil:
		e.Code = clean(env.APIError.APIResponse.Code, 16)
		e.Info = clean(env.APIError.APIResponse.Info, 300)
		if e.Info == "" {
			e.Info = clean(env.APIError.Info, 300)
		}
	case env.Error != "":
		e.Code = clean(env.Error, 40)
		e.Info = clean(env.ErrorDescription, 300)
	default:
		e.Info = clean(env.Message, 300)
	}
	if e.Info == "" {
		e.Info = http.StatusText(status)
	}
	return e
}

// clean trims s, drops control characters and bounds its length, so a
// hostile or broken body cannot flood logs or pages.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max])
	}
	return s
}

// retryAfter reads Retry-After as seconds or as an HTTP date.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// IsCode reports whether err is a *Error with the given code (an E-code or
// an OAuth error such as "invalid_grant").
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// IsUnauthorized reports whether the bank refused the credentials or token
// (401): the caller should refresh the token once, then ask the user to
// connect again.
func IsUnauthorized(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusUnauthorized
}

// retryableCodes are the bank's own back-end failures, which it answers with
// 400 although nothing is wrong with the request.
var retryableCodes = map[string]bool{"E058": true, "E059": true, "E060": true, "E061": true}

// IsRetryable reports whether trying the same call again later may succeed:
// throttling (429, including an exceeded frequencyPerDay), server errors,
// unreadable bodies, the bank's HGS back-end errors (E058–E061) and network
// failures. Everything else (validation E-codes, 401, 404) is permanent
// until something changes.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusTooManyRequests || e.Status >= 500 ||
			e.Code == CodeMalformed || retryableCodes[e.Code]
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
