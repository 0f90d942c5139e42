package garantitest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kasa/tz"
)

// messages is the bank's error catalogue (E001–E061 as far as the seed gives
// them), with the texts the bank answers in apiResponseInfo. It is the fake's
// own copy on purpose: the client's catalogue is checked against it in tests.
var messages = map[string]string{
	"E001": " ConsentID field length must be 36 characters!",
	"E003": "Error Max Character. Server was unable to process request : CustomerNum",
	"E004": "This field can not be empty : ProductID",
	"E005": "Error Max Character. Server was unable to process request : ProductID",
	"E006": "Missing request body AuthorityID for method parameter of type String",
	"E007": "Error Max Character. Server was unable to process request : AuthorityID",
	"E008": "Missing request body authorityFLAG for method parameter of type String",
	"E009": "Error authorityFLAG. authorityFLAG must be true",
	"E010": "Error authorityAttribute. If authorityAttributeName is null, authorityAttribute must be null",
	"E011": "Error authorityAttributeName. If authorityAttribute is null, authorityAttributeName must be null",
	"E012": "Error Max Character. Server was unable to process request : AuthorityAttributeName",
	"E013": "Error Max Character. Server was unable to process request : AuthorityAttribute",
	"E014": "Error Max Character. Server was unable to process request : ClientID",
	"E015": "Error Max Character. Server was unable to process request : ClientIDPortal",
	"E016": "Error Max Character. Server was unable to process request : TPPID",
	"E017": "Error Max Character. Server was unable to process request : TPPName",
	"E020": "Error Max Character. Server was unable to process request : FrequencyPerDay",
	"E022": "Error frequencyPerDay.If recurringIndicator is false, frequencyPerDay must be 1",
	"E023": "Error Valid Date. Server was unable to process request : validationDate",
	"E024": "Unrecognised Field : AuthorityFlag",
	"E025": "The same authorityId must only be sent once ",
	"E026": "Unrecognised Field : authorityFLAG",
	"E027": "Unrecognised Field : authorityAttributeName",
	"E028": "Unrecognised Field : authorityAttribute",
	"E029": "This AuthorityID not found : %s",
	"E031": "Error ConsentID OR consentStatus OR authorityID OR authorityName! ConsentID :%s",
	"E032": "Error ConsentID OR ClientID! ConsentID :%s ClientID: %s",
	"E033": "Consent Status is not Waiting For Consent ID :%s ClientID: %s",
	"E040": "Error Valid Date. Server was unable to process request : tranEndDate",
	"E041": "Error valid date. Server was unable to process request (mount) : tranBeginDate",
	"E042": "tranEndDate can not be smaller than tranBeginDate!",
	"E043": "Validation Parameter is not found for AuthorityID : %s",
	"E044": "Validation date cannot be greater than %s days from today's date",
	"E045": "Customer number cannot be empty",
	"E046": "Product id cannot be empty",
	"E047": "Only one product must be selected",
	"E048": "Start date cannot be greater than end date",
	"E049": "Date format is incorrect",
	"E050": "Date range cannot be longer than 1 year",
	"E051": "Date information entered incorrectly",
	"E052": "Customer has no consent for this product",
	"E053": "Authority request cannot be empty",
	"E054": "Invalid authority id",
	"E055": "Product has no authority",
	"E056": "Product has no authority for HgsTransactionInfo",
	"E057": "Product has no authority for HgsProductInfo",
	"E058": "HGS product list service call error",
	"E059": "HGS transaction list service call error",
	"E060": "HGS product list main service error",
	"E061": "HGS transaction list main service error",
}

// Authority IDs the fake knows. The seed names them only in E056/E057.
const (
	AuthorityProductInfo     = "HgsProductInfo"
	AuthorityTransactionInfo = "HgsTransactionInfo"
)

// authorityAttributes are the attribute names an authority accepts (E043
// otherwise): "productId" narrows the grant to one tag.
var authorityAttributes = map[string][]string{
	AuthorityProductInfo:     {"productId"},
	AuthorityTransactionInfo: {"productId"},
}

// Field limits the fake applies to the "Error Max Character" codes. The seed
// names the codes, not the numbers; these are generous but finite.
const (
	maxIDLen        = 64  // Client-ID (E014), Client-ID-Portal (E015), TPP-ID (E016)
	maxTPPNameLen   = 100 // E017
	maxAuthorityLen = 50  // E007
	maxAttrLen      = 50  // E012, E013
	maxProductIDLen = 20  // E005
	consentIDLen    = 36  // E001
)

// chars counts characters, not bytes: the bank's limits are "Max
// Character", and a Turkish company name has letters of two bytes.
func chars(s string) int { return utf8.RuneCountInString(s) }

// apiErrorBody is the bank's error envelope.
type apiErrorBody struct {
	APIError apiError `json:"apiError"`
}

type apiError struct {
	Code        int         `json:"code"`
	Info        string      `json:"info"`
	APIResponse apiResponse `json:"apiResponse"`
}

type apiResponse struct {
	Code string `json:"apiResponseCode"`
	Info string `json:"apiResponseInfo"`
}

// statusInfo is apiError.info per HTTP status, from the seed's return codes.
func statusInfo(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Invalid Credentials"
	case http.StatusTooManyRequests:
		return "API plan limit exceeded"
	default:
		return http.StatusText(status)
	}
}

// writeAPIError answers with the bank's envelope. info defaults to the
// catalogue text of code, with args filled into its placeholders.
func writeAPIError(w http.ResponseWriter, _ *http.Request, status int, code, info string, args ...string) {
	if info == "" {
		info = messages[code]
		for _, a := range args {
			info = strings.Replace(info, "%s", a, 1)
		}
		info = strings.ReplaceAll(info, "%s", "")
	}
	writeJSON(w, status, apiErrorBody{apiError{Code: status, Info: statusInfo(status), APIResponse: apiResponse{Code: code, Info: info}}})
}

// fail is writeAPIError with 400 and the catalogue text.
func fail(w http.ResponseWriter, r *http.Request, code string, args ...string) {
	writeAPIError(w, r, http.StatusBadRequest, code, "", args...)
}

// unauthorized answers 401: the catalogue has no codes for credential
// failures, so apiResponseCode stays empty and the info says what failed.
func unauthorized(w http.ResponseWriter, r *http.Request, why string) {
	writeAPIError(w, r, http.StatusUnauthorized, "", why)
}

// oauthError is the RFC 6749 error body the token endpoints answer with; they
// are OAuth gateway endpoints rather than the apiError-speaking services.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// parseDate reads an ISODate (2006-01-02) as an Istanbul calendar day.
func parseDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(dateLayout, strings.TrimSpace(s), tz.Istanbul)
	return t, err == nil
}

// consentBody is the create-consent request.
type consentBody struct {
	RecurringIndicator bool              `json:"recurringIndicator"`
	ValidationDate     string            `json:"validationDate"`
	FrequencyPerDay    json.Number       `json:"frequencyPerDay"`
	TranBeginDate      string            `json:"tranBeginDate"`
	TranEndDate        string            `json:"tranEndDate"`
	AuthorityList      []json.RawMessage `json:"authorityConsentList"`
}

type authorityItem struct {
	AuthorityID   string `json:"authorityID"`
	AttributeName string `json:"authorityAttributeName"`
	Attribute     string `json:"authorityAttribute"`
}

// ruleError is a rejected request: the code and the catalogue arguments.
type ruleError struct {
	code string
	args []string
}

// validateConsent applies the bank's create-consent rules in the order the
// catalogue numbers them, returning the parsed consent terms.
func (s *Server) validateConsent(b consentBody, now time.Time) (*consent, *ruleError) {
	freq, err := strconv.Atoi(b.FrequencyPerDay.String())
	if err != nil || freq < 1 || freq > s.opts.MaxFrequencyPerDay {
		return nil, &ruleError{code: "E020"}
	}
	if !b.RecurringIndicator && freq != 1 {
		return nil, &ruleError{code: "E022"}
	}
	today := day(now)
	valid, ok := parseDate(b.ValidationDate)
	if !ok || valid.Before(today) {
		return nil, &ruleError{code: "E023"}
	}
	if valid.After(today.AddDate(0, 0, s.opts.MaxValidationDays)) {
		return nil, &ruleError{code: "E044", args: []string{strconv.Itoa(s.opts.MaxValidationDays)}}
	}
	begin, ok := parseDate(b.TranBeginDate)
	if !ok {
		return nil, &ruleError{code: "E041"}
	}
	end, ok := parseDate(b.TranEndDate)
	if !ok {
		return nil, &ruleError{code: "E040"}
	}
	if end.Before(begin) {
		return nil, &ruleError{code: "E042"}
	}
	if end.After(begin.AddDate(1, 0, 0)) {
		return nil, &ruleError{code: "E050"}
	}
	if len(b.AuthorityList) == 0 {
		return nil, &ruleError{code: "E006"}
	}
	c := &consent{recurring: b.RecurringIndicator, frequency: freq, validationDate: valid, tranBegin: begin, tranEnd: end}
	seen := map[string]bool{}
	for _, raw := range b.AuthorityList {
		var keys map[string]json.RawMessage
		var item authorityItem
		if json.Unmarshal(raw, &keys) != nil || json.Unmarshal(raw, &item) != nil {
			return nil, &ruleError{code: "E006"}
		}
		// The flag is the customer's to give, not the TPP's to send.
		for k := range keys {
			switch {
			case k == "authorityFLAG":
				return nil, &ruleError{code: "E026"}
			case strings.EqualFold(k, "authorityFlag"):
				return nil, &ruleError{code: "E024"}
			}
		}
		item.AuthorityID = strings.TrimSpace(item.AuthorityID)
		switch {
		case item.AuthorityID == "":
			return nil, &ruleError{code: "E006"}
		case len(item.AuthorityID) > maxAuthorityLen:
			return nil, &ruleError{code: "E007"}
		case item.AttributeName == "" && item.Attribute != "":
			return nil, &ruleError{code: "E010"}
		case item.Attribute == "" && item.AttributeName != "":
			return nil, &ruleError{code: "E011"}
		case len(item.AttributeName) > maxAttrLen:
			return nil, &ruleError{code: "E012"}
		case len(item.Attribute) > maxAttrLen:
			return nil, &ruleError{code: "E013"}
		case seen[item.AuthorityID]:
			return nil, &ruleError{code: "E025"}
		}
		allowed, known := authorityAttributes[item.AuthorityID]
		if !known {
			return nil, &ruleError{code: "E029", args: []string{item.AuthorityID}}
		}
		if item.AttributeName != "" && !contains(allowed, item.AttributeName) {
			return nil, &ruleError{code: "E043", args: []string{item.AuthorityID}}
		}
		seen[item.AuthorityID] = true
		c.authorities = append(c.authorities, item)
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
