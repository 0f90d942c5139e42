package finrota

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Error is a non-successful answer from Finrota, from either of its error
// envelopes, or a response the client could not understand.
type Error struct {
	// Status is the HTTP status (200 when a successful status carried an
	// error or unreadable body).
	Status int
	// Code is Finrota's own code (messageCode or statusCode), "malformed"
	// for an unreadable success body, or "" when the provider gave none.
	Code    string
	Message string
	// RequestID is the X-Request-ID the client sent, for support tickets.
	RequestID string
	// Fields holds field-level validation messages, keyed by the field name
	// Finrota used.
	Fields map[string][]string
	// RetryAfter is how long Finrota asked the caller to wait (429, 503).
	RetryAfter time.Duration
}

// CodeMalformed is the Code of an Error for a body the client could not read.
const CodeMalformed = "malformed"

// Error describes the failure as "409 Conflict: message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Code != "" && e.Code != strconv.Itoa(e.Status) {
		fmt.Fprintf(&b, " (code %s)", e.Code)
	}
	names := make([]string, 0, len(e.Fields))
	for name := range e.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "; %s: %s", name, strings.Join(e.Fields[name], " "))
	}
	return b.String()
}

// Unwrap lets errors.Is match the sentinel that explains the status to the
// user: ErrCredentialsRejected for 401 (only ever returned after a renewed
// token was rejected too), ErrForbidden for 403.
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrCredentialsRejected
	case http.StatusForbidden:
		return ErrForbidden
	}
	return nil
}

var (
	// ErrCredentialsRejected means Finrota refused the API keys or a freshly
	// issued token: wrong keys, or keys of another environment (demo/prod).
	ErrCredentialsRejected = errors.New("credentials rejected or wrong environment")
	// ErrForbidden means the licence is not active, the endpoint is not
	// enabled under "Service Permissions", or a per-minute limit was hit.
	ErrForbidden = errors.New("forbidden: check that the CAT API licence is active, the endpoint is enabled under Service Permissions, and the per-minute request limit")
	// ErrNotFound is returned by the single-debt reads when Finrota has no
	// matching debt (it answers 200 with an empty list).
	ErrNotFound = errors.New("debt not found")
	// ErrInvalidArgument is returned before any request is made when the
	// caller's input cannot be sent as it is.
	ErrInvalidArgument = errors.New("invalid argument")
)

// IsNotFound reports whether err means the debt, or a record it refers to
// (agent, current account, currency), does not exist at Finrota.
func IsNotFound(err error) bool {
	var e *Error
	return errors.Is(err, ErrNotFound) || errors.As(err, &e) && e.Status == http.StatusNotFound
}

// IsConflict reports whether Finrota refused an ERP code as already used. The
// outbox treats it after a lost reply by reading the record back.
func IsConflict(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusConflict
}

// IsRetryable reports whether the same call may succeed later: server errors,
// throttling, unreadable responses and transport failures. Refusals of the
// input or the credentials are permanent; retrying them only repeats them.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrInvalidArgument) || errors.Is(err, ErrNotFound) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Code == CodeMalformed
	}
	var te *transportError
	return errors.As(err, &te)
}

// transportError marks a request that got no response.
type transportError struct{ err error }

func (t *transportError) Error() string { return t.err.Error() }
func (t *transportError) Unwrap() error { return t.err }

// envelope is every shape Finrota answers with. RawMessage fields keep one
// odd value (a numeric status, an object where a string was expected) from
// hiding the rest of an error.
type envelope struct {
	Result      json.RawMessage `json:"result"`
	Status      json.RawMessage `json:"status"`
	StatusCode  json.RawMessage `json:"statusCode"`
	Error       json.RawMessage `json:"error"`
	Title       json.RawMessage `json:"title"`
	Message     json.RawMessage `json:"message"`
	MessageCode json.RawMessage `json:"messageCode"`
	Errors      json.RawMessage `json:"errors"`
}

// parseResponse turns a response into the result (decoded into out, when
// out is not nil) or an *Error. It never panics, whatever the body.
func parseResponse(status int, header http.Header, body []byte, out any, now time.Time) error {
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if status < 200 || status > 299 {
		return parseError(status, header, body, env, jsonErr, now)
	}
	if jsonErr != nil {
		return &Error{Status: status, Code: CodeMalformed, Message: "malformed response: " + shortJSONError(jsonErr)}
	}
	if s := rawText(env.Status); strings.EqualFold(s, "error") || strings.EqualFold(s, "fail") {
		return errorFromEnvelope(status, header, env, now)
	}
	if out == nil {
		return nil
	}
	if len(env.Result) == 0 || string(env.Result) == "null" {
		return &Error{Status: status, Code: CodeMalformed, Message: "malformed response: no result"}
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return &Error{Status: status, Code: CodeMalformed, Message: "malformed response: " + shortJSONError(err)}
	}
	return nil
}

func parseError(status int, header http.Header, body []byte, env envelope, jsonErr error, now time.Time) *Error {
	if jsonErr == nil {
		return errorFromEnvelope(status, header, env, now)
	}
	e := &Error{Status: status, RetryAfter: retryAfter(header, now)}
	ct, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		e.Message = http.StatusText(status)
	case ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json"):
		e.Message = "unexpected " + ct + " response"
	default:
		e.Message = "unreadable error response: " + shortJSONError(jsonErr)
	}
	if e.Message == "" {
		e.Message = "unexpected response"
	}
	return e
}

func errorFromEnvelope(status int, header http.Header, env envelope, now time.Time) *Error {
	e := &Error{
		Status:     status,
		Code:       firstNonEmpty(rawText(env.MessageCode), rawText(env.StatusCode)),
		Message:    firstNonEmpty(rawText(env.Message), rawText(env.Error), rawText(env.Title), http.StatusText(status)),
		Fields:     rawFields(env.Errors),
		RetryAfter: retryAfter(header, now),
	}
	if e.Message == "" {
		e.Message = "unexpected response"
	}
	return e
}

// rawText returns a JSON string or number as text, anything else as "".
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return truncate(s, 500)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return truncate(n.String(), 40)
		}
	}
	return ""
}

// rawFields reads validation errors as {"field": ["msg"]}, {"field": "msg"}
// or ["msg"] (kept under "").
func rawFields(raw json.RawMessage) map[string][]string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	fields := map[string][]string{}
	var byField map[string]json.RawMessage
	var list []json.RawMessage
	switch {
	case json.Unmarshal(raw, &byField) == nil:
		for name, v := range byField {
			var msgs []json.RawMessage
			if json.Unmarshal(v, &msgs) != nil {
				msgs = []json.RawMessage{v}
			}
			for _, m := range msgs {
				if s := rawText(m); s != "" {
					fields[name] = append(fields[name], s)
				}
			}
		}
	case json.Unmarshal(raw, &list) == nil:
		for _, m := range list {
			if s := rawText(m); s != "" {
				fields[""] = append(fields[""], s)
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return fields
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// shortJSONError names what was wrong without quoting the body, which may
// hold personal data.
func shortJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("unexpected %s for %s", te.Value, truncate(te.Field, 60))
	}
	return truncate(err.Error(), 120)
}
