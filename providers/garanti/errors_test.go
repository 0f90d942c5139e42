package garanti_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"kasa/providers/garanti"
)

func TestErrorMapping(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, tok := e.connect(validRequest())
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	txn := func(q garanti.TxnQuery) func() error {
		return func() error {
			if q.ProductID == "" {
				q.ProductID = "7001000101"
			}
			_, err := e.client.HGSTransactions(ctx, id, tok.AccessToken, q)
			return err
		}
	}
	badClient := e.newClient(garanti.AppCredentials{ClientID: e.app.ClientID, ClientSecret: "wrong", ClientIDPortal: "p", TPPName: "K", RedirectURI: redirectURI})
	noPortal := e.app
	noPortal.ClientIDPortal = ""
	cases := []struct {
		name   string
		op     string // the call log's operation of the failing call
		call   func() error
		status int
		code   string
	}{
		{"one-off with frequency 2", "create_consent", func() error {
			r := validRequest()
			r.Recurring = false
			_, err := e.client.CreateConsent(ctx, r, "", "")
			return err
		}, 400, "E022"},
		{"missing portal id", "create_consent", func() error {
			_, err := e.newClient(noPortal).CreateConsent(ctx, validRequest(), "", "")
			return err
		}, 400, "E015"},
		{"short consent id", "consent_status", func() error { _, err := e.client.ConsentStatus(ctx, "abc"); return err }, 400, "E001"},
		{"unknown consent", "consent_status", func() error {
			_, err := e.client.ConsentStatus(ctx, "00000000-0000-0000-0000-000000000000")
			return err
		}, 400, "E032"},
		{"bad access token", "read_consent", func() error { _, err := e.client.ReadConsent(ctx, id, "nope"); return err }, 401, ""},
		{"products of an active consent's bad token", "consent_products", func() error {
			_, err := e.client.ConsentProducts(ctx, id, "nope")
			return err
		}, 401, ""},
		{"wrong client secret", "client_token", func() error { _, err := badClient.ClientToken(ctx); return err }, 401, "invalid_client"},
		{"made-up code", "exchange_code", func() error { _, err := e.client.ExchangeCode(ctx, "x", ""); return err }, 400, "invalid_grant"},
		{"made-up refresh token", "refresh_token", func() error { _, err := e.client.Refresh(ctx, "x"); return err }, 400, "invalid_grant"},
		{"registration without URIs", "register", func() error { _, _, err := e.client.Register(ctx, nil, "X"); return err }, 400, ""},
		{"two products", "hgs_transactions", txn(garanti.TxnQuery{ProductID: "7001000101,7001000102", Start: day(2025, 6, 1), End: day(2025, 6, 2)}), 400, "E047"},
		{"start after end", "hgs_transactions", txn(garanti.TxnQuery{Start: day(2025, 6, 2), End: day(2025, 6, 1)}), 400, "E048"},
		{"over a year", "hgs_transactions", txn(garanti.TxnQuery{Start: day(2024, 7, 1), End: day(2025, 7, 2)}), 400, "E050"},
		{"outside the consent", "hgs_transactions", txn(garanti.TxnQuery{Start: day(2024, 1, 1), End: day(2024, 2, 1)}), 400, "E051"},
		{"no start date", "hgs_transactions", txn(garanti.TxnQuery{End: day(2024, 2, 1)}), 400, "E051"},
		{"other customer's tag", "hgs_transactions", txn(garanti.TxnQuery{ProductID: "7002000201", Start: day(2025, 6, 1), End: day(2025, 6, 2)}), 400, "E052"},
		{"unknown authority", "hgs_transactions", txn(garanti.TxnQuery{Start: day(2025, 6, 1), End: day(2025, 6, 2), Authorities: []string{"X"}}), 400, "E054"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.reset()
			err := c.call()
			var ge *garanti.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not *garanti.Error", err)
			}
			if ge.Status != c.status || ge.Code != c.code || ge.RequestID == "" || ge.Info == "" {
				t.Fatalf("got %+v, want %d %q", ge, c.status, c.code)
			}
			if !strings.HasPrefix(err.Error(), "garanti: ") || strings.Contains(err.Error(), e.app.ClientSecret) || strings.Contains(err.Error(), tok.AccessToken) {
				t.Fatalf("message %q", err)
			}
			if c.code != "" && (!garanti.IsCode(err, c.code) || garanti.Codes[c.code] == "" && strings.HasPrefix(c.code, "E")) {
				t.Fatalf("IsCode/Codes for %s", c.code)
			}
			calls := e.recorded()
			last := calls[len(calls)-1]
			if last.Operation != c.op || last.ErrorCode != c.code || last.Status != c.status || last.RequestID != ge.RequestID {
				t.Fatalf("recorded %+v", last)
			}
		})
	}
}

func TestFaultsAndThrottling(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := validRequest()
	r.FrequencyPerDay = 1
	id, tok := e.connect(r)
	q := garanti.TxnQuery{ProductID: "7001000102", Start: start, End: start}

	e.fake.Faults.FailNext(1, http.StatusServiceUnavailable)
	_, err := e.client.ConsentStatus(ctx, id)
	var ge *garanti.Error
	if !errors.As(err, &ge) || ge.Status != 503 || !garanti.IsRetryable(err) {
		t.Fatalf("503: %v", err)
	}
	e.fake.Faults.FailNext(1, http.StatusTooManyRequests)
	_, err = e.client.ConsentStatus(ctx, id)
	if !errors.As(err, &ge) || ge.Status != 429 || ge.RetryAfter != time.Second || !garanti.IsRetryable(err) {
		t.Fatalf("429: %+v", err)
	}
	e.fake.Faults.Malformed(true)
	_, err = e.client.ConsentStatus(ctx, id)
	if !garanti.IsCode(err, garanti.CodeMalformed) || !garanti.IsRetryable(err) {
		t.Fatalf("malformed: %v", err)
	}
	e.fake.Faults.Malformed(false)
	e.fake.Faults.DropConnections(true)
	_, err = e.client.ConsentStatus(ctx, id)
	if err == nil || errors.As(err, &ge) || !garanti.IsRetryable(err) {
		t.Fatalf("dropped connection: %v", err)
	}
	e.fake.Faults.Reset()

	// frequencyPerDay: the first data call of the day passes, the next is 429.
	if _, err := e.client.HGSTransactions(ctx, id, tok.AccessToken, q); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.HGSTransactions(ctx, id, tok.AccessToken, q)
	if !errors.As(err, &ge) || ge.Status != 429 || ge.RetryAfter != 14*time.Hour+time.Second || !garanti.IsRetryable(err) {
		t.Fatalf("frequency: %+v", err)
	}
	calls := e.recorded()
	if calls[len(calls)-1].Status != 429 || calls[len(calls)-1].Operation != "hgs_transactions" {
		t.Fatalf("recorded %+v", calls[len(calls)-1])
	}
	if garanti.IsRetryable(nil) || garanti.IsRetryable(context.Canceled) || garanti.IsRetryable(&garanti.Error{Status: 400, Code: "E052"}) ||
		!garanti.IsRetryable(&garanti.Error{Status: 400, Code: "E059"}) {
		t.Fatal("IsRetryable classification")
	}
}

func TestCodesCatalogue(t *testing.T) {
	if len(garanti.Codes) != 50 {
		t.Fatalf("%d codes", len(garanti.Codes))
	}
	for code, want := range map[string]string{
		"E001": "ConsentID field length must be 36 characters!",
		"E022": "Error frequencyPerDay.If recurringIndicator is false, frequencyPerDay must be 1",
		"E042": "tranEndDate can not be smaller than tranBeginDate!",
		"E047": "Only one product must be selected",
		"E050": "Date range cannot be longer than 1 year",
		"E052": "Customer has no consent for this product",
		"E056": "Product has no authority for HgsTransactionInfo",
		"E061": "HGS transaction list main service error",
	} {
		if garanti.Codes[code] != want {
			t.Errorf("%s = %q", code, garanti.Codes[code])
		}
	}
	for _, missing := range []string{"E002", "E018", "E030", "E034", "E062"} {
		if _, ok := garanti.Codes[missing]; ok {
			t.Errorf("%s is not in the seed", missing)
		}
	}
}
