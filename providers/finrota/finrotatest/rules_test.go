package finrotatest

import (
	"strings"
	"testing"
)

func TestCreateRules(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("TAKEN-1", nil)

	del := func(keys ...string) func(map[string]any) {
		return func(m map[string]any) {
			for _, k := range keys {
				delete(m, k)
			}
		}
	}
	set := func(kv ...any) func(map[string]any) {
		return func(m map[string]any) {
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
		}
	}
	cases := []struct {
		name      string
		erpCode   string
		edit      func(map[string]any)
		status    int
		field     string // 400: the field with an error
		message   string // 404: exact message
		wantType  string // 200: stored document type
		wantCurr  string // 200: stored currency
		wantDates [2]string
	}{
		{name: "valid", status: 200, wantType: "Fatura", wantCurr: "TRY", wantDates: [2]string{"2025-09-20", "2025-10-20"}},
		{name: "missing agent", edit: del("agentErpCode"), status: 400, field: "agentErpCode"},
		{name: "blank agent", edit: set("agentErpCode", "  "), status: 400, field: "agentErpCode"},
		{name: "agent not a string", edit: set("agentErpCode", 123), status: 400, field: "agentErpCode"},
		{name: "missing amount", edit: del("amount"), status: 400, field: "amount"},
		{name: "zero amount", edit: set("amount", 0), status: 400, field: "amount"},
		{name: "negative amount", edit: set("amount", -5), status: 400, field: "amount"},
		{name: "amount not numeric", edit: set("amount", "abc"), status: 400, field: "amount"},
		{name: "amount three decimals", edit: set("amount", 10.555), status: 400, field: "amount"},
		{name: "amount boolean", edit: set("amount", true), status: 400, field: "amount"},
		{name: "amount as numeric string", edit: set("amount", "1550.50"), status: 200, wantType: "Fatura", wantCurr: "TRY"},
		{name: "negative paid", edit: set("paidAmount", -1), status: 400, field: "paidAmount"},
		{name: "paid above amount", edit: set("paidAmount", 1550.01), status: 400, field: "paidAmount"},
		{name: "paid equals amount", edit: set("paidAmount", "1550.00"), status: 200, wantType: "Fatura", wantCurr: "TRY"},
		{name: "missing paid is zero", edit: del("paidAmount"), status: 200, wantType: "Fatura", wantCurr: "TRY"},
		{name: "missing document no", edit: del("documentNo"), status: 400, field: "documentNo"},
		{name: "missing account", edit: del("currentAccountErpCode"), status: 400, field: "currentAccountErpCode"},
		{name: "empty account array", edit: set("currentAccountErpCode", []string{}), status: 400, field: "currentAccountErpCode"},
		{name: "account array", edit: set("currentAccountErpCode", []string{accountCode}), status: 200, wantType: "Fatura", wantCurr: "TRY"},
		{name: "account array with inactive", edit: set("currentAccountErpCode", []string{accountCode, closedAccount}), status: 404},
		{name: "missing document type", edit: del("documentType"), status: 400, field: "documentType"},
		{name: "document type outside list", edit: set("documentType", "Ödeme"), status: 400, field: "documentType"},
		{name: "document type wrong case", edit: set("documentType", "fatura"), status: 400, field: "documentType"},
		{name: "english alias stored turkish", edit: set("documentType", "Cheque"), status: 200, wantType: "Çek", wantCurr: "TRY"},
		{name: "transaction type field name", edit: func(m map[string]any) {
			delete(m, "documentType")
			m["currentAccountTransactionType"] = "Promissory Note"
		}, status: 200, wantType: "Senet", wantCurr: "TRY"},
		{name: "missing due date", edit: del("dueDate"), status: 400, field: "dueDate"},
		{name: "missing transaction date", edit: del("transactionDate"), status: 400, field: "transactionDate"},
		{name: "due date not ISO", edit: set("dueDate", "20.10.2025"), status: 400, field: "dueDate"},
		{name: "due date impossible", edit: set("dueDate", "2025-02-30"), status: 400, field: "dueDate"},
		{name: "timestamps accepted", edit: set("dueDate", "2025-10-20T07:51:00.157Z", "transactionDate", "2025-09-19T22:30:00Z"), status: 200,
			wantType: "Fatura", wantCurr: "TRY", wantDates: [2]string{"2025-09-20", "2025-10-20"}},
		{name: "transaction after due", edit: set("transactionDate", "2025-10-21"), status: 400, field: "transactionDate"},
		{name: "transaction on due date", edit: set("transactionDate", "2025-10-20"), status: 200, wantType: "Fatura", wantCurr: "TRY"},
		{name: "missing currency", edit: del("currencyId"), status: 400, field: "currencyId"},
		{name: "currencyCode alone", edit: func(m map[string]any) { delete(m, "currencyId"); m["currencyCode"] = "USD" }, status: 200, wantType: "Fatura", wantCurr: "USD"},
		{name: "currency names disagree", edit: set("currencyCode", "USD"), status: 400, field: "currencyId"},
		{name: "unknown currency", edit: set("currencyId", "GBP"), status: 404, message: "Invalid currencyId"},
		{name: "missing erp code", edit: del("erpCode"), status: 400, field: "erpCode"},
		{name: "agent case differs", edit: set("agentErpCode", strings.ToLower(agentCode)), status: 404},
		{name: "unknown agent", edit: set("agentErpCode", "NT99999999"), status: 404},
		{name: "inactive agent", edit: set("agentErpCode", inactiveAgent), status: 404},
		{name: "unknown account", edit: set("currentAccountErpCode", "NO-SUCH-ACCOUNT"), status: 404},
		{name: "inactive account", edit: set("currentAccountErpCode", closedAccount), status: 404},
		{name: "duplicate erp code", erpCode: "TAKEN-1", status: 409},
		{name: "field names any case", edit: func(m map[string]any) {
			m["AgentErpCode"], m["AMOUNT"] = m["agentErpCode"], m["amount"]
			delete(m, "agentErpCode")
			delete(m, "amount")
		}, status: 200, wantType: "Fatura", wantCurr: "TRY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.erpCode
			if code == "" {
				code = "ERP-" + strings.ReplaceAll(tc.name, " ", "-")
			}
			status, body := e.call("POST", "/cat/cat", debtJSONBody(code, tc.edit))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			switch status {
			case 200:
				res, _ := body["result"].(map[string]any)
				if body["status"] != "success" || body["message"] != "Cari hesap işlemi oluşturuldu." || res["erpCode"] != code || res["createdAt"] != "2025-10-01T15:00:00.0000000+03:00" {
					t.Fatalf("success body %v", body)
				}
				d, ok := e.srv.Debt(code)
				if !ok || d.DocumentType != tc.wantType || d.CurrencyID != tc.wantCurr || !d.IsActive || d.CurrentAccountErpCode != accountCode {
					t.Fatalf("stored %+v", d)
				}
				if tc.wantDates[0] != "" && (d.TransactionDate != tc.wantDates[0] || d.DueDate != tc.wantDates[1]) {
					t.Fatalf("dates %s..%s, want %v", d.TransactionDate, d.DueDate, tc.wantDates)
				}
			case 400:
				wantStatusEnvelope(t, 400, body, "One or more validation errors occurred.")
				if msgs, _ := fieldErrs(body)[tc.field].([]any); len(msgs) == 0 {
					t.Fatalf("no error for %s: %v", tc.field, body)
				}
				if _, stored := e.srv.Debt(code); stored {
					t.Fatal("rejected debt was stored")
				}
			case 404:
				wantStatusEnvelope(t, 404, body, tc.message)
			case 409:
				wantGatewayEnvelope(t, 409, body)
			}
		})
	}
}

func TestCreateStoresExactAmounts(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("AMT-1", func(m map[string]any) { m["amount"], m["paidAmount"] = "1550.00", 200.5 })
	d, _ := e.srv.Debt("AMT-1")
	if d.Amount.StringFixed(2) != "1550.00" || d.PaidAmount.StringFixed(2) != "200.50" {
		t.Fatalf("stored %s / %s", d.Amount, d.PaidAmount)
	}
}

func TestBodyRules(t *testing.T) {
	e := newEnv(t, Options{})
	auth := "Bearer " + e.token
	cases := []struct {
		name, method, body, contentType string
		status                          int
	}{
		{"not json", "POST", `agentErpCode=x`, "application/json", 400},
		{"truncated json", "POST", `{"agentErpCode":`, "application/json", 400},
		{"array body", "POST", `[1,2]`, "application/json", 400},
		{"two documents", "PUT", `{} {}`, "application/json", 400},
		{"empty body", "POST", ``, "application/json", 400},
		{"form content type", "POST", `{}`, "application/x-www-form-urlencoded", 415},
		{"no content type", "PUT", `{}`, "", 415},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.raw(tc.method, "/cat/cat", tc.body, map[string]string{"Authorization": auth, "Content-Type": tc.contentType})
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if status == 400 {
				wantStatusEnvelope(t, 400, body, "")
			} else {
				wantGatewayEnvelope(t, status, body)
			}
		})
	}
}

func TestUpdateRules(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("U-1", nil)
	e.create("U-2", nil)
	e.create("U-OLD", nil)
	// Rename U-OLD away: its old code must stay unusable for anyone else.
	if status, body := e.call("PUT", "/cat/cat", debtJSONBody("U-NEW", func(m map[string]any) { m["updateErpCode"] = "U-OLD" })); status != 200 {
		t.Fatalf("rename: %d %v", status, body)
	}
	id1 := e.srv.mustDebt(t, "U-1").ID

	ref := func(kv ...any) func(map[string]any) {
		return func(m map[string]any) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(m, kv[i].(string))
				} else {
					m[kv[i].(string)] = kv[i+1]
				}
			}
		}
	}
	cases := []struct {
		name    string
		erpCode string
		edit    func(map[string]any)
		status  int
		field   string
	}{
		{"no reference", "U-1", nil, 400, "updateErpCode"},
		{"blank references", "U-1", ref("updateErpCode", " ", "id", ""), 400, "updateErpCode"},
		{"id not a guid", "U-1", ref("id", "12345"), 400, "id"},
		{"unknown erp code", "U-1", ref("updateErpCode", "NOPE"), 404, ""},
		{"unknown id", "U-1", ref("id", "8b0a2f7e-3c1d-4e5f-9a8b-7c6d5e4f3a2b"), 404, ""},
		{"id and code disagree", "U-1", ref("id", id1, "updateErpCode", "U-2"), 404, ""},
		{"taken by another", "U-2", ref("updateErpCode", "U-1"), 409, ""},
		{"renamed-away code never reused", "U-OLD", ref("updateErpCode", "U-1"), 409, ""},
		{"paid above amount", "U-1", ref("updateErpCode", "U-1", "paidAmount", 2000), 400, "paidAmount"},
		{"transaction after due", "U-1", ref("updateErpCode", "U-1", "transactionDate", "2025-11-01"), 400, "transactionDate"},
		{"unknown currency", "U-1", ref("updateErpCode", "U-1", "currencyCode", "GBP", "currencyId", nil), 404, ""},
		{"inactive account", "U-1", ref("updateErpCode", "U-1", "currentAccountErpCode", []string{closedAccount}), 404, ""},
		{"inactive agent", "U-1", ref("updateErpCode", "U-1", "agentErpCode", inactiveAgent), 404, ""},
		{"keep code", "U-1", ref("updateErpCode", "U-1", "amount", 4500), 200, ""},
		{"by id with rename", "U-1B", ref("id", strings.ToUpper(id1), "amount", nil, "Amount", "4500.25", "currentAccountTransactionType", "Order", "documentType", nil), 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.call("PUT", "/cat/cat", debtJSONBody(tc.erpCode, tc.edit))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			switch status {
			case 400:
				wantStatusEnvelope(t, 400, body, "")
				if fieldErrs(body)[tc.field] == nil {
					t.Fatalf("no error for %s: %v", tc.field, body)
				}
			case 404:
				wantStatusEnvelope(t, 404, body, "")
			case 409:
				wantGatewayEnvelope(t, 409, body)
			case 200:
				res, _ := body["result"].(map[string]any)
				if body["message"] != "Current account transaction updated." || res["erpCode"] != tc.erpCode {
					t.Fatalf("body %v", body)
				}
			}
		})
	}
	d := e.srv.mustDebt(t, "U-1B")
	if d.ID != id1 || d.Amount.StringFixed(2) != "4500.25" || d.DocumentType != "Sipariş" {
		t.Fatalf("after updates: %+v", d)
	}
	if _, ok := e.srv.Debt("U-1"); ok {
		t.Fatal("old code still names a debt")
	}
	if status, body := e.call("POST", "/cat/cat", debtJSONBody("U-OLD", nil)); status != 409 {
		t.Fatalf("create with renamed-away code: %d %v", status, body)
	}
	// A debt may take back a code it held itself.
	if status, body := e.call("PUT", "/cat/cat", debtJSONBody("U-1", func(m map[string]any) { m["updateErpCode"] = "U-1B" })); status != 200 {
		t.Fatalf("rename back: %d %v", status, body)
	}
}

func (s *Server) mustDebt(t *testing.T, erpCode string) Debt {
	t.Helper()
	d, ok := s.Debt(erpCode)
	if !ok {
		t.Fatalf("no debt %s", erpCode)
	}
	return d
}
