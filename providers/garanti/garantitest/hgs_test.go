package garantitest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

type txnReply struct {
	Info *struct {
		ProductID string  `json:"productId"`
		Plate     string  `json:"plateTextValue"`
		Balance   float64 `json:"balanceAmount"`
		Class     string  `json:"vehicleClassId"`
		Card      string  `json:"cardNumber"`
		Account   int64   `json:"accountNum"`
	} `json:"hgsProductInfo"`
	Txns []struct {
		ProductID   string          `json:"productId"`
		Amount      decimal.Decimal `json:"transactionAmount"`
		DC          string          `json:"debitCreditInd"`
		Entrance    string          `json:"entranceTs"`
		Departure   string          `json:"departureTs"`
		EntranceLen int             `json:"entrancMtrwyTextLength"`
		EntranceMw  string          `json:"entrancMtrwyTextValue"`
		Explanation string          `json:"explanationText35"`
	} `json:"txnList"`
}

func parseTxns(t *testing.T, r reply) txnReply {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("txnlist: %d %s", r.status, r.body)
	}
	var out txnReply
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTxnListRules(t *testing.T) {
	e := newEnv(t)
	id, access, _ := e.active(consentJSON(func(m map[string]any) { m["frequencyPerDay"] = 50 }))
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	cases := []struct {
		name string
		edit func(m map[string]any)
		code string
	}{
		{"no product", set("productId", ""), "E046"},
		{"two products", set("productId", []string{"7001000101", "7001000102"}), "E047"},
		{"two products in a string", set("productId", "7001000101,7001000102"), "E047"},
		{"product id too long", set("productId", strings.Repeat("7", 21)), "E005"},
		{"no authorities", set("authorityList", []any{}), "E053"},
		{"bad authority", set("authorityList", []any{map[string]any{"authorityID": "X"}}), "E054"},
		{"no start", set("startInstanceId", ""), "E051"},
		{"bad date", set("startInstanceId", "2025/06/01"), "E049"},
		{"start after stop", set("startInstanceId", "2025-06-17"), "E048"},
		{"over a year", func(m map[string]any) { m["startInstanceId"] = "2024-07-01"; m["stopInstanceId"] = "2025-07-02" }, "E050"},
		{"before the consent's tranBeginDate", set("startInstanceId", "2024-06-30"), "E051"},
		{"product not in consent", set("productId", "7002000201"), "E052"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, e.txns(id, access, txnBody(c.edit)), 400, c.code) })
	}
	if st, _ := e.fake.Consent(id); st.UsageToday != 0 {
		t.Fatalf("rejected calls counted: %d", st.UsageToday)
	}

	r := e.txns(id, access, txnBody(nil))
	if r.header.Get("Consent-ID") != id {
		t.Fatalf("Consent-ID header %q", r.header.Get("Consent-ID"))
	}
	got := parseTxns(t, r)
	if got.Info == nil || got.Info.ProductID != "7001000101" || got.Info.Plate != "34 ABC 123" || got.Info.Class != "1" || got.Info.Account != 6298123 {
		t.Fatalf("product info = %+v", got.Info)
	}
	if len(got.Txns) < 10 {
		t.Fatalf("only %d transactions in two weeks", len(got.Txns))
	}
	prev := ""
	for _, tx := range got.Txns {
		if tx.Entrance < prev || tx.Entrance < "2025-06-01" || tx.Entrance > "2025-06-16T10" {
			t.Fatalf("out of order or range: %s after %s", tx.Entrance, prev)
		}
		prev = tx.Entrance
		if tx.DC == "B" && (tx.Departure == "" || tx.EntranceLen != len([]rune(tx.EntranceMw)) || !tx.Amount.IsPositive()) {
			t.Fatalf("passage = %+v", tx)
		}
	}
	// Filters: top-ups only, newest first, at most 2; debit only.
	got = parseTxns(t, e.txns(id, access, txnBody(func(m map[string]any) {
		m["orderByFieldNum"], m["sortOption"], m["scrollAmount"], m["startInstanceId"] = 2, "D", 2, "2024-07-01"
	})))
	if len(got.Txns) != 2 || got.Txns[0].DC != "A" || got.Txns[0].Entrance < got.Txns[1].Entrance || got.Txns[0].Departure != "" {
		t.Fatalf("top-ups = %+v", got.Txns)
	}
	got = parseTxns(t, e.txns(id, access, txnBody(set("debitCreditInd", "B"))))
	for _, tx := range got.Txns {
		if tx.DC != "B" {
			t.Fatalf("debit filter let through %+v", tx)
		}
	}
	// Only the transaction authority: no product info.
	got = parseTxns(t, e.txns(id, access, txnBody(set("authorityList", []any{map[string]any{"authorityID": AuthorityTransactionInfo}}))))
	if got.Info != nil || len(got.Txns) == 0 {
		t.Fatalf("transaction authority only = %+v", got)
	}
}

func TestFrequencyPerDay(t *testing.T) {
	e := newEnv(t)
	id, access, _ := e.active(consentJSON(func(m map[string]any) { m["frequencyPerDay"] = 2 }))
	if r := e.do("GET", ConsentsPath, e.dataHeaders(id, access), "", ""); r.status != 200 {
		t.Fatalf("read: %d", r.status)
	}
	parseTxns(t, e.txns(id, access, txnBody(nil)))
	r := e.txns(id, access, txnBody(nil))
	wantCode(t, r, 429, "")
	if r.header.Get("Retry-After") != "50401" { // 10:00 to midnight, plus a second
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	wantCode(t, e.do("GET", ConsentsPath, e.dataHeaders(id, access), "", ""), 429, "")
	// Status and products do not count; the next Istanbul day starts afresh.
	h := e.clientHeaders()
	h["Consent-ID"] = id
	if r := e.do("GET", ConsentsPath+"status", h, "", ""); r.status != 200 {
		t.Fatalf("status: %d", r.status)
	}
	e.clk.Advance(14 * time.Hour)
	wantCode(t, e.txns(id, access, txnBody(nil)), 401, "") // the token has long expired
}

func TestFrequencyResetsAtIstanbulMidnight(t *testing.T) {
	e := newEnv(t)
	e.fake.opts.AccessTokenLifetime = 48 * time.Hour
	id, access, _ := e.active(consentJSON(func(m map[string]any) { m["recurringIndicator"], m["frequencyPerDay"] = false, 1 }))
	parseTxns(t, e.txns(id, access, txnBody(nil)))
	wantCode(t, e.txns(id, access, txnBody(nil)), 429, "")
	e.clk.Advance(13*time.Hour + 59*time.Minute) // 23:59 Istanbul
	wantCode(t, e.txns(id, access, txnBody(nil)), 429, "")
	e.clk.Advance(time.Minute)
	parseTxns(t, e.txns(id, access, txnBody(nil)))
}

func TestDeleteModes(t *testing.T) {
	e := newEnv(t)
	open := func() (string, string) {
		id, access, _ := e.active(consentJSON(func(m map[string]any) { m["frequencyPerDay"] = 50 }))
		return id, access
	}
	del := func(id, access, body string) reply {
		return e.do("POST", ConsentsPath+"delete", e.dataHeaders(id, access), body, "application/json")
	}
	status := func(id string) []string {
		h := e.clientHeaders()
		h["Consent-ID"] = id
		var out statusList
		_ = json.Unmarshal(e.do("GET", ConsentsPath+"status", h, "", "").body, &out)
		var s []string
		for _, it := range out.List {
			s = append(s, it.AuthorityID+"="+it.ConsentStatus)
		}
		return s
	}
	onProduct := func(p string) func(m map[string]any) { return func(m map[string]any) { m["productId"] = p } }

	// Bad items.
	id, access := open()
	wantCode(t, del(id, access, `{"authorityConsentList":[{"authorityID":"ZZZZZ"}]}`), 400, "E029")
	wantCode(t, del(id, access, `{"authorityConsentList":[{"productId":"7002000201"}]}`), 400, "E052")
	wantCode(t, del(id, access, `{"authorityConsentList":[{}]}`), 400, "E004")
	wantCode(t, del(id, access, `{"authorityConsentList":[{"authorityID":"HgsTransactionInfo","authorityAttributeName":"x"}]}`), 400, "E027")

	// Authority only: inactive for every product.
	r := del(id, access, `{"authorityConsentList":[{"authorityID":"HgsTransactionInfo"}]}`)
	if r.status != 200 || r.json(t)["consentStatus"] != "A" {
		t.Fatalf("delete authority: %d %s", r.status, r.body)
	}
	wantCode(t, e.txns(id, access, txnBody(nil)), 400, "E056")
	if s := status(id); strings.Join(s, ",") != "HgsProductInfo=A,HgsTransactionInfo=I" {
		t.Fatalf("status after authority delete = %v", s)
	}
	only := func(a string) func(m map[string]any) {
		return func(m map[string]any) { m["authorityList"] = []any{map[string]any{"authorityID": a}} }
	}
	if got := parseTxns(t, e.txns(id, access, txnBody(only(AuthorityProductInfo)))); got.Info == nil {
		t.Fatal("product info withdrawn with the other authority")
	}

	// Product only: that product's authorisation is revoked.
	id, access = open()
	del(id, access, `{"authorityConsentList":[{"productId":"7001000101"}]}`)
	wantCode(t, e.txns(id, access, txnBody(nil)), 400, "E052")
	parseTxns(t, e.txns(id, access, txnBody(onProduct("7001000102"))))

	// Authority and product: that authority of that product.
	id, access = open()
	del(id, access, `{"authorityConsentList":[{"productId":"7001000101","authorityID":"HgsTransactionInfo"}]}`)
	wantCode(t, e.txns(id, access, txnBody(nil)), 400, "E056")
	parseTxns(t, e.txns(id, access, txnBody(onProduct("7001000102"))))
	if got := parseTxns(t, e.txns(id, access, txnBody(only(AuthorityProductInfo)))); got.Info == nil {
		t.Fatal("product info of the product withdrawn")
	}
	del(id, access, `{"authorityConsentList":[{"productId":"7001000101","authorityID":"HgsProductInfo"}]}`)
	wantCode(t, e.txns(id, access, txnBody(nil)), 400, "E055")

	// Whole consent.
	id, access = open()
	r = del(id, access, "")
	if r.status != 200 || r.json(t)["consentStatus"] != "I" {
		t.Fatalf("delete all: %d %s", r.status, r.body)
	}
	wantCode(t, e.txns(id, access, txnBody(onProduct("7001000102"))), 400, "E031")
	if s := status(id); strings.Join(s, ",") != "HgsProductInfo=I,HgsTransactionInfo=I" {
		t.Fatalf("status after delete = %v", s)
	}
	if st, _ := e.fake.Consent(id); st.Status != "I" {
		t.Fatalf("fake state %s", st.Status)
	}
}

func TestConsentExpiresAfterValidationDate(t *testing.T) {
	e := newEnv(t)
	e.fake.opts.AccessTokenLifetime = 24 * time.Hour
	id, access, refresh := e.active(consentJSON(func(m map[string]any) { m["validationDate"] = "2025-06-16" }))
	parseTxns(t, e.txns(id, access, txnBody(nil)))
	e.clk.Advance(14 * time.Hour) // midnight: the validation date is over
	wantCode(t, e.txns(id, access, txnBody(nil)), 400, "E031")
	h := e.clientHeaders()
	h["Consent-ID"] = id
	if r := e.do("GET", ConsentsPath+"status", h, "", ""); !strings.Contains(string(r.body), `"consentStatus":"S"`) {
		t.Fatalf("status after expiry: %s", r.body)
	}
	r := e.do("POST", "/cards/service/refreshtoken/v0", nil, `{"grant_type":"refresh_token","refresh_token":"`+refresh+`","client_id":"`+e.clientID+`","client_secret":"`+e.secret+`"}`, "application/json")
	wantCode(t, r, 400, "invalid_grant")
}

func TestSeedIsDeterministicAndPlausible(t *testing.T) {
	t0 := time.Now()
	now := func() time.Time { return start }
	a, b := New(Options{Now: now, Seed: true, RandSeed: 3}), New(Options{Now: now, Seed: true, RandSeed: 3})
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("seeding took %v", d)
	}
	if len(a.Customers()) != 3 || len(a.Products(SandboxCustomerNo)) != 3 || len(a.Products("23456789")) != 4 {
		t.Fatalf("customers/products: %d %d", len(a.Customers()), len(a.Products(SandboxCustomerNo)))
	}
	for _, p := range []string{"7001000101", "7002000202"} {
		ta, tb := a.Transactions(p), b.Transactions(p)
		if len(ta) < 500 || len(ta) != len(tb) || !ta[len(ta)/2].Amount.Equal(tb[len(tb)/2].Amount) {
			t.Fatalf("%s: %d vs %d transactions", p, len(ta), len(tb))
		}
		first, last := ta[0].EntranceTS, ta[len(ta)-1].EntranceTS
		if first.After(start.AddDate(-2, 0, 1)) || last.After(start) || last.Before(start.AddDate(0, 0, -3)) {
			t.Fatalf("%s spans %v – %v", p, first, last)
		}
		// The balance is the opening balance plus the movements.
		prod := findProduct(a, p)
		bal := prod.AutoPaymentAmount.Mul(decimal.NewFromInt(2))
		for _, tx := range ta {
			if tx.DebitCreditInd == "A" {
				bal = bal.Add(tx.Amount)
			} else {
				bal = bal.Sub(tx.Amount)
			}
		}
		if !bal.Equal(prod.Balance) {
			t.Fatalf("%s balance %s, movements give %s", p, prod.Balance, bal)
		}
	}
	// A class-5 truck pays more than a car on the same bridge this year.
	car, truck := maxOn(a.Transactions("7001000101"), "Osmangazi Köprüsü"), maxOn(a.Transactions("7002000202"), "Osmangazi Köprüsü")
	if !car.Equal(decimal.RequireFromString("995")) || !truck.Equal(decimal.RequireFromString("3165")) {
		t.Fatalf("Osmangazi tolls: car %s, truck %s", car, truck)
	}
	if c := New(Options{Now: now, Seed: true, RandSeed: 4}); len(c.Transactions("7001000101")) == len(a.Transactions("7001000101")) {
		t.Log("different seeds gave the same count (possible, but unlikely)")
	}
	// The cancelled tag stopped 120 days ago.
	tc := a.Transactions("7001000103")
	if last := tc[len(tc)-1].EntranceTS; last.After(start.AddDate(0, 0, -119)) {
		t.Fatalf("cancelled tag moved at %v", last)
	}
}

func findProduct(s *Server, id string) Product {
	for _, c := range s.Customers() {
		for _, p := range s.Products(c.CustomerNo) {
			if p.ProductID == id {
				return p
			}
		}
	}
	return Product{}
}

func maxOn(list []Transaction, motorway string) decimal.Decimal {
	m := decimal.Zero
	for _, t := range list {
		if t.EntranceMotorway == motorway && t.Amount.GreaterThan(m) {
			m = t.Amount
		}
	}
	return m
}

func TestProductInfoAuthorityAndBackEndFailures(t *testing.T) {
	e := newEnv(t)
	id, href := e.createOK(consentJSON(nil))
	rid, _ := e.login(href, nil)
	q := e.approve(rid, []string{"7001000101"}, []string{AuthorityTransactionInfo}) // product info left unchecked
	access := e.exchange(q.Get("code"), "").json(t)["access_token"].(string)
	e.do("POST", ConsentsPath+"products", e.dataHeaders(id, access), "", "")
	if st, _ := e.fake.Consent(id); len(st.Grants) != 2 || st.Grants[0].Flag || !st.Grants[1].Flag {
		t.Fatalf("grants = %+v", st.Grants)
	}
	wantCode(t, e.txns(id, access, txnBody(nil)), 400, "E057")
	e.fake.FailNextTxnList("E059", "E061")
	only := txnBody(func(m map[string]any) {
		m["authorityList"] = []any{map[string]any{"authorityID": AuthorityTransactionInfo}}
	})
	wantCode(t, e.txns(id, access, only), 400, "E059")
	wantCode(t, e.txns(id, access, only), 400, "E061")
	parseTxns(t, e.txns(id, access, only))
}
