package garanti

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

func TestParseErrorShapes(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		code   string
		info   string
		retry  time.Duration
	}{
		{"api error", 400, nil, `{"apiError":{"code":400,"info":"Bad Request","apiResponse":{"apiResponseCode":"E052","apiResponseInfo":"Customer has no consent for this product"}}}`,
			"E052", "Customer has no consent for this product", 0},
		{"api error, padded info", 400, nil, `{"apiError":{"code":"400","info":"Bad Request","apiResponse":{"apiResponseCode":" E001 ","apiResponseInfo":" ConsentID field length must be 36 characters!"}}}`,
			"E001", "ConsentID field length must be 36 characters!", 0},
		{"api error without response", 401, nil, `{"apiError":{"code":401,"info":"Invalid Credentials"}}`, "", "Invalid Credentials", 0},
		{"oauth error", 400, nil, `{"error":"invalid_grant","error_description":"code expired"}`, "invalid_grant", "code expired", 0},
		{"gateway message", 429, http.Header{"Retry-After": {"7"}}, `{"message":"Too Many Requests"}`, "", "Too Many Requests", 7 * time.Second},
		{"html", 502, nil, `<html><body>Bad gateway</body></html>`, "", "Bad Gateway", 0},
		{"empty", 500, nil, ``, "", "Internal Server Error", 0},
		{"control characters", 400, nil, "{\"apiError\":{\"apiResponse\":{\"apiResponseCode\":\"E049\",\"apiResponseInfo\":\"Date\\nformat\\u0000\"}}}", "E049", "Date format", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := parseError(c.status, c.header, []byte(c.body), "rid")
			if e.Status != c.status || e.Code != c.code || e.Info != c.info || e.RetryAfter != c.retry || e.RequestID != "rid" {
				t.Fatalf("got %+v", e)
			}
		})
	}
	long := parseError(400, nil, []byte(`{"apiError":{"apiResponse":{"apiResponseCode":"E001","apiResponseInfo":"`+strings.Repeat("ş", 1000)+`"}}}`), "")
	if len([]rune(long.Info)) != 300 {
		t.Fatalf("info not bounded: %d", len([]rune(long.Info)))
	}
	if got := (&Error{Status: 400, Code: "E047", Info: "Only one product must be selected", RequestID: "r1"}).Error(); got != "400 Bad Request: E047 Only one product must be selected (request r1)" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestSuccessCarryingAnError(t *testing.T) {
	var out map[string]any
	e := decodeSuccess(200, []byte(`{"apiError":{"code":400,"apiResponse":{"apiResponseCode":"E059","apiResponseInfo":"HGS transaction list service call error"}}}`), "r", &out)
	if e == nil || e.Code != "E059" || e.Status != 200 {
		t.Fatalf("got %+v", e)
	}
	if e := decodeSuccess(200, []byte(`{"items":[`), "r", &out); e == nil || e.Code != CodeMalformed {
		t.Fatalf("truncated body: %+v", e)
	}
	if e := decodeSuccess(200, []byte(`{"consentStatus":"A"}`), "r", &out); e != nil {
		t.Fatalf("good body: %+v", e)
	}
}

// tokenServer answers every request with body.
func tokenServer(t *testing.T, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		writeOrFail(t, w, body)
	}))
	t.Cleanup(srv.Close)
	c := New(srv.URL, srv.Client(), AppCredentials{ClientID: "id", ClientSecret: "secret"})
	c.Now = func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	return c
}

func TestTokenExpiresIn(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for body, want := range map[string]time.Time{
		`{"access_token":"a","expires_in":3600}`:    t0.Add(time.Hour),
		`{"access_token":"a","expires_in":"120"}`:   t0.Add(2 * time.Minute),
		`{"access_token":"a"}`:                      t0.Add(30 * time.Minute),
		`{"access_token":"a","expires_in":"soon"}`:  t0.Add(30 * time.Minute),
		`{"access_token":"a","expires_in":null}`:    t0.Add(30 * time.Minute),
		`{"access_token":"a","expires_in":-5}`:      t0.Add(30 * time.Minute),
		`{"access_token":"a","expires_in":"59.0"}`:  t0.Add(59 * time.Second),
		`{"ACCESS_TOKEN":"a","Expires_In":"60"}`:    t0.Add(time.Minute),
		`{"access_token":"a","expires_in":1e3}`:     t0.Add(1000 * time.Second),
		`{"access_token":"a","expires_in":"3600 "}`: t0.Add(time.Hour),
	} {
		tok, err := tokenServer(t, body).ClientToken(context.Background())
		if err != nil || tok.AccessToken != "a" || !tok.Expiry.Equal(want) {
			t.Errorf("%s: %+v %v", body, tok, err)
		}
	}
	c := tokenServer(t, `{"access_token":"a"}`)
	c.DefaultTokenLifetime = 0
	if tok, _ := c.ClientToken(context.Background()); !tok.Expiry.IsZero() || tok.Expired(time.Now(), time.Minute) {
		t.Fatalf("unknown expiry: %+v", tok)
	}
	if _, err := tokenServer(t, `{"token":"a"}`).ClientToken(context.Background()); !IsCode(err, CodeMalformed) {
		t.Fatalf("no access_token: %v", err)
	}
}

func TestRefreshKeepsTheOldTokenWhenNoneIsReturned(t *testing.T) {
	tok, err := tokenServer(t, `{"access_token":"new","expires_in":60}`).Refresh(context.Background(), "old-refresh")
	if err != nil || tok.RefreshToken != "old-refresh" || tok.AccessToken != "new" {
		t.Fatalf("%+v %v", tok, err)
	}
	tok, _ = tokenServer(t, `{"access_token":"new","refresh_token":"rotated"}`).Refresh(context.Background(), "old-refresh")
	if tok.RefreshToken != "rotated" {
		t.Fatalf("%+v", tok)
	}
}

func TestLenientHGSFields(t *testing.T) {
	c := tokenServer(t, `{"hgsProductInfo":{"productId":7001,"vehicleClassId":2,"plateTextValue":" 34 ABC 123 ","accountUnitNum":"401","accountNum":0,
		"cardNumber":"540061******4417","autoPymntAmnt":"500.10","minPaymentAmnt":100,"mobilePhoneNum":905321234567,"balanceAmount":12.5,"statuText20":"AKTIF "},
		"txnList":[{"productId":"7001","transactionAmount":"59.00","debitCreditInd":"b","entranceTs":"2025-06-01 08:15:00",
		"departureTs":"2025-06-01-08.20.30.000000","entrancMtrwyTextValue":"FSM ","explanationText35":"GECIS"},
		{"transactionAmount":500,"debitCreditInd":"A","entranceTs":"2025-06-01T09:00:00+03:00","departureTs":null}]}`)
	res, err := c.HGSTransactions(context.Background(), "c", "t", TxnQuery{ProductID: "7001"})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Product
	if p.ProductID != "7001" || p.VehicleClassID != "2" || p.Plate != "34 ABC 123" || p.AccountNum != "" || p.MobilePhone != "905321234567" ||
		!p.AutoPaymentAmount.Equal(decimal.RequireFromString("500.10")) || !p.Balance.Equal(decimal.RequireFromString("12.5")) || p.StatusText != "AKTIF" {
		t.Fatalf("product %+v", p)
	}
	tx := res.Transactions
	wantEntry := time.Date(2025, 6, 1, 5, 15, 0, 0, time.UTC)
	if len(tx) != 2 || tx[0].DebitCredit != Debit || !tx[0].EntranceTS.Equal(wantEntry) || !tx[0].DepartureTS.Equal(wantEntry.Add(5*time.Minute+30*time.Second)) ||
		tx[1].ProductID != "7001" || !tx[1].DepartureTS.IsZero() || tx[1].DebitCredit != Credit {
		t.Fatalf("transactions %+v", tx)
	}
	if _, err := tokenServer(t, `{"txnList":[{"entranceTs":"yesterday"}]}`).HGSTransactions(context.Background(), "c", "t", TxnQuery{}); !IsCode(err, CodeMalformed) {
		t.Fatalf("unreadable timestamp: %v", err)
	}
}

func TestTransactionKey(t *testing.T) {
	at := time.Date(2025, 6, 1, 8, 15, 0, 0, tz.Istanbul)
	a := HGSTransaction{ProductID: "7001", Amount: decimal.RequireFromString("59.00"), DebitCredit: "B", EntranceTS: at, DepartureTS: at.Add(time.Minute), Explanation: "GECIS", EntranceMotorway: "FSM"}
	b := a
	b.Amount, b.EntranceTS, b.DepartureTS, b.EntranceMotorway = decimal.RequireFromString("59"), at.UTC(), at.Add(time.Minute).UTC(), "other text"
	if a.Key() != b.Key() || len(a.Key()) != 64 {
		t.Fatal("same transaction, different keys")
	}
	for _, change := range []func(x *HGSTransaction){
		func(x *HGSTransaction) { x.ProductID = "7002" },
		func(x *HGSTransaction) { x.Amount = decimal.RequireFromString("59.01") },
		func(x *HGSTransaction) { x.DebitCredit = "A" },
		func(x *HGSTransaction) { x.EntranceTS = x.EntranceTS.Add(time.Second) },
		func(x *HGSTransaction) { x.DepartureTS = time.Time{} },
		func(x *HGSTransaction) { x.Explanation = "GECIS2" },
	} {
		c := a
		change(&c)
		if c.Key() == a.Key() {
			t.Fatalf("change not in key: %+v", c)
		}
	}
}

func FuzzParseResponses(f *testing.F) {
	for _, s := range []string{
		`{"apiError":{"code":400,"info":"Bad Request","apiResponse":{"apiResponseCode":"E052","apiResponseInfo":"x"}}}`,
		`{"apiError":null}`, `{"apiError":{"apiResponse":{"apiResponseCode":5}}}`, `{"error":"invalid_grant"}`, `{"message":"x"}`,
		`{"hgsProductInfo":{"productId":1,"balanceAmount":"1.5"},"txnList":[{"transactionAmount":"x","entranceTs":"2025-06-01"}]}`,
		`{"consentId":"c","recurringIndicator":"Y","frequencyPerDay":"4","authorityConsentList":[{"productId":1,"authorityFLAG":"true"}]}`,
		`[]`, `null`, ``, `{`, "\x00\xff",
	} {
		f.Add(400, s)
		f.Add(200, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		e := parseError(status, http.Header{"Retry-After": {body}}, []byte(body), "r")
		if e == nil || e.Status != status || len([]rune(e.Info)) > 300 {
			t.Fatalf("parseError = %+v", e)
		}
		_ = e.Error()
		var h hgsWire
		_ = decodeSuccess(status, []byte(body), "r", &h)
		var c consentWire
		if decodeSuccess(status, []byte(body), "r", &c) == nil {
			_ = c.consent()
		}
		var tr tokenResponse
		if json.Unmarshal([]byte(body), &tr) == nil {
			_, _ = expiresIn(tr.ExpiresIn)
		}
		_, _ = parseTimestamp(body)
		_, _ = parseDate(body)
		_ = MapStatus(body)
	})
}

// TestConsentAnswerDates: the bank's documents list no transaction dates in
// a consent's answer; when a bank includes them they are read, as Istanbul
// calendar days, and when not they stay zero.
func TestConsentAnswerDates(t *testing.T) {
	var w consentWire
	if err := json.Unmarshal([]byte(`{"consentId":"x","recurringIndicator":"true","validationDate":"2026-03-01","frequencyPerDay":"4",
		"tranBeginDate":"2025-03-01","tranEndDate":"2026-02-28T23:30:00Z","authorityConsentList":[]}`), &w); err != nil {
		t.Fatal(err)
	}
	c := w.consent()
	if c.TranBeginDate.Format(dateLayout) != "2025-03-01" || c.TranEndDate.Format(dateLayout) != "2026-03-01" || c.TranEndDate.Location() != tz.Istanbul {
		t.Fatalf("dates = %v %v", c.TranBeginDate, c.TranEndDate)
	}
	w = consentWire{}
	if err := json.Unmarshal([]byte(`{"consentId":"x","validationDate":"2026-03-01"}`), &w); err != nil {
		t.Fatal(err)
	}
	if c := w.consent(); !c.TranBeginDate.IsZero() || !c.TranEndDate.IsZero() || c.ValidationDate.IsZero() {
		t.Fatalf("absent dates = %+v", c)
	}
}
