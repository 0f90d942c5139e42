package vakifbank

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

// docSample is the example answer of the bank's documentation.
const docSample = `{
  "Header": {"StatusCode": "APIGW000000", "StatusDescription": "Completed", "ObjectID": "046b813c-1c74-4c07-b8e2-4956a07c49c4"},
  "Data": {"AccountTransactions": [
    {"CurrencyCode": "TL", "TransactionType": "1", "Description": "Borçlu:...", "Amount": "650.0",
     "TransactionCode": "SNTSTHSLAT", "Balance": "4957.61", "TransactionName": "Senet tahsilatı",
     "TransactionDate": "2020-02-05T10:47:47", "TransactionId": "2020000000000001"},
    {"CurrencyCode": "TL", "TransactionType": "1", "Description": "MASRAF VE KOMİSYON TUTARI...", "Amount": "7.0",
     "TransactionCode": "FYTSMSRFIPT", "Balance": "4964.61", "TransactionName": "Masraf Tahsilat İptali",
     "TransactionDate": "2020-02-05T10:50:04", "TransactionId": "2020000000000002"},
    {"CurrencyCode": "TL", "TransactionType": "2", "Description": "EFT ...", "Amount": "-200.0",
     "TransactionCode": "EFTTHSBEFT", "Balance": "4764.61", "TransactionName": "Hesaba giden EFT",
     "TransactionDate": "2020-02-07T16:20:25", "TransactionId": "2020000000000003"}]}}`

func TestParseDocumentationSample(t *testing.T) {
	txns, err := interpret(context.Background(), 200, []byte(docSample), "r")
	if err != nil {
		t.Fatal(err)
	}
	d := decimal.RequireFromString
	want := []Transaction{
		{ID: "2020000000000001", Date: ist(2020, 2, 5, 10, 47, 47), Type: In, Amount: d("650"), Balance: d("4957.61"),
			Currency: "TL", Code: "SNTSTHSLAT", Name: "Senet tahsilatı", Description: "Borçlu:..."},
		{ID: "2020000000000002", Date: ist(2020, 2, 5, 10, 50, 4), Type: In, Amount: d("7"), Balance: d("4964.61"),
			Currency: "TL", Code: "FYTSMSRFIPT", Name: "Masraf Tahsilat İptali", Description: "MASRAF VE KOMİSYON TUTARI..."},
		{ID: "2020000000000003", Date: ist(2020, 2, 7, 16, 20, 25), Type: Out, Amount: d("-200"), Balance: d("4764.61"),
			Currency: "TL", Code: "EFTTHSBEFT", Name: "Hesaba giden EFT", Description: "EFT ..."},
	}
	if len(txns) != len(want) {
		t.Fatalf("%d movements", len(txns))
	}
	for i := range want {
		g, w := txns[i], want[i]
		if g.ID != w.ID || !g.Date.Equal(w.Date) || g.Date.Location() != tz.Istanbul || g.Type != w.Type ||
			!g.Amount.Equal(w.Amount) || !g.Balance.Equal(w.Balance) || g.Currency != w.Currency ||
			g.Code != w.Code || g.Name != w.Name || g.Description != w.Description {
			t.Errorf("movement %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if b := balanceBreaks(txns); len(b) != 0 {
		t.Errorf("the documentation's sample breaks at %+v", b)
	}
	// The raw row is the bank's own text, kept for audit.
	var raw map[string]string
	if err := json.Unmarshal(txns[2].Raw, &raw); err != nil {
		t.Fatalf("raw row %q: %v", txns[2].Raw, err)
	}
	if raw["TransactionId"] != "2020000000000003" || raw["Amount"] != "-200.0" || raw["TransactionCode"] != "EFTTHSBEFT" {
		t.Errorf("raw row is %s", txns[2].Raw)
	}
}

func TestParseTolerance(t *testing.T) {
	row := func(fields string) string {
		return `{"Header":{"StatusCode":"APIGW000000"},"Data":{"AccountTransactions":[{` + fields + `}]}}`
	}
	base := `"TransactionType":"2","Amount":"-200.00","Balance":"4764.61","TransactionDate":"2020-02-07T16:20:25"`
	tests := []struct {
		name   string
		body   string
		check  func(Transaction) bool
		reject bool
	}{
		{"numeric id kept exactly", row(base + `,"TransactionId":9007199254740993`),
			func(tx Transaction) bool { return tx.ID == "9007199254740993" }, false},
		{"numeric amounts", row(`"TransactionId":"1","TransactionType":"1","Amount":650.10,"Balance":4957.61,"TransactionDate":"2020-02-05T10:47:47"`),
			func(tx Transaction) bool {
				return tx.Amount.String() == "650.1" && tx.Balance.Equal(decimal.RequireFromString("4957.61"))
			}, false},
		{"lower-case names", `{"header":{"statuscode":"APIGW000000"},"data":{"accounttransactions":[{"transactiontype":"2",` +
			`"amount":"-200.00","balance":"4764.61","transactiondate":"2020-02-07T16:20:25","transactionid":"abc"}]}}`,
			func(tx Transaction) bool { return tx.ID == "abc" && tx.Type == Out }, false},
		{"UTC date", row(`"TransactionId":"1","Amount":"1","Balance":"1","TransactionDate":"2020-02-05T07:47:47Z"`),
			func(tx Transaction) bool {
				return tx.Date.Equal(ist(2020, 2, 5, 10, 47, 47)) && tx.Date.Location() == tz.Istanbul
			}, false},
		{"offset date", row(`"TransactionId":"1","Amount":"1","Balance":"1","TransactionDate":"2020-02-05T10:47:47+03:00"`),
			func(tx Transaction) bool { return tx.Date.Equal(ist(2020, 2, 5, 10, 47, 47)) }, false},
		{"fractional seconds", row(`"TransactionId":"1","Amount":"1","Balance":"1","TransactionDate":"2020-02-05T10:47:47.123"`),
			func(tx Transaction) bool { return tx.Date.Truncate(time.Second).Equal(ist(2020, 2, 5, 10, 47, 47)) }, false},
		{"type from sign when missing", row(`"TransactionId":"1","Amount":"-3.5","Balance":"1","TransactionDate":"2020-02-05T10:47:47"`),
			func(tx Transaction) bool { return tx.Type == Out }, false},
		{"escaped text", row(base + `,"TransactionId":"1","Description":"A\"B\u00e7"`),
			func(tx Transaction) bool { return tx.Description == `A"Bç` }, false},
		{"unknown fields ignored", row(base + `,"TransactionId":"1","Channel":{"x":[1]}`),
			func(tx Transaction) bool { return tx.ID == "1" }, false},
		{"amount not a number", row(`"TransactionId":"1","Amount":"12,50","Balance":"1","TransactionDate":"2020-02-05T10:47:47"`), nil, true},
		{"no balance", row(`"TransactionId":"1","Amount":"1","TransactionDate":"2020-02-05T10:47:47"`), nil, true},
		{"bad date", row(`"TransactionId":"1","Amount":"1","Balance":"1","TransactionDate":"05.02.2020"`), nil, true},
		{"no id", row(base), nil, true},
		{"float as a boolean", row(base + `,"TransactionId":"1","Amount":true`), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txns, err := interpret(context.Background(), 200, []byte(tt.body), "r")
			if tt.reject {
				var ve *Error
				if !errors.As(err, &ve) || !ve.Malformed || ve.Status != 200 {
					t.Fatalf("got %v, %v; want a malformed error", txns, err)
				}
				return
			}
			if err != nil || len(txns) != 1 || !tt.check(txns[0]) {
				t.Fatalf("got %+v, %v", txns, err)
			}
		})
	}
}

func TestInterpretBodies(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantEmpty bool
		code      string
		malformed bool
	}{
		{"empty list", 200, `{"Header":{"StatusCode":"APIGW000000"},"Data":{"AccountTransactions":[]}}`, true, "", false},
		{"empty string list", 200, `{"Header":{"StatusCode":"APIGW000000"},"Data":{"AccountTransactions":""}}`, true, "", false},
		{"null list", 200, `{"Header":{"StatusCode":"APIGW000000"},"Data":{"AccountTransactions":null}}`, true, "", false},
		{"no list", 200, `{"Header":{"StatusCode":"APIGW000000"},"Data":{}}`, true, "", false},
		{"legacy empty", 200, `{"Status":{"Code":"APIGW000000","Description":"OK"},"Data":{"AccountTransactions":""}}`, true, "", false},
		{"202 with 404, no data", 404, `{"Header":{"StatusCode":"ACBH000202","StatusDescription":"x"}}`, true, "", false},
		{"202 with 500", 500, `{"Status":{"Code":"ACBH000202"}}`, true, "", false},
		{"ACBH on 200", 200, `{"Header":{"StatusCode":"ACBH000104","StatusDescription":"yok"},"Data":null}`, false, "ACBH000104", false},
		{"text list", 200, `{"Header":{"StatusCode":"APIGW000000"},"Data":{"AccountTransactions":"none"}}`, false, "", true},
		{"truncated", 200, `{"status":"success","result":{"items":[{"id":`, false, "", true},
		{"HTML", 200, `<html>bakım</html>`, false, "", true},
		{"no envelope", 200, `{"foo":1}`, false, "", true},
		{"JSON null", 200, `null`, false, "", true},
		{"array", 200, `[]`, false, "", true},
		{"HTML 502", 502, `<html>Bad Gateway</html>`, false, "", false},
		{"gateway 503", 503, `{"message":"Service Unavailable"}`, false, "", false},
		{"oauth 401", 401, `{"error":"invalid_token","error_description":"expired"}`, false, "invalid_token", false},
		{"status as a string", 500, `{"status":"error","message":"boom"}`, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txns, err := interpret(context.Background(), tt.status, []byte(tt.body), "rid")
			if tt.wantEmpty {
				if err != nil || txns == nil || len(txns) != 0 {
					t.Fatalf("got %v, %v; want empty", txns, err)
				}
				return
			}
			var ve *Error
			if !errors.As(err, &ve) || ve.Status != tt.status || ve.Code != tt.code || ve.Malformed != tt.malformed ||
				ve.RequestID != "rid" || ve.Message == "" {
				t.Fatalf("got %v, %#v", txns, err)
			}
		})
	}
}

// FuzzInterpret feeds arbitrary bodies to the parser: it must never panic,
// and whatever it accepts must be a usable movement.
func FuzzInterpret(f *testing.F) {
	f.Add(200, docSample)
	f.Add(200, `{"Status":{"Code":"APIGW000000"},"Data":{"AccountTransactions":[{"TransactionId":2020000000000001,"Amount":650.0,"Balance":1,"TransactionDate":"2020-02-05T10:47:47+03:00"}]}}`)
	f.Add(404, `{"Header":{"StatusCode":"ACBH000202"},"Data":{"AccountTransactions":""}}`)
	f.Add(403, `{"Header":{"StatusCode":"ACBH000104","StatusDescription":"x"}}`)
	f.Add(200, `{"data":{"accounttransactions":[{"transactionid":"1","amount":"1e3","balance":"-0.01","transactiondate":"2020-02-05"}]}}`)
	f.Add(401, `{"error":"invalid_token"}`)
	f.Add(200, `{"status":"success","result":{"items":[{"id":`)
	f.Add(200, `{"Header":"x","Status":7,"Data":[]}`)
	f.Add(200, `{"Data":{"AccountTransactions":[{"TransactionId":"\"","Amount":"\u0031","Balance":"1","TransactionDate":"2020-02-05T10:47:47"}]}}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		txns, err := interpret(context.Background(), status, []byte(body), "rid")
		if err != nil {
			var ve *Error
			if !errors.As(err, &ve) || ve.Status != status {
				t.Fatalf("error %v is not an *Error with the status", err)
			}
			_ = ve.Error()
			return
		}
		if txns == nil {
			t.Fatal("nil movements without an error")
		}
		for _, tx := range txns {
			if tx.ID == "" || tx.Date.IsZero() || tx.Date.Location() != tz.Istanbul || (tx.Type != In && tx.Type != Out) {
				t.Fatalf("accepted %+v", tx)
			}
			_ = tx.Amount.Add(tx.Balance).String()
		}
	})
}
