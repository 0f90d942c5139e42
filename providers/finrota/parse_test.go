package finrota

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

var now = time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC)

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   Error
	}{
		{"status envelope", 404, jsonHeader(), `{"status":"error","message":"Invalid currencyId","messageCode":"404"}`,
			Error{Status: 404, Code: "404", Message: "Invalid currencyId"}},
		{"statusCode envelope", 409, jsonHeader(), `{"statusCode":409,"error":"Conflict","message":"erpCode used"}`,
			Error{Status: 409, Code: "409", Message: "erpCode used"}},
		{"statusCode without message", 409, jsonHeader(), `{"statusCode":409,"error":"Conflict"}`,
			Error{Status: 409, Code: "409", Message: "Conflict"}},
		{"field errors", 400, jsonHeader(), `{"status":"error","message":"Invalid","messageCode":"400","errors":{"amount":["must be > 0","bad"],"dueDate":"bad date"}}`,
			Error{Status: 400, Code: "400", Message: "Invalid", Fields: map[string][]string{"amount": {"must be > 0", "bad"}, "dueDate": {"bad date"}}}},
		{"problem details", 400, http.Header{"Content-Type": {"application/problem+json"}}, `{"title":"One or more validation errors occurred.","status":400,"errors":{"Amount":["The Amount field is required."]}}`,
			Error{Status: 400, Message: "One or more validation errors occurred.", Fields: map[string][]string{"Amount": {"The Amount field is required."}}}},
		{"error list", 422, jsonHeader(), `{"message":"x","errors":["a","b"]}`,
			Error{Status: 422, Message: "x", Fields: map[string][]string{"": {"a", "b"}}}},
		{"numeric messageCode", 404, jsonHeader(), `{"status":"error","message":"m","messageCode":404}`,
			Error{Status: 404, Code: "404", Message: "m"}},
		{"error as object", 500, jsonHeader(), `{"error":{"inner":1},"message":["odd"]}`,
			Error{Status: 500, Message: "Internal Server Error"}},
		{"html gateway", 502, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, `<html><body>Bad gateway</body></html>`,
			Error{Status: 502, Message: "unexpected text/html response"}},
		{"truncated json", 500, jsonHeader(), `{"message":"ha`, Error{Status: 500, Message: "unreadable error response: invalid JSON at byte 14"}},
		{"empty body with retry", 429, http.Header{"Retry-After": {"7"}}, ``, Error{Status: 429, Message: "Too Many Requests", RetryAfter: 7 * time.Second}},
		{"retry after date", 503, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, `{"message":"down"}`,
			Error{Status: 503, Message: "down", RetryAfter: 90 * time.Second}},
		{"retry after garbage", 429, http.Header{"Retry-After": {"soon"}}, `{}`, Error{Status: 429, Message: "Too Many Requests"}},
		{"error on 200", 200, jsonHeader(), `{"status":"error","message":"Invalid currencyId","messageCode":"404"}`,
			Error{Status: 200, Code: "404", Message: "Invalid currencyId"}},
		{"malformed 200", 200, jsonHeader(), `{"status":"success","result":{"items":[{"id":`,
			Error{Status: 200, Code: CodeMalformed, Message: "malformed response: invalid JSON at byte 45"}},
		{"200 without result", 200, jsonHeader(), `{"status":"success","message":""}`,
			Error{Status: 200, Code: CodeMalformed, Message: "malformed response: no result"}},
		{"wrong result type", 200, jsonHeader(), `{"status":"success","result":{"items":"nope"}}`,
			Error{Status: 200, Code: CodeMalformed, Message: "malformed response: unexpected string for items"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out pageWire
			err := parseResponse(tc.status, tc.header, []byte(tc.body), &out, now)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v", err)
			}
			if !reflect.DeepEqual(*e, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", *e, tc.want)
			}
		})
	}
}

func TestParseSuccess(t *testing.T) {
	body := `{"Result":{"Items":[{"ID":"6f1c","agentErpCode":"NT1","amount":"1550.00","paidAmount":12.5,
		"currentAccountErpCode":["ACC-1","ACC-2"],"currentAccountTransactionType":"Wire Transfer",
		"dueDate":"2025-08-05T22:30:00Z","transactionDate":"2025-08-05","currencyCode":"USD","erpCode":"E1",
		"isActive":true,"createdAt":"2025-10-01T15:32:46.2582116+03:00","updatedAt":"2025-10-01T15:32:46"}],
		"page":1,"pageSize":10,"totalCount":1},"status":"success","message":"","extra":{"ignored":true}}`
	var pw pageWire
	if err := parseResponse(200, jsonHeader(), []byte(body), &pw, now); err != nil {
		t.Fatal(err)
	}
	d := pw.Items[0].debt()
	created := time.Date(2025, 10, 1, 12, 32, 46, 258211600, time.UTC)
	if d.ID != "6f1c" || d.Amount.String() != "1550" || d.Amount.StringFixed(2) != "1550.00" || !d.PaidAmount.Equal(decimal.RequireFromString("12.50")) ||
		d.CurrentAccountErpCode != "ACC-1" || d.DocumentType != "Havale" || d.CurrencyID != "USD" ||
		!d.DueDate.Equal(time.Date(2025, 8, 6, 0, 0, 0, 0, time.UTC)) || !d.TransactionDate.Equal(time.Date(2025, 8, 5, 0, 0, 0, 0, time.UTC)) ||
		!d.CreatedAt.Equal(created) || !d.UpdatedAt.Equal(created.Truncate(time.Second)) || !d.IsActive {
		t.Fatalf("%+v", d)
	}
}

func TestRequestAmountsAreExact(t *testing.T) {
	d := Debt{Amount: decimal.RequireFromString("1550"), PaidAmount: decimal.RequireFromString("0.1"),
		DueDate: time.Date(2025, 9, 20, 23, 30, 0, 0, time.UTC), TransactionDate: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)}
	req, err := newDebtRequest(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(req)
	for _, want := range []string{`"amount":1550.00`, `"paidAmount":0.10`, `"dueDate":"2025-09-20"`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("%s lacks %s", b, want)
		}
	}
	var back debtWire
	if err := json.Unmarshal(b, &back); err != nil || decimal.Decimal(back.Amount).StringFixed(2) != "1550.00" {
		t.Fatalf("round trip: %v %v", err, back.Amount)
	}
}

func FuzzParseResponse(f *testing.F) {
	seeds := []struct {
		status int
		body   string
	}{
		{200, `{"result":{"items":[{"id":"x","amount":1550.00,"paidAmount":"0","currentAccountErpCode":["a"],"dueDate":"2025-09-20"}],"page":1,"pageSize":10,"totalCount":1},"status":"success"}`},
		{200, `{"result":{"items":[{"amount":"1e99999"}]}}`},
		{200, `{"status":"error","messageCode":{"x":1}}`},
		{200, `{"status":"success","result":{"items":[{"id":`},
		{404, `{"status":"error","message":"Invalid currencyId","messageCode":"404"}`},
		{409, `{"statusCode":409,"error":"Conflict","message":"dup"}`},
		{400, `{"status":"error","message":"bad","messageCode":"400","errors":{"amount":["x"],"b":"y","c":[1,null,{}]}}`},
		{502, `<html>bad gateway</html>`},
		{500, ``},
		{429, `null`},
		{401, `"just a string"`},
		{400, `{"errors":[1,"a"]}`},
	}
	for _, s := range seeds {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 100 + (status%500+500)%500
		}
		var pw pageWire
		err := parseResponse(status, http.Header{"Retry-After": {"1"}}, body, &pw, now)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error of type %T", err)
		}
		if status >= 200 && status <= 299 {
			if err == nil {
				for _, w := range pw.Items {
					w.debt() // must not panic
				}
			}
			return
		}
		if e == nil || e.Status != status || e.Message == "" || !utf8.ValidString(e.Error()) && utf8.Valid(body) {
			t.Fatalf("status %d body %q: %#v", status, body, err)
		}
		if e.Code != "" && len(e.Code) > 40 || len(e.Message) > 520 {
			t.Fatalf("unbounded error text: %q %q", e.Code, e.Message)
		}
	})
}
