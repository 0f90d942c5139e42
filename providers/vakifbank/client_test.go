package vakifbank

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kasa/providers/apicall"
	"kasa/providers/tokens"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/tz"
)

var (
	dayStart = time.Date(2026, 3, 2, 0, 0, 0, 0, tz.Istanbul)
	dayEnd   = time.Date(2026, 3, 2, 23, 59, 59, 0, tz.Istanbul)
)

func TestTransactionsRequestAndResult(t *testing.T) {
	e := newEnv(t)
	got, err := e.client.Transactions(context.Background(), vakifbanktest.SandboxAccountTRY, dayStart, dayEnd)
	if err != nil {
		t.Fatal(err)
	}
	want := inWindow(e.fake.Movements(vakifbanktest.SandboxAccountTRY), dayStart, dayEnd)
	if len(want) < 20 {
		t.Fatalf("the seed has only %d movements on a weekday", len(want))
	}
	sameMovements(t, got, want)
	if got[0].Currency != "TL" {
		t.Errorf("Currency = %q", got[0].Currency)
	}

	reqs := e.requests()
	if len(reqs) != 2 || reqs[0].Path != "/auth/oauth/v2/token" || reqs[1].Path != "/accountTransactions" {
		t.Fatalf("requests = %v", e.paths())
	}
	form := string(reqs[0].Body)
	for _, kv := range []string{"grant_type=b2b_credentials", "client_id=kasa-sandbox-client", "scope=account",
		"consentId=b2b-consent-0001", "resource=sandbox"} {
		if !strings.Contains(form, kv) {
			t.Errorf("token form %q lacks %s", form, kv)
		}
	}
	wantBody := `{"AccountNumber":"00158000000000001","StartDate":"2026-03-02T00:00:00+03:00","EndDate":"2026-03-02T23:59:59+03:00"}`
	if string(reqs[1].Body) != wantBody {
		t.Errorf("body = %s\nwant   %s", reqs[1].Body, wantBody)
	}
	if reqs[1].ContentType != "application/json" || !strings.HasPrefix(reqs[1].Authorization, "Bearer ") {
		t.Errorf("headers: %+v", reqs[1])
	}
	if reqs[0].RequestID == "" || reqs[1].RequestID == "" {
		t.Errorf("missing X-Request-ID: %+v", reqs)
	}

	// A UTC start is sent as the same instant in Istanbul time.
	e.reset()
	if _, err := e.client.Transactions(context.Background(), vakifbanktest.SandboxAccountTRY, dayStart.UTC(), dayEnd.UTC()); err != nil {
		t.Fatal(err)
	}
	if r := e.requests(); string(r[0].Body) != wantBody {
		t.Errorf("from UTC times: body = %s", r[0].Body)
	}
}

func TestAPICallsRecorded(t *testing.T) {
	e := newEnv(t)
	ctx := apicall.WithRequestID(context.Background(), "fixed-id")
	if _, err := e.client.Transactions(ctx, vakifbanktest.SandboxAccountTRY, dayStart, dayEnd); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Transactions(ctx, vakifbanktest.OtherAccount, dayStart, dayEnd)
	if ErrorCode(err) != CodeAccountNotOwned {
		t.Fatalf("err = %v", err)
	}
	calls := e.recorded()
	want := []struct {
		op     string
		status int
		code   string
	}{{"token", 200, ""}, {"account_transactions", 200, ""}, {"account_transactions", 403, "ACBH000104"}}
	if len(calls) != len(want) {
		t.Fatalf("calls = %+v", calls)
	}
	for i, w := range want {
		c := calls[i]
		if c.Provider != "vakifbank" || c.Operation != w.op || c.Status != w.status || c.ErrorCode != w.code ||
			c.Method != "POST" || c.RequestID != "fixed-id" {
			t.Errorf("call %d = %+v, want %s %d %q", i, c, w.op, w.status, w.code)
		}
	}
}

func TestMessageCodes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		account    string
		start, end time.Time
		rewrite    func(map[string]any)
		status     int
		code       string
	}{
		{"empty account", "", dayStart, dayEnd, nil, 400, CodeAccountEmpty},
		{"short account", "158000000000001", dayStart, dayEnd, nil, 400, CodeAccountFormat},
		{"start date", vakifbanktest.SandboxAccountTRY, dayStart, dayEnd, func(m map[string]any) { m["StartDate"] = "02.03.2026" }, 400, CodeStartDateFormat},
		{"end date", vakifbanktest.SandboxAccountTRY, dayStart, dayEnd, func(m map[string]any) { m["EndDate"] = "2026-03-02" }, 400, CodeEndDateFormat},
		{"not owned", vakifbanktest.OtherAccount, dayStart, dayEnd, nil, 403, CodeAccountNotOwned},
		{"two years", vakifbanktest.SandboxAccountTRY, dayStart.AddDate(-2, 0, 0), dayEnd, nil, 400, CodeRangeTooLong},
		{"one year and a second", vakifbanktest.SandboxAccountTRY, dayStart.AddDate(-1, 0, 0), dayStart.Add(time.Second), nil, 400, CodeRangeTooLong},
		{"end before start", vakifbanktest.SandboxAccountTRY, dayEnd, dayStart, nil, 400, CodeRangeTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.reset()
			e.rewrite = tt.rewrite
			defer func() { e.rewrite = nil }()
			txns, err := e.client.Transactions(context.Background(), tt.account, tt.start, tt.end)
			var ve *Error
			if !errors.As(err, &ve) || txns != nil {
				t.Fatalf("got %d movements, err %v", len(txns), err)
			}
			text, _ := MessageText(tt.code)
			reqs := e.requests()
			if ve.Status != tt.status || ve.Code != tt.code || ve.Message != text || ve.Malformed ||
				ve.RequestID != reqs[len(reqs)-1].RequestID {
				t.Errorf("error = %+v, want %d %s %q", ve, tt.status, tt.code, text)
			}
			if IsRetryable(err) || ErrorCode(err) != tt.code {
				t.Errorf("retryable %v, code %q", IsRetryable(err), ErrorCode(err))
			}
			if want := "vakifbank: account transactions: " + tt.code + " (HTTP "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q, want prefix %q", err, want)
			}
			calls := e.recorded()
			if last := calls[len(calls)-1]; last.Operation != "account_transactions" || last.ErrorCode != tt.code || last.Status != tt.status {
				t.Errorf("recorded %+v", last)
			}
		})
	}
}

// noMovements is a range without movements on the seeded TRY account.
var noMovements = [2]time.Time{time.Date(2020, 1, 1, 0, 0, 0, 0, tz.Istanbul), time.Date(2020, 12, 31, 23, 59, 59, 0, tz.Istanbul)}

func TestNoMovementsIsEmpty(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		quirks vakifbanktest.Quirks
		status int
		code   string
	}{
		{"ACBH000202 with 404 and []", vakifbanktest.Quirks{}, 404, CodeNoMovements},
		{"empty string", vakifbanktest.Quirks{EmptyList: vakifbanktest.EmptyString}, 404, CodeNoMovements},
		{"null", vakifbanktest.Quirks{EmptyList: vakifbanktest.EmptyNull}, 404, CodeNoMovements},
		{"missing list", vakifbanktest.Quirks{EmptyList: vakifbanktest.EmptyMissing}, 404, CodeNoMovements},
		{"ACBH000202 with 200", vakifbanktest.Quirks{NoMovementsStatus: 200}, 200, CodeNoMovements},
		{"ACBH000202 with 400", vakifbanktest.Quirks{NoMovementsStatus: 400, EmptyList: vakifbanktest.EmptyString}, 400, CodeNoMovements},
		{"legacy envelope", vakifbanktest.Quirks{LegacyEnvelope: true, EmptyList: vakifbanktest.EmptyString}, 404, CodeNoMovements},
		{"completed with empty string", vakifbanktest.Quirks{NoMovementsCompleted: true, EmptyList: vakifbanktest.EmptyString}, 200, ""},
		{"completed with null", vakifbanktest.Quirks{NoMovementsCompleted: true, EmptyList: vakifbanktest.EmptyNull}, 200, ""},
		{"completed without list", vakifbanktest.Quirks{NoMovementsCompleted: true, EmptyList: vakifbanktest.EmptyMissing}, 200, ""},
		{"legacy completed", vakifbanktest.Quirks{LegacyEnvelope: true, NoMovementsCompleted: true}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.reset()
			e.fake.SetQuirks(tt.quirks)
			got, err := e.client.Transactions(context.Background(), vakifbanktest.SandboxAccountTRY, noMovements[0], noMovements[1])
			if err != nil || got == nil || len(got) != 0 {
				t.Fatalf("got %v, %v; want an empty list", got, err)
			}
			calls := e.recorded()
			if last := calls[len(calls)-1]; last.Status != tt.status || last.ErrorCode != tt.code {
				t.Errorf("recorded %+v, want %d %q", last, tt.status, tt.code)
			}
		})
	}
}

func TestToleratedShapes(t *testing.T) {
	e := newEnv(t)
	want := inWindow(e.fake.Movements(vakifbanktest.SandboxAccountUSD), dayStart.AddDate(0, -2, 0), dayEnd)
	for _, q := range []vakifbanktest.Quirks{
		{},
		{LegacyEnvelope: true},
		{NumericIDs: true},
		{NumericAmounts: true},
		{OffsetDates: true},
		{LegacyEnvelope: true, NumericIDs: true, NumericAmounts: true, OffsetDates: true},
	} {
		e.fake.SetQuirks(q)
		got, err := e.client.Transactions(context.Background(), vakifbanktest.SandboxAccountUSD, dayStart.AddDate(0, -2, 0), dayEnd)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		sameMovements(t, got, want)
	}
	// The legacy envelope carries refusals too.
	e.fake.SetQuirks(vakifbanktest.Quirks{LegacyEnvelope: true})
	_, err := e.client.Transactions(context.Background(), vakifbanktest.OtherAccount, dayStart, dayEnd)
	if ErrorCode(err) != CodeAccountNotOwned {
		t.Errorf("legacy refusal: %v", err)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	get := func() ([]Transaction, error) {
		return e.client.Transactions(ctx, vakifbanktest.SandboxAccountEUR, dayStart.AddDate(0, -1, 0), dayEnd)
	}
	if _, err := get(); err != nil { // caches a token, so faults meet the data call
		t.Fatal(err)
	}
	check := func(t *testing.T, status int, malformed bool) {
		t.Helper()
		txns, err := get()
		var ve *Error
		if !errors.As(err, &ve) || txns != nil || ve.Status != status || ve.Malformed != malformed || ve.RequestID == "" {
			t.Fatalf("got %v, %#v", txns, err)
		}
		if !IsRetryable(err) {
			t.Errorf("%v is not retryable", err)
		}
	}
	t.Run("malformed", func(t *testing.T) {
		e.fake.Faults.Malformed(true)
		defer e.fake.Faults.Reset()
		check(t, 200, true)
	})
	t.Run("503", func(t *testing.T) {
		e.fake.Faults.FailNext(1, 503)
		check(t, 503, false)
		if _, err := get(); err != nil {
			t.Errorf("after the fault: %v", err)
		}
	})
	t.Run("429", func(t *testing.T) {
		e.fake.Faults.FailNext(1, 429)
		check(t, 429, false)
	})
	t.Run("dropped connection", func(t *testing.T) {
		e.fake.Faults.DropConnections(true)
		defer e.fake.Faults.Reset()
		e.reset()
		_, err := get()
		var ve *Error
		if err == nil || errors.As(err, &ve) || !IsRetryable(err) {
			t.Fatalf("err = %#v", err)
		}
		if !strings.HasPrefix(err.Error(), "vakifbank: account transactions: ") {
			t.Errorf("message %q", err)
		}
		if calls := e.recorded(); len(calls) == 0 || calls[0].Status != 0 || calls[0].Failure == "" {
			t.Errorf("calls = %+v", calls)
		}
	})
	t.Run("token endpoint down", func(t *testing.T) {
		e2 := newEnv(t)
		e2.fake.Faults.FailNext(1, 500)
		_, err := e2.client.Transactions(ctx, vakifbanktest.SandboxAccountEUR, dayStart, dayEnd)
		var ve *Error
		if !errors.As(err, &ve) || ve.Status != 500 || !IsRetryable(err) || !strings.Contains(err.Error(), "token: ") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := e.client.Transactions(cctx, vakifbanktest.SandboxAccountEUR, dayStart, dayEnd)
		if !errors.Is(err, context.Canceled) || IsRetryable(err) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestKnownCodes(t *testing.T) {
	codes := KnownCodes()
	want := map[string]string{
		"ACBH000025": "Başlangıç tarihi formatı hatalıdır.",
		"ACBH000026": "Bitiş tarihi formatı hatalıdır.",
		"ACBH000034": "Hesap numarası boş olamaz.",
		"ACBH000035": "Hesap numarası uygun formatta girilmelidir.",
		"ACBH000104": "İşlem yapmak istediğiniz hesap oturumdaki müşteri numarasına ait değildir.",
		"ACBH000134": "Tarih aralığı maksimum 1 yıl olmalıdır.",
		"ACBH000202": "Seçilen tarih aralığında hesap hareketi bulunmamaktadır.",
	}
	if len(codes) != len(want) {
		t.Fatalf("KnownCodes = %v", codes)
	}
	for _, c := range codes {
		if want[c.Code] != c.Text {
			t.Errorf("%s: %q, want %q", c.Code, c.Text, want[c.Code])
		}
	}
	codes[0].Text = "changed"
	if text, _ := MessageText(CodeStartDateFormat); text != want[CodeStartDateFormat] {
		t.Error("KnownCodes shares its slice")
	}
	if _, ok := MessageText("ACBH999999"); ok {
		t.Error("an unknown code has a text")
	}
	e := &Error{Status: 403, Code: CodeAccountNotOwned, Message: "x", RequestID: "r1"}
	if got := e.Error(); got != "ACBH000104 (HTTP 403): x [request r1]" {
		t.Errorf("Error() = %q", got)
	}
}

// TestUnknownCodeOnSuccessIsAnError: a 2xx answer whose Header carries a
// code other than APIGW000000 (here a gateway failure, APIGW000500, with an
// empty list) is not "no movements": the client returns a retryable error
// with the code, so the range is never taken as stored. A documented ACBH
// refusal on a 2xx stays a final error.
func TestUnknownCodeOnSuccessIsAnError(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/auth/oauth/v2/token" {
			writeOrFail(t, w, `{"access_token":"t","token_type":"Bearer","expires_in":3600}`)
			return
		}
		writeOrFail(t, w, body)
	}))
	t.Cleanup(srv.Close)
	c := New(srv.URL, srv.Client(), Credentials{ClientID: "c", ClientSecret: "s", ConsentID: "k", Resource: "sandbox"}, &tokens.Memory{})
	for _, tt := range []struct {
		name, body, code string
		retryable        bool
	}{
		{"gateway failure", `{"Header":{"StatusCode":"APIGW000500","StatusDescription":"Internal error"},"Data":{"AccountTransactions":[]}}`, "APIGW000500", true},
		{"legacy envelope, unknown code", `{"Status":{"Code":"XYZ123","Description":"?"},"Data":{"AccountTransactions":""}}`, "XYZ123", true},
		{"undocumented ACBH code", `{"Header":{"StatusCode":"ACBH000999"},"Data":{"AccountTransactions":[]}}`, "ACBH000999", true},
		{"documented refusal", `{"Header":{"StatusCode":"ACBH000104"},"Data":null}`, "ACBH000104", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body = tt.body
			txns, err := c.Range(context.Background(), vakifbanktest.SandboxAccountTRY, dayStart, dayEnd)
			var ve *Error
			if !errors.As(err, &ve) || txns != nil {
				t.Fatalf("got %v, %v; want an error", txns, err)
			}
			if ve.Code != tt.code || ve.Status != http.StatusOK || IsRetryable(err) != tt.retryable {
				t.Fatalf("error %+v, retryable %v; want code %s retryable %v", ve, IsRetryable(err), tt.code, tt.retryable)
			}
		})
	}
}
