package vakifbank

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Message codes of the account movements API (seed: "Mesaj Kodları") and
// the gateway's success code.
const (
	CodeCompleted       = "APIGW000000" // the gateway's "Completed"
	CodeStartDateFormat = "ACBH000025"
	CodeEndDateFormat   = "ACBH000026"
	CodeAccountEmpty    = "ACBH000034"
	CodeAccountFormat   = "ACBH000035"
	CodeAccountNotOwned = "ACBH000104"
	CodeRangeTooLong    = "ACBH000134"
	CodeNoMovements     = "ACBH000202"
)

// MessageCode is one documented message code with the bank's Turkish text,
// which the UI shows next to its own explanation.
type MessageCode struct {
	Code string
	Text string
}

var knownCodes = []MessageCode{
	{CodeStartDateFormat, "Başlangıç tarihi formatı hatalıdır."},
	{CodeEndDateFormat, "Bitiş tarihi formatı hatalıdır."},
	{CodeAccountEmpty, "Hesap numarası boş olamaz."},
	{CodeAccountFormat, "Hesap numarası uygun formatta girilmelidir."},
	{CodeAccountNotOwned, "İşlem yapmak istediğiniz hesap oturumdaki müşteri numarasına ait değildir."},
	{CodeRangeTooLong, "Tarih aralığı maksimum 1 yıl olmalıdır."},
	{CodeNoMovements, "Seçilen tarih aralığında hesap hareketi bulunmamaktadır."},
}

// KnownCodes returns the documented ACBH message codes in the order of the
// bank's documentation. The slice is a copy; callers may keep it.
func KnownCodes() []MessageCode {
	return append([]MessageCode(nil), knownCodes...)
}

// MessageText returns the bank's Turkish text for a documented code.
func MessageText(code string) (string, bool) {
	for _, c := range knownCodes {
		if c.Code == code {
			return c.Text, true
		}
	}
	return "", false
}

// Error is a failed answer from VakıfBank: a non-2xx status, an ACBH
// message code, an OAuth error, or a body that could not be read.
type Error struct {
	Status    int    // HTTP status of the answer
	Code      string // ACBH message code, or the OAuth error ("invalid_client"); may be empty
	Message   string // the bank's description, as sent
	RequestID string // the X-Request-ID the call carried
	// Malformed is true when the body was not the JSON the contract
	// describes; such answers are treated as transient.
	Malformed bool
}

// Error describes the failure without secrets or response bodies.
func (e *Error) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		s = e.Code + " (" + s + ")"
	}
	if e.Malformed {
		s += " malformed response"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// Retryable reports whether the same call may succeed later: server errors,
// throttling and unreadable bodies are transient; validation, ownership and
// credential errors are not. A 2xx answer carrying a code that is not one of
// the documented ACBH refusals (a gateway code such as APIGW000500) is an
// unexplained failure of the bank's side, and is tried again.
func (e *Error) Retryable() bool {
	if e.Malformed || e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return true
	}
	if e.Status >= 200 && e.Status < 300 {
		_, refusal := MessageText(e.Code)
		return !refusal
	}
	return false
}

// IsRetryable reports whether err is worth retrying: a retryable *Error, or
// a transport failure (no answer arrived). A cancelled context is not.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable()
	}
	// Any other error comes from the transport: the connection was refused,
	// dropped or timed out before an answer could be read.
	return true
}

// ErrorCode returns the provider code carried by err (an ACBH code or an
// OAuth error), or "" when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
