package finrota_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"kasa/providers/finrota"
	"kasa/providers/finrota/finrotatest"
)

func TestReadsHonourRetryAfter(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	// Token first, so only list requests meet the faults.
	if _, err := h.client.List(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	h.spy.reset()
	h.fake.Faults.FailNext(2, http.StatusTooManyRequests)
	if _, err := h.client.List(ctx, 1, 10); err != nil {
		t.Fatal(err)
	}
	if w := h.waited(); !reflect.DeepEqual(w, []time.Duration{time.Second, time.Second}) {
		t.Fatalf("waits %v", w)
	}
	reqs := h.spy.requests()
	if len(reqs) != 3 || reqs[0].Status != 429 || reqs[2].Status != 200 || reqs[0].RequestID != reqs[2].RequestID {
		t.Fatalf("requests %+v", reqs)
	}

	h.fake.Faults.FailNext(-1, http.StatusTooManyRequests)
	defer h.fake.Faults.Reset()
	_, err := h.client.GetByErpCode(ctx, "X")
	var fe *finrota.Error
	if !errors.As(err, &fe) || fe.Status != 429 || fe.RetryAfter != time.Second || !finrota.IsRetryable(err) {
		t.Fatalf("%v", err)
	}
	if n := len(h.waited()); n != 5 { // 2 before, 3 retries now
		t.Fatalf("%d waits, want 5", n)
	}
	if n := len(h.spy.requests()); n != 3+4 {
		t.Fatalf("%d requests, want 4 for the failing read", n-3)
	}
}

func TestReadsDoNotWaitBeyondTheCap(t *testing.T) {
	h := newHarness(t, finrotatest.Options{RequestsPerMinute: 2})
	ctx := context.Background()
	if _, err := h.client.List(ctx, 1, 1); err != nil { // token + list fill the window
		t.Fatal(err)
	}
	_, err := h.client.List(ctx, 1, 1)
	var fe *finrota.Error
	if !errors.As(err, &fe) || fe.Status != 429 || fe.RetryAfter != time.Minute || len(h.waited()) != 0 {
		t.Fatalf("%v, waits %v", err, h.waited())
	}
	h.client.MaxRetryWait = 2 * time.Minute
	h.client.Wait = func(ctx context.Context, d time.Duration) error { h.clock.Advance(d); return nil }
	if _, err := h.client.List(ctx, 1, 1); err != nil {
		t.Fatalf("after waiting the window out: %v", err)
	}
}

func TestWritesAreNotRetriedOn429(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	if _, err := h.client.List(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	h.fake.Faults.FailNext(1, http.StatusTooManyRequests)
	_, err := h.client.Create(ctx, sampleDebt("W-1"))
	var fe *finrota.Error
	if !errors.As(err, &fe) || fe.Status != 429 || !finrota.IsRetryable(err) || len(h.waited()) != 0 {
		t.Fatalf("%v waits %v", err, h.waited())
	}
	if _, ok := h.fake.Debt("W-1"); ok {
		t.Fatal("stored despite 429")
	}
	if err := h.client.SendOverdueNotifications(withFault(h, 429)); err == nil || len(h.waited()) != 0 {
		t.Fatalf("notifications retried: %v", err)
	}
	if _, err := h.client.Create(ctx, sampleDebt("W-1")); err != nil {
		t.Fatalf("the outbox's next attempt: %v", err)
	}
}

func withFault(h *harness, status int) context.Context {
	h.fake.Faults.FailNext(1, status)
	return context.Background()
}

func TestErrorEnvelopes(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	if _, err := h.client.Create(ctx, sampleDebt("E-1")); err != nil {
		t.Fatal(err)
	}
	badCurrency := sampleDebt("E-2")
	badCurrency.CurrencyID = "GBP"
	tooMuchPaid := sampleDebt("E-3")
	tooMuchPaid.PaidAmount = dec("1550.01")
	badType := sampleDebt("E-4")
	badType.DocumentType = "Ödeme"
	cases := []struct {
		name      string
		debt      finrota.Debt
		status    int
		code      string
		msg       string
		field     string
		notFound  bool
		conflict  bool
		validates bool
	}{
		{"status envelope", badCurrency, 404, "404", "finrota: create debt: 404 Not Found: Invalid currencyId", "", true, false, false},
		{"statusCode envelope", sampleDebt("E-1"), 409, "409", "finrota: create debt: 409 Conflict: A current account transaction with erpCode 'E-1' already exists or was used before.", "", false, true, false},
		{"field errors", tooMuchPaid, 400, "400", "finrota: create debt: 400 Bad Request: One or more validation errors occurred.; paidAmount: paidAmount cannot be greater than amount.", "paidAmount", false, false, true},
		{"document type", badType, 400, "400", "", "documentType", false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.Create(ctx, tc.debt)
			var fe *finrota.Error
			if !errors.As(err, &fe) || fe.Status != tc.status || fe.Code != tc.code || !uuidRE.MatchString(fe.RequestID) {
				t.Fatalf("%#v", err)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("message %q", err.Error())
			}
			if tc.field != "" && len(fe.Fields[tc.field]) == 0 {
				t.Fatalf("fields %v", fe.Fields)
			}
			if finrota.IsNotFound(err) != tc.notFound || finrota.IsConflict(err) != tc.conflict || (fe.Status == http.StatusBadRequest || fe.Status == http.StatusUnprocessableEntity) != tc.validates || finrota.IsRetryable(err) {
				t.Fatalf("classification of %v", err)
			}
			calls := h.rec.all()
			if last := calls[len(calls)-1]; last.Operation != "create_debt" || last.Status != tc.status || last.ErrorCode != tc.code || last.RequestID != fe.RequestID {
				t.Fatalf("recorded %+v", last)
			}
		})
	}
	_, err := h.client.Update(ctx, finrota.Ref{UpdateErpCode: "NOPE"}, sampleDebt("NOPE"))
	if !finrota.IsNotFound(err) || !strings.HasPrefix(err.Error(), "finrota: update debt: 404 Not Found: ") {
		t.Fatalf("update unknown: %v", err)
	}
}

func TestUnhealthyResponses(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	if _, err := h.client.List(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		setup   func()
		status  int
		code    string
		message string
	}{
		{"malformed success", func() { h.fake.Faults.Malformed(true) }, 200, "malformed", "malformed response: "},
		{"server error", func() { h.fake.Faults.FailNext(1, 500) }, 500, "", "Internal Server Error"},
		{"unavailable", func() { h.fake.Faults.FailNext(1, 503) }, 503, "", "Service Unavailable"},
		{"gateway html", func() {
			h.spy.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				writeOrFail(t, w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
				return true
			})
		}, 502, "", "unexpected text/html response"},
		{"empty error body", func() {
			h.spy.setIntercept(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(403); return true })
		}, 403, "", "Forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer h.fake.Faults.Reset()
			defer h.spy.setIntercept(nil)
			tc.setup()
			_, err := h.client.List(ctx, 1, 10)
			var fe *finrota.Error
			if !errors.As(err, &fe) || fe.Status != tc.status || fe.Code != tc.code || !strings.HasPrefix(fe.Message, tc.message) {
				t.Fatalf("%#v", err)
			}
			if finrota.IsRetryable(err) != (tc.status != 403) || errors.Is(err, finrota.ErrForbidden) != (tc.status == 403) {
				t.Fatalf("classification of %v", err)
			}
			calls := h.rec.all()
			if last := calls[len(calls)-1]; last.Status != tc.status || last.ErrorCode != tc.code || last.Operation != "list_debts" {
				t.Fatalf("recorded %+v", last)
			}
		})
	}
	if len(h.waited()) != 0 {
		t.Fatalf("non-429 failures waited %v", h.waited())
	}
}

func TestDroppedConnection(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	if _, err := h.client.List(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	h.fake.Faults.DropConnections(true)
	defer h.fake.Faults.Reset()
	_, err := h.client.Create(ctx, sampleDebt("D-1"))
	var fe *finrota.Error
	if err == nil || errors.As(err, &fe) || !finrota.IsRetryable(err) || !strings.HasPrefix(err.Error(), "finrota: create debt: ") {
		t.Fatalf("%v", err)
	}
	calls := h.rec.all()
	if last := calls[len(calls)-1]; last.Status != 0 || last.Failure == "" || last.Operation != "create_debt" {
		t.Fatalf("recorded %+v", last)
	}
}

func TestRejectedBeforeSending(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	threeDecimals := sampleDebt("R-1")
	threeDecimals.Amount = dec("10.005")
	noDate := sampleDebt("R-2")
	noDate.DueDate = time.Time{}
	checks := map[string]error{}
	_, checks["page 0"] = h.client.List(ctx, 0, 10)
	_, checks["pageSize 0"] = h.client.List(ctx, 1, 0)
	_, checks["pageSize 101"] = h.client.List(ctx, 1, 101)
	_, checks["no reference"] = h.client.Update(ctx, finrota.Ref{}, sampleDebt("R-0"))
	_, checks["three decimals"] = h.client.Create(ctx, threeDecimals)
	_, checks["no due date"] = h.client.Create(ctx, noDate)
	_, checks["empty code"] = h.client.GetByErpCode(ctx, " ")
	_, checks["empty id"] = h.client.GetByID(ctx, "")
	for name, err := range checks {
		if !errors.Is(err, finrota.ErrInvalidArgument) || finrota.IsRetryable(err) || !strings.HasPrefix(err.Error(), "finrota: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(h.spy.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	if _, err := h.client.List(ctx, 1, finrota.MaxPageSize); err != nil {
		t.Fatalf("pageSize 100: %v", err)
	}
}

func TestAPICallLog(t *testing.T) {
	h := newHarness(t, finrotatest.Options{})
	ctx := context.Background()
	if _, err := h.client.Create(ctx, sampleDebt("A-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Update(ctx, finrota.Ref{UpdateErpCode: "A-1"}, sampleDebt("A-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.List(ctx, 1, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.GetByErpCode(ctx, "A-1"); err != nil {
		t.Fatal(err)
	}
	if err := h.client.SendOverdueNotifications(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Create(ctx, sampleDebt("A-1")); err == nil {
		t.Fatal("a second create of A-1 succeeded")
	}
	var got []string
	for _, c := range h.rec.all() {
		if c.Provider != "finrota" || c.Duration < 0 || !uuidRE.MatchString(c.RequestID) {
			t.Fatalf("call %+v", c)
		}
		got = append(got, c.Method+" "+c.Operation+" "+http.StatusText(c.Status)+" "+c.ErrorCode)
	}
	want := []string{
		"POST token OK ", "POST create_debt OK ", "PUT update_debt OK ", "GET list_debts OK ", "GET get_debt OK ",
		"POST send_overdue_notifications OK ", "POST create_debt Conflict 409",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded\n%q\nwant\n%q", got, want)
	}
}

func TestDocumentTypes(t *testing.T) {
	var wire, english []string
	for _, d := range finrota.DocumentTypes {
		wire, english = append(wire, d.Wire), append(english, d.English)
	}
	if strings.Join(wire, "|") != "Senet|Çek|Kredi Kartı|Borç dekont|Fatura|Havale|Sipariş|Devir|Virman" ||
		strings.Join(english, "|") != "Promissory Note|Cheque|Credit Card|Debt Receipt|Invoice|Wire Transfer|Order|Carryover|Transfer" {
		t.Fatalf("%v %v", wire, english)
	}
	if d, ok := finrota.LookupDocumentType("Wire Transfer"); !ok || d.Wire != "Havale" {
		t.Fatal("alias lookup")
	}
	if _, ok := finrota.LookupDocumentType("Ödeme"); ok {
		t.Fatal("Ödeme accepted")
	}
	// Every type the client offers is accepted by the fake.
	h := newHarness(t, finrotatest.Options{})
	for i, d := range finrota.DocumentTypes {
		debt := sampleDebt("T-" + d.English)
		debt.DocumentType = []string{d.Wire, d.English}[i%2]
		if _, err := h.client.Create(context.Background(), debt); err != nil {
			t.Fatalf("%s: %v", d.Wire, err)
		}
		if got, err := h.client.GetByErpCode(context.Background(), debt.ErpCode); err != nil || got.DocumentType != d.Wire {
			t.Fatalf("%s read back as %q %v", d.Wire, got.DocumentType, err)
		}
	}
}
