package garantitest

import (
	"net/http"
	"sort"
	"strings"

	"kasa/providers/faults"
)

// faultAnswers is what the control page can make the API answer instead of
// the real handler, so that the product's explanation of each can be seen:
// every E-code of the bank's catalogue in its apiError envelope, the 401 of
// rejected credentials, and the 429 of an exhausted plan or daily quota.
func faultAnswers() []faults.Answer {
	codes := make([]string, 0, len(messages))
	for c := range messages {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	out := make([]faults.Answer, 0, len(codes)+2)
	for _, code := range codes {
		out = append(out, faults.Answer{
			Key:   code,
			Label: "400 " + code + " " + strings.TrimSpace(strings.ReplaceAll(messages[code], "%s", "…")),
			Write: func(w http.ResponseWriter, r *http.Request) {
				writeAPIError(w, r, http.StatusBadRequest, code, "")
			},
		})
	}
	return append(out,
		faults.Answer{Key: "401", Label: "401 Invalid Credentials (token rejected)", Write: func(w http.ResponseWriter, r *http.Request) {
			unauthorized(w, r, "Access token is invalid or expired")
		}},
		faults.Answer{Key: "429", Label: "429 API plan limit exceeded (Retry-After: 60)", Write: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			writeAPIError(w, r, http.StatusTooManyRequests, "", "API plan limit exceeded")
		}},
	)
}
