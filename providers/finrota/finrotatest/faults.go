package finrotatest

import (
	"net/http"
	"strconv"

	"kasa/providers/faults"
)

// faultAnswers is what the control page can make the API answer instead of
// the real handler, so that the product's message for each can be seen:
// every 4xx status of CONTRACTS.md §1.6 in both of Finrota's envelopes, the
// application's {"status":"error","message","messageCode"} and the
// gateway's {"statusCode","error","message"}.
func faultAnswers() []faults.Answer {
	cases := []struct {
		status int
		msg    string
	}{
		{http.StatusBadRequest, "Invalid currencyId"},
		{http.StatusUnauthorized, "The token is not valid for this environment."},
		{http.StatusForbidden, "The licence is not active, the endpoint is not enabled under Service Permissions, or the per-minute request limit was hit."},
		{http.StatusNotFound, "Current account transaction not found."},
		{http.StatusConflict, "A current account transaction with this erpCode already exists."},
		{http.StatusUnprocessableEntity, "The request could not be processed."},
		{http.StatusTooManyRequests, "API calls quota exceeded! maximum admitted 60 per 1m."},
	}
	var out []faults.Answer
	for _, c := range cases {
		code := strconv.Itoa(c.status)
		retry := func(w http.ResponseWriter) {
			if c.status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "30")
			}
		}
		out = append(out,
			faults.Answer{Key: code + "-status", Label: code + ` {"status":"error","messageCode":"` + code + `"}: ` + c.msg,
				Write: func(w http.ResponseWriter, r *http.Request) {
					retry(w)
					writeStatus(w, c.status, c.msg)
				}},
			faults.Answer{Key: code + "-gateway", Label: code + ` {"statusCode":` + code + `,"error":"` + http.StatusText(c.status) + `"}: ` + c.msg,
				Write: func(w http.ResponseWriter, r *http.Request) {
					retry(w)
					writeGateway(w, c.status, c.msg)
				}},
		)
	}
	return out
}
