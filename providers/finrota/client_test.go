package finrota_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"kasa/providers/apicall"
	"kasa/providers/finrota"
	"kasa/providers/finrota/finrotatest"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestCreateReadUpdateList(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	rc, err := h.client.Create(ctx, sampleDebt("ERP-1"))
	if err != nil {
		t.Fatal(err)
	}
	if rc.ErpCode != "ERP-1" || !rc.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("receipt %+v", rc)
	}
	// What went on the wire: exact decimals, dates, both currency names.
	body := h.spy.requests()[1].Body
	for _, want := range []string{`"amount":1550.00`, `"paidAmount":200.50`, `"dueDate":"2025-10-20"`, `"transactionDate":"2025-09-20"`,
		`"currencyId":"TRY"`, `"currencyCode":"TRY"`, `"documentType":"Fatura"`, `"agentErpCode":"NT26822394"`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
	stored, _ := h.fake.Debt("ERP-1")
	if stored.Amount.StringFixed(2) != "1550.00" || stored.PaidAmount.StringFixed(2) != "200.50" || stored.CurrencyID != "TRY" {
		t.Fatalf("fake stored %+v", stored)
	}

	got, err := h.client.GetByErpCode(ctx, "ERP-1")
	if err != nil {
		t.Fatal(err)
	}
	want := sampleDebt("ERP-1")
	if !uuidRE.MatchString(got.ID) || !got.IsActive || !got.CreatedAt.Equal(h.clock.Now()) || !got.UpdatedAt.Equal(h.clock.Now()) {
		t.Fatalf("read-only fields %+v", got)
	}
	if !got.Amount.Equal(want.Amount) || got.Amount.StringFixed(2) != "1550.00" || !got.PaidAmount.Equal(want.PaidAmount) ||
		!got.DueDate.Equal(want.DueDate) || !got.TransactionDate.Equal(want.TransactionDate) ||
		got.AgentErpCode != want.AgentErpCode || got.CurrentAccountErpCode != want.CurrentAccountErpCode || got.DocumentNo != want.DocumentNo ||
		got.DocumentType != "Fatura" || got.CurrencyID != "TRY" || got.Description != want.Description || got.ErpCode != "ERP-1" {
		t.Fatalf("read back %+v", got)
	}
	byID, err := h.client.GetByID(ctx, strings.ToUpper(got.ID))
	if err != nil || byID.ErpCode != "ERP-1" {
		t.Fatalf("by id: %+v %v", byID, err)
	}

	h.clock.Advance(time.Hour)
	upd := sampleDebt("ERP-1-RENAMED")
	upd.Amount, upd.DocumentType = dec("4500"), "Senet"
	rc, err = h.client.Update(ctx, finrota.Ref{UpdateErpCode: "ERP-1"}, upd)
	if err != nil || rc.ErpCode != "ERP-1-RENAMED" || !rc.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("update: %+v %v", rc, err)
	}
	if _, err := h.client.GetByErpCode(ctx, "ERP-1"); !finrota.IsNotFound(err) || !errors.Is(err, finrota.ErrNotFound) {
		t.Fatalf("old code: %v", err)
	}
	upd.Description = "by id"
	if _, err := h.client.Update(ctx, finrota.Ref{ID: got.ID}, upd); err != nil {
		t.Fatal(err)
	}
	again, err := h.client.GetByErpCode(ctx, "ERP-1-RENAMED")
	if err != nil || again.ID != got.ID || again.Amount.StringFixed(2) != "4500.00" || again.DocumentType != "Senet" || again.Description != "by id" {
		t.Fatalf("after update: %+v %v", again, err)
	}

	for _, code := range []string{"ERP-2", "ERP-3"} {
		if _, err := h.client.Create(ctx, sampleDebt(code)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := h.client.List(ctx, 2, 2)
	if err != nil || page.Page != 2 || page.PageSize != 2 || page.TotalCount != 3 || len(page.Items) != 1 || page.Items[0].ErpCode != "ERP-3" {
		t.Fatalf("list: %+v %v", page, err)
	}
	if r := h.spy.requests(); r[len(r)-1].Query != "page=2&pageSize=2" {
		t.Fatalf("list query %q", r[len(r)-1].Query)
	}
}

func TestGetNotFound(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	_, err := h.client.GetByErpCode(context.Background(), "NOPE")
	var fe *finrota.Error
	if !finrota.IsNotFound(err) || errors.As(err, &fe) || finrota.IsRetryable(err) || err.Error() != `finrota: get debt: ErpCode "NOPE": debt not found` {
		t.Fatalf("%v", err)
	}
	if _, err := h.client.GetByID(context.Background(), "8b0a2f7e-3c1d-4e5f-9a8b-7c6d5e4f3a2b"); !finrota.IsNotFound(err) {
		t.Fatalf("%v", err)
	}
	if r := h.spy.requests(); r[1].Query != "ErpCode=NOPE" || r[2].Query != "Id=8b0a2f7e-3c1d-4e5f-9a8b-7c6d5e4f3a2b" {
		t.Fatalf("queries %q %q", r[1].Query, r[2].Query)
	}
}

func TestSendOverdueNotifications(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	d := sampleDebt("OVERDUE-1")
	d.TransactionDate, d.DueDate = day(2025, 9, 1), day(2025, 9, 15)
	if _, err := h.client.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if err := h.client.SendOverdueNotifications(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := h.fake.Notifications()
	if len(n) != 1 || n[0].DebtErpCode != "OVERDUE-1" || n[0].Outstanding.StringFixed(2) != "1349.50" {
		t.Fatalf("notifications %+v", n)
	}
	if r := h.spy.requests(); r[len(r)-1].Path != "/cat/cat/SendCATDebtInfoMail" || r[len(r)-1].Method != "POST" || r[len(r)-1].Body != "" {
		t.Fatalf("request %+v", r[len(r)-1])
	}
}

func TestHeaders(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	if _, err := h.client.List(ctx, 1, 10); err != nil {
		t.Fatal(err)
	}
	fixed := apicall.WithRequestID(ctx, "job-42-attempt-id")
	if _, err := h.client.Create(fixed, sampleDebt("H-1")); err != nil {
		t.Fatal(err)
	}
	reqs := h.spy.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	tok, list, create := reqs[0], reqs[1], reqs[2]
	if tok.Path != "/auth/api/token/connect" || tok.Authorization != "" || !uuidRE.MatchString(tok.RequestID) ||
		!strings.Contains(tok.Body, `"apiKey":"`+finrotatest.SandboxAPIKey+`"`) {
		t.Fatalf("token request %+v", tok)
	}
	bearer, _, _ := h.store.LoadToken(ctx, finrota.TokenKey)
	for _, r := range []seen{list, create} {
		if r.Authorization != "Bearer "+bearer || r.ContentType != "application/json" || r.Accept != "application/json" {
			t.Fatalf("headers %+v", r)
		}
	}
	if !uuidRE.MatchString(list.RequestID) || list.RequestID == tok.RequestID || create.RequestID != "job-42-attempt-id" {
		t.Fatalf("request ids %q %q %q", tok.RequestID, list.RequestID, create.RequestID)
	}
}

func TestTokenCachedAndRenewedBeforeExpiry(t *testing.T) {
	h := newHarness(t, finrotatest.Options{TokenLifetime: time.Hour})
	ctx := context.Background()
	tokenCalls := func() (n int) {
		for _, r := range h.spy.requests() {
			if r.Path == "/auth/api/token/connect" {
				n++
			}
		}
		return n
	}
	list := func() {
		t.Helper()
		if _, err := h.client.List(ctx, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	list()
	list()
	first, exp, _ := h.store.LoadToken(ctx, finrota.TokenKey)
	if tokenCalls() != 1 || !exp.Equal(h.clock.Now().Add(time.Hour)) {
		t.Fatalf("token calls %d, expiry %v", tokenCalls(), exp)
	}
	h.clock.Advance(55*time.Minute - time.Second)
	list()
	if tokenCalls() != 1 {
		t.Fatalf("renewed %v early", 5*time.Minute+time.Second)
	}
	h.clock.Advance(time.Second) // now = expiry - 5 min
	list()
	second, _, _ := h.store.LoadToken(ctx, finrota.TokenKey)
	if tokenCalls() != 2 || second == first {
		t.Fatalf("not renewed at expiry-5min: %d calls", tokenCalls())
	}
	for _, r := range h.spy.requests() {
		if r.Status == http.StatusUnauthorized {
			t.Fatalf("a request met 401: renewal came too late: %+v", r)
		}
	}
}

func TestRenewAndRetryOnceOn401(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	// A token the fake never issued, valid by its expiry: as after a
	// credential rotation at the portal.
	if _, _, err := h.store.RenewToken(ctx, finrota.TokenKey, "", 0, func(context.Context) (string, time.Time, error) {
		return "revoked-token", h.clock.Now().Add(time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.List(ctx, 1, 5); err != nil {
		t.Fatal(err)
	}
	reqs := h.spy.requests()
	if len(reqs) != 3 || reqs[0].Status != 401 || reqs[0].Authorization != "Bearer revoked-token" ||
		reqs[1].Path != "/auth/api/token/connect" || reqs[2].Status != 200 || reqs[2].Authorization == "Bearer revoked-token" {
		t.Fatalf("requests %+v", reqs)
	}
	if reqs[0].RequestID != reqs[2].RequestID || reqs[1].RequestID == reqs[0].RequestID {
		t.Fatalf("request ids %q %q %q", reqs[0].RequestID, reqs[1].RequestID, reqs[2].RequestID)
	}
	calls := h.rec.all()
	if len(calls) != 3 || calls[0].Operation != "list_debts" || calls[0].Status != 401 || calls[1].Operation != "token" ||
		calls[2].Operation != "list_debts" || calls[2].Status != 200 || calls[0].Provider != "finrota" {
		t.Fatalf("recorded %+v", calls)
	}
}

func TestSecond401IsCredentialsRejected(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	// Every CAT call is refused, as when the keys belong to another
	// environment than the gateway.
	h.spy.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/cat/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		writeOrFail(t, w, `{"statusCode":401,"error":"Unauthorized","message":"Token is not valid for this environment."}`)
		return true
	})
	_, err := h.client.Create(context.Background(), sampleDebt("C-1"))
	var fe *finrota.Error
	if !errors.Is(err, finrota.ErrCredentialsRejected) || !errors.As(err, &fe) || fe.Status != 401 || finrota.IsRetryable(err) ||
		err.Error() != "finrota: create debt: 401 Unauthorized: Token is not valid for this environment." {
		t.Fatalf("%v", err)
	}
	reqs := h.spy.requests()
	if len(reqs) != 4 || reqs[1].Path != "/cat/cat" || reqs[2].Path != "/auth/api/token/connect" || reqs[3].Path != "/cat/cat" || reqs[1].RequestID != reqs[3].RequestID {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestWrongKeys(t *testing.T) {
	h := newHarness(t, finrotatest.Options{APIKey: "prod-key", SecretKey: "prod-secret"})
	_, err := h.client.List(context.Background(), 1, 10)
	var fe *finrota.Error
	if !errors.Is(err, finrota.ErrCredentialsRejected) || !errors.As(err, &fe) || fe.Code != "401" ||
		err.Error() != "finrota: list debts: token: 401 Unauthorized: Invalid apiKey or secretKey." {
		t.Fatalf("%v", err)
	}
	calls := h.rec.all()
	if len(calls) != 1 || calls[0].Operation != "token" || calls[0].Status != 401 || calls[0].ErrorCode != "401" {
		t.Fatalf("recorded %+v", calls)
	}
}

// TestInactiveReferencesAreNotFound: Finrota refuses a debt booked to an
// inactive agent or current account with 404 (the form refuses both too),
// on create and on update, and the client reports it as not found.
func TestInactiveReferencesAreNotFound(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	h.fake.AddAgent(finrotatest.Agent{Code: "NT-CLOSED", Active: false})
	h.fake.AddCurrentAccount(finrotatest.CurrentAccount{ErpCode: "ACC-CLOSED", Active: false})
	if _, err := h.client.Create(ctx, sampleDebt("INACT-1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field, value string
	}{{"agent", "agent", "NT-CLOSED"}, {"current account", "account", "ACC-CLOSED"}} {
		d := sampleDebt("INACT-2")
		if tc.field == "agent" {
			d.AgentErpCode = tc.value
		} else {
			d.CurrentAccountErpCode = tc.value
		}
		_, err := h.client.Create(ctx, d)
		var fe *finrota.Error
		if !finrota.IsNotFound(err) || !errors.As(err, &fe) || !strings.Contains(strings.ToLower(fe.Message), tc.name) {
			t.Fatalf("create with inactive %s: %v", tc.name, err)
		}
		d.ErpCode = "INACT-1"
		if _, err := h.client.Update(ctx, finrota.Ref{UpdateErpCode: "INACT-1"}, d); !finrota.IsNotFound(err) {
			t.Fatalf("update with inactive %s: %v", tc.name, err)
		}
	}
	if _, ok := h.fake.Debt("INACT-2"); ok {
		t.Fatal("a debt booked to an inactive reference was stored")
	}
}
