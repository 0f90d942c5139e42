package finrotatest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	e := newEnv(t, Options{TokenLifetime: 90 * time.Second})
	status, _, body := e.raw("POST", "/auth/api/token/connect", `{"ApiKey":"`+SandboxAPIKey+`","SECRETKEY":"`+SandboxSecretKey+`"}`, nil)
	if status != 200 || body["type"] != "Bearer" || body["expiry"] != "2025-10-01T12:01:30Z" || !strings.Contains(body["token"].(string), ".") {
		t.Fatalf("token: %d %v", status, body)
	}
	if body["token"] == e.token {
		t.Fatal("tokens repeat")
	}
	cases := []struct {
		name, body, contentType string
		status                  int
	}{
		{"wrong secret", `{"apiKey":"` + SandboxAPIKey + `","secretKey":"nope"}`, "application/json", 401},
		{"wrong key", `{"apiKey":"demo","secretKey":"` + SandboxSecretKey + `"}`, "application/json", 401},
		{"missing secret", `{"apiKey":"` + SandboxAPIKey + `"}`, "application/json", 400},
		{"not json", `apiKey=x`, "application/json", 400},
		{"form", `{}`, "text/plain", 415},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.raw("POST", "/auth/api/token/connect", tc.body, map[string]string{"Content-Type": tc.contentType})
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if status == 415 {
				wantGatewayEnvelope(t, 415, body)
			} else {
				wantStatusEnvelope(t, status, body, "")
			}
		})
	}
}

func TestBearerRules(t *testing.T) {
	e := newEnv(t, Options{TokenLifetime: time.Minute})
	cases := []struct {
		name, auth string
		status     int
	}{
		{"valid", "Bearer " + e.token, 200},
		{"scheme any case", "bearer " + e.token, 200},
		{"missing", "", 401},
		{"no scheme", e.token, 401},
		{"basic", "Basic " + e.token, 401},
		{"unknown token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := e.raw("GET", "/cat/cat/list?page=1&pageSize=1", "", map[string]string{"Authorization": tc.auth})
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if status == 401 {
				wantGatewayEnvelope(t, 401, body)
				if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
				}
			}
		})
	}
	e.clock.Advance(59 * time.Second)
	if status, body := e.call("GET", "/cat/cat/list?page=1", ""); status != 200 {
		t.Fatalf("before expiry: %d %v", status, body)
	}
	e.clock.Advance(time.Second)
	status, body := e.call("GET", "/cat/cat/list?page=1", "")
	if status != 401 || body["message"] != "The token has expired." {
		t.Fatalf("at expiry: %d %v", status, body)
	}
	for _, path := range []string{"/cat/cat", "/cat/cat/SendCATDebtInfoMail"} {
		if status, _, _ := e.raw("POST", path, "{}", nil); status != 401 {
			t.Fatalf("%s without token: %d", path, status)
		}
	}
	if status, _, _ := e.raw("PUT", "/cat/cat", "{}", nil); status != 401 {
		t.Fatalf("PUT without token: %d", status)
	}
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t, Options{})
	status, body := e.call("GET", "/cat/cat/everything", "")
	if status != 404 {
		t.Fatalf("%d %v", status, body)
	}
	wantGatewayEnvelope(t, 404, body)
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{RequestsPerMinute: 3}) // the token took one
	e.clock.Advance(20 * time.Second)
	for i := range 2 {
		if status, body := e.call("GET", "/cat/cat/list?page=1", ""); status != 200 {
			t.Fatalf("request %d: %d %v", i, status, body)
		}
	}
	status, h, body := e.raw("GET", "/cat/cat/list?page=1", "", map[string]string{"Authorization": "Bearer " + e.token})
	if status != 429 || h.Get("Retry-After") != "40" {
		t.Fatalf("over limit: %d Retry-After %q %v", status, h.Get("Retry-After"), body)
	}
	wantGatewayEnvelope(t, 429, body)
	e.clock.Advance(40 * time.Second) // the token request leaves the window
	if status, body := e.call("GET", "/cat/cat/list?page=1", ""); status != 200 {
		t.Fatalf("after window: %d %v", status, body)
	}
	if status, _ := e.call("GET", "/cat/cat/list?page=1", ""); status != 429 {
		t.Fatalf("window full again: %d", status)
	}
	if status, _, _ := e.raw("GET", "/_fake/notifications", "", nil); status != 200 {
		t.Fatalf("fake page throttled: %d", status)
	}
}

func TestListRules(t *testing.T) {
	e := newEnv(t, Options{})
	for i := 1; i <= 12; i++ {
		e.create(fmt.Sprintf("L-%02d", i), nil)
		e.clock.Advance(time.Second)
	}
	e.srv.SetDebtActive("L-05", false)
	id := e.srv.mustDebt(t, "L-03").ID
	cases := []struct {
		name, query   string
		status        int
		field         string
		codes         []string
		page, size, n int
	}{
		{name: "no parameters", query: "", status: 400},
		{name: "capitalised PageSize ignored", query: "?PageSize=5", status: 400},
		{name: "lower-case erpcode ignored", query: "?erpcode=L-01", status: 400},
		{name: "page alone defaults size", query: "?page=1&PageSize=5", status: 200, codes: []string{"L-01", "L-02", "L-03", "L-04", "L-06", "L-07", "L-08", "L-09", "L-10", "L-11"}, page: 1, size: 10, n: 11},
		{name: "second page", query: "?page=2&pageSize=3", status: 200, codes: []string{"L-04", "L-06", "L-07"}, page: 2, size: 3, n: 11},
		{name: "size alone defaults page", query: "?pageSize=2", status: 200, codes: []string{"L-01", "L-02"}, page: 1, size: 2, n: 11},
		{name: "last partial page", query: "?page=4&pageSize=3", status: 200, codes: []string{"L-11", "L-12"}, page: 4, size: 3, n: 11},
		{name: "beyond the end", query: "?page=9&pageSize=3", status: 200, codes: []string{}, page: 9, size: 3, n: 11},
		{name: "max page size", query: "?page=1&pageSize=100", status: 200, page: 1, size: 100, n: 11},
		{name: "page size over 100", query: "?page=1&pageSize=101", status: 400, field: "pageSize"},
		{name: "page size zero", query: "?page=1&pageSize=0", status: 400, field: "pageSize"},
		{name: "page zero", query: "?page=0&pageSize=10", status: 400, field: "page"},
		{name: "page not a number", query: "?page=abc&pageSize=10", status: 400, field: "page"},
		{name: "by erp code", query: "?ErpCode=L-03", status: 200, codes: []string{"L-03"}, page: 1, size: 10, n: 1},
		{name: "by erp code wins over paging", query: "?ErpCode=L-03&page=2&pageSize=1", status: 200, codes: []string{"L-03"}, page: 1, size: 10, n: 1},
		{name: "erp code is case-sensitive", query: "?ErpCode=l-03", status: 200, codes: []string{}, page: 1, size: 10, n: 0},
		{name: "no match is an empty list", query: "?ErpCode=NOPE", status: 200, codes: []string{}, page: 1, size: 10, n: 0},
		{name: "soft-deleted not found", query: "?ErpCode=L-05", status: 200, codes: []string{}, page: 1, size: 10, n: 0},
		{name: "by id", query: "?Id=" + id, status: 200, codes: []string{"L-03"}, page: 1, size: 10, n: 1},
		{name: "by id upper case", query: "?Id=" + strings.ToUpper(id), status: 200, codes: []string{"L-03"}, page: 1, size: 10, n: 1},
		{name: "id not a guid", query: "?Id=123", status: 400, field: "Id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.call("GET", "/cat/cat/list"+tc.query, "")
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if status == 400 {
				wantStatusEnvelope(t, 400, body, "")
				if tc.field != "" && fieldErrs(body)[tc.field] == nil {
					t.Fatalf("no error for %s: %v", tc.field, body)
				}
				return
			}
			res := body["result"].(map[string]any)
			if res["page"] != float64(tc.page) || res["pageSize"] != float64(tc.size) || res["totalCount"] != float64(tc.n) {
				t.Fatalf("page %v size %v total %v", res["page"], res["pageSize"], res["totalCount"])
			}
			items := res["items"].([]any)
			if tc.codes == nil {
				return
			}
			var got []string
			for _, it := range items {
				got = append(got, it.(map[string]any)["erpCode"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.codes, ",") {
				t.Fatalf("items %v, want %v", got, tc.codes)
			}
		})
	}
	_, body := e.call("GET", "/cat/cat/list?ErpCode=L-03", "")
	item := body["result"].(map[string]any)["items"].([]any)[0].(map[string]any)
	want := map[string]any{
		"id": id, "agentErpCode": agentCode, "amount": 1550.0, "paidAmount": 0.0, "documentNo": "MRT2025000000123",
		"currentAccountErpCode": accountCode, "documentType": "Fatura", "dueDate": "2025-10-20T00:00:00",
		"transactionDate": "2025-09-20T00:00:00", "currencyId": "TRY", "erpCode": "L-03",
		"description": "Eylül ayı mal alım faturası", "isActive": true,
		"createdAt": "2025-10-01T15:00:02.0000000+03:00", "updatedAt": "2025-10-01T15:00:02.0000000+03:00",
	}
	for k, v := range want {
		if item[k] != v {
			t.Errorf("%s = %v, want %v", k, item[k], v)
		}
	}
	if len(item) != len(want) {
		t.Errorf("fields %v", item)
	}
}

func TestListAmountsHaveTwoDecimals(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("D-1", func(m map[string]any) { m["amount"] = 1550 })
	status, _, _ := e.raw("GET", "/cat/cat/list?ErpCode=D-1", "", map[string]string{"Authorization": "Bearer " + e.token})
	if status != 200 {
		t.Fatal(status)
	}
	req, _ := http.NewRequest("GET", e.url+"/cat/cat/list?ErpCode=D-1", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, resp.Body)
	raw, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(raw), `"amount":1550.00,"paidAmount":0.00`) {
		t.Fatalf("amounts not written with 2 decimals: %s", raw)
	}
}

func TestSendCATDebtInfoMail(t *testing.T) {
	e := newEnv(t, Options{})
	// Today in Istanbul is 2025-10-01.
	mk := func(code, due, paid string, edit func(m map[string]any)) {
		e.create(code, func(m map[string]any) {
			m["transactionDate"], m["dueDate"], m["paidAmount"], m["amount"] = "2025-09-01", due, paid, "1000.00"
			if edit != nil {
				edit(m)
			}
		})
	}
	mk("N-OVERDUE", "2025-09-30", "0", nil)
	mk("N-PARTIAL", "2025-09-15", "250.50", func(m map[string]any) { m["currencyId"] = "USD" })
	mk("N-PAID", "2025-09-15", "1000", nil)
	mk("N-DUE-TODAY", "2025-10-01", "0", nil)
	mk("N-FUTURE", "2025-10-30", "0", nil)
	mk("N-CLOSED-ACCOUNT", "2025-09-15", "0", func(m map[string]any) { m["currentAccountErpCode"] = account2 })
	// An agent is deactivated after its debt was booked (an inactive one
	// cannot be booked to).
	e.srv.SetAgentActive(inactiveAgent, true)
	mk("N-INACTIVE-AGENT", "2025-09-15", "0", func(m map[string]any) { m["agentErpCode"] = inactiveAgent })
	e.srv.SetAgentActive(inactiveAgent, false)
	mk("N-DELETED", "2025-09-15", "0", nil)
	e.srv.SetCurrentAccountActive(account2, false)
	e.srv.SetDebtActive("N-DELETED", false)

	status, body := e.call("POST", "/cat/cat/SendCATDebtInfoMail", "")
	if status != 200 || body["status"] != "success" || body["message"] != "Debt notification contents have been sent" {
		t.Fatalf("%d %v", status, body)
	}
	// The FAQ's rule: PaidAmount ≤ Amount (so a fully paid debt too) and
	// DueDate < now (so a debt due today, its midnight having passed).
	got := e.srv.Notifications()
	var codes []string
	for _, n := range got {
		codes = append(codes, n.DebtErpCode)
	}
	if strings.Join(codes, ",") != "N-OVERDUE,N-PARTIAL,N-PAID,N-DUE-TODAY" {
		t.Fatalf("notified %v", codes)
	}
	n := got[1]
	if n.Outstanding.StringFixed(2) != "749.50" || n.Currency != "USD" || n.AgentErpCode != agentCode ||
		n.CurrentAccountErpCode != accountCode || n.Recipient != "muhasebe@yildiz.example" || !n.At.Equal(e.clock.Now()) {
		t.Fatalf("notification %+v", n)
	}
	// Global and not idempotent: a second call notifies everyone again.
	e.clock.Advance(time.Hour)
	e.call("POST", "/cat/cat/SendCATDebtInfoMail", "")
	if got := e.srv.Notifications(); len(got) != 8 || !got[7].At.Equal(e.clock.Now()) {
		t.Fatalf("after second call: %d", len(got))
	}
}

func TestNotificationsPage(t *testing.T) {
	e := newEnv(t, Options{})
	status, _, body := e.raw("GET", "/_fake/notifications", "", nil)
	if status != 200 || !strings.Contains(body["_raw"].(string), `data-testid="no-notifications"`) {
		t.Fatalf("empty page: %d %v", status, body)
	}
	e.srv.AddAgent(Agent{Code: "<b>X&Y</b>", Active: true})
	e.create("P-1", func(m map[string]any) { m["dueDate"], m["transactionDate"] = "2025-09-01", "2025-09-01" })
	e.create("P-2<script>", func(m map[string]any) {
		m["dueDate"], m["transactionDate"], m["agentErpCode"] = "2025-09-02", "2025-09-01", "<b>X&Y</b>"
	})
	e.call("POST", "/cat/cat/SendCATDebtInfoMail", "")
	e.clock.Advance(time.Hour)
	e.srv.SetDebtActive("P-1", false)
	e.call("POST", "/cat/cat/SendCATDebtInfoMail", "")
	e.srv.Faults.Down() // the page must not depend on the API's health
	defer e.srv.Faults.Reset()
	status, h, body := e.raw("GET", "/_fake/notifications", "", nil)
	page := body["_raw"].(string)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", status, h.Get("Content-Type"))
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>X") || !strings.Contains(page, "P-2&lt;script&gt;") || !strings.Contains(page, "&lt;b&gt;X&amp;Y&lt;/b&gt;") {
		t.Fatalf("not escaped:\n%s", page)
	}
	if strings.Count(page, `data-testid="notification"`) != 3 || !strings.Contains(page, "3 notifications in total") {
		t.Fatalf("rows:\n%s", page)
	}
	// Newest first: the second call (16:00 Istanbul) before the first (15:00).
	if i, j := strings.Index(page, "2025-10-01 16:00:00"), strings.Index(page, "2025-10-01 15:00:00"); i < 0 || j < 0 || i > j {
		t.Fatalf("order:\n%s", page)
	}
	if !strings.Contains(page, "1550.00 TRY") {
		t.Fatalf("amount:\n%s", page)
	}
}

func TestFaultsBypassFakePages(t *testing.T) {
	e := newEnv(t, Options{})
	status, _, body := e.raw("GET", "/_fake/faults", "", nil)
	if status != 200 || !strings.Contains(body["_raw"].(string), "Finrota: faults") {
		t.Fatalf("faults page: %d %v", status, body)
	}
	e.srv.Faults.FailNext(1, 503)
	if status, _ := e.call("GET", "/cat/cat/list?page=1", ""); status != 503 {
		t.Fatalf("fault not applied: %d", status)
	}
	if status, _ := e.call("GET", "/cat/cat/list?page=1", ""); status != 200 {
		t.Fatalf("fault not cleared: %d", status)
	}
	e.srv.Faults.Malformed(true)
	defer e.srv.Faults.Reset()
	if status, _, body := e.raw("GET", "/_fake/faults", "", nil); status != 200 || body["_raw"] == nil {
		t.Fatalf("faults page under faults: %d", status)
	}
}

func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t, Options{})
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			// Every other goroutine races for the same code.
			code := fmt.Sprintf("C-%d", i)
			if i%2 == 0 {
				code = "C-SAME"
			}
			statuses[i], _ = e.call("POST", "/cat/cat", debtJSONBody(code, nil))
		})
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409:
			conflict++
		}
	}
	if ok != 11 || conflict != 9 || len(e.srv.Debts()) != 11 {
		t.Fatalf("ok %d conflict %d debts %d", ok, conflict, len(e.srv.Debts()))
	}
}
