package vakifbanktest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/providers/vakifbank/vakifbanktest"
)

func TestSeed(t *testing.T) {
	start := time.Now()
	fake := vakifbanktest.New(vakifbanktest.Options{Now: func() time.Time { return testNow }, Seed: true, RandSeed: 7})
	if d := time.Since(start); d > time.Second {
		t.Errorf("seeding took %v", d)
	}
	accounts := fake.Accounts()
	want := []vakifbanktest.Account{
		{Number: vakifbanktest.SandboxAccountTRY, Currency: "TL", Owner: vakifbanktest.SandboxCustomer},
		{Number: vakifbanktest.SandboxAccountUSD, Currency: "USD", Owner: vakifbanktest.SandboxCustomer},
		{Number: vakifbanktest.SandboxAccountEUR, Currency: "EUR", Owner: vakifbanktest.SandboxCustomer},
		{Number: vakifbanktest.OtherAccount, Currency: "TL", Owner: vakifbanktest.OtherCustomer},
	}
	if len(accounts) != len(want) {
		t.Fatalf("accounts = %v", accounts)
	}
	ids := map[string]bool{}
	for i, a := range accounts {
		if a != want[i] {
			t.Errorf("account %d = %v, want %v", i, a, want[i])
		}
		ms := fake.Movements(a.Number)
		min, max := 300, 5000
		if a.Number == vakifbanktest.SandboxAccountTRY {
			min, max = 20000, 60000
		}
		if len(ms) < min || len(ms) > max {
			t.Errorf("%s has %d movements, want %d..%d", a.Number, len(ms), min, max)
		}
		if first := ms[0].Date; first.Before(testNow.AddDate(-3, 0, -1)) || first.After(testNow.AddDate(-3, 0, 7)) {
			t.Errorf("%s starts %v, want three years before %v", a.Number, first, testNow)
		}
		codes := map[string]bool{}
		for j, m := range ms {
			if ids[m.ID] {
				t.Fatalf("TransactionId %s repeats", m.ID)
			}
			ids[m.ID] = true
			codes[m.Code] = true
			if m.Date.After(testNow) {
				t.Fatalf("%s: movement %s at %v is after now", a.Number, m.ID, m.Date)
			}
			if j > 0 && !m.Date.After(ms[j-1].Date) {
				t.Fatalf("%s: movement %d at %v is not after %v", a.Number, j, m.Date, ms[j-1].Date)
			}
			if m.Amount.Exponent() < -2 || m.Amount.IsZero() {
				t.Fatalf("%s: amount %v", m.ID, m.Amount)
			}
			if (m.Type == 1) != m.Amount.IsPositive() || (m.Type != 1 && m.Type != 2) {
				t.Fatalf("%s: type %d with amount %v", m.ID, m.Type, m.Amount)
			}
			if j > 0 && !ms[j-1].Balance.Add(m.Amount).Equal(m.Balance) {
				t.Fatalf("%s: balance chain breaks at %d: %v + %v != %v", a.Number, j, ms[j-1].Balance, m.Amount, m.Balance)
			}
			if m.Currency != a.Currency || m.Name == "" || m.Description == "" {
				t.Fatalf("%s: %+v", a.Number, m)
			}
		}
		if a.Currency == "TL" {
			for _, c := range []string{"EFTGLNEFT", "EFTTHSBEFT", "SNTSTHSLAT", "FYTSMSRF"} {
				if !codes[c] {
					t.Errorf("%s has no %s movement", a.Number, c)
				}
			}
		}
	}
	salaries := 0
	for _, m := range fake.Movements(vakifbanktest.SandboxAccountTRY) {
		if m.Name == "Maaş ödemesi" && strings.HasPrefix(m.Description, "MAAŞ ÖDEMESİ") {
			salaries++
		}
	}
	if salaries < 12*35 { // twelve people, at least 35 of the 36 months
		t.Errorf("%d salary payments in three years", salaries)
	}

	again := vakifbanktest.New(vakifbanktest.Options{Now: func() time.Time { return testNow }, Seed: true, RandSeed: 7})
	a, b := fake.Movements(vakifbanktest.SandboxAccountEUR), again.Movements(vakifbanktest.SandboxAccountEUR)
	if len(a) != len(b) || a[len(a)-1].ID != b[len(b)-1].ID || !a[len(a)-1].Balance.Equal(b[len(b)-1].Balance) {
		t.Errorf("the same seed gave different movements")
	}
	other := vakifbanktest.New(vakifbanktest.Options{Now: func() time.Time { return testNow }, Seed: true, RandSeed: 8})
	if c := other.Movements(vakifbanktest.SandboxAccountEUR); len(c) == len(a) && c[len(c)-1].Balance.Equal(a[len(a)-1].Balance) {
		t.Errorf("another seed gave the same movements")
	}
	if fake.Movements("00158000000000777") != nil {
		t.Errorf("movements of an unknown account")
	}
}

func TestAddAccountAndBoundaries(t *testing.T) {
	f := newFixture(t, false)
	at := func(s string) time.Time { tm, _ := time.ParseInLocation("2006-01-02T15:04:05", s, istanbul); return tm }
	d := decimal.RequireFromString
	const number = "00158000000000555"
	err := f.fake.AddAccount(vakifbanktest.Account{Number: number, Currency: "TL"}, []vakifbanktest.Movement{
		{ID: "3", Date: at("2026-01-06T09:00:00"), Amount: d("-200.00"), Balance: d("4764.61"), Name: "Hesaba giden EFT"},
		{ID: "1", Date: at("2026-01-05T10:47:47"), Amount: d("650.00"), Balance: d("4957.61"), Name: "Senet tahsilatı"},
		{Date: at("2026-01-05T23:59:59"), Amount: d("7.00"), Balance: d("4964.61")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Accounts(); len(got) != 1 || got[0].Owner != vakifbanktest.SandboxCustomer {
		t.Fatalf("accounts = %v", got)
	}
	ms := f.fake.Movements(number)
	if ms[0].ID != "1" || ms[2].ID != "3" || ms[1].ID == "" || ms[2].Type != 2 || ms[1].Type != 1 {
		t.Fatalf("movements = %+v", ms)
	}
	tok := f.token(t)
	count := func(start, end string) int {
		resp, body := f.query(t, tok, reqBody(number, start, end))
		if resp.StatusCode == 404 {
			return 0
		}
		return len(rowsOf(t, body))
	}
	// Both ends are inclusive, to the second.
	if n := count("2026-01-05T10:47:47", "2026-01-06T09:00:00"); n != 3 {
		t.Errorf("inclusive range: %d movements, want 3", n)
	}
	if n := count("2026-01-05T10:47:48", "2026-01-06T08:59:59"); n != 1 {
		t.Errorf("range one second inside: %d movements, want 1", n)
	}
	if n := count("2026-01-05T07:47:47Z", "2026-01-05T07:47:47Z"); n != 1 {
		t.Errorf("UTC offset: %d movements, want 1", n)
	}

	if err := f.fake.AddAccount(vakifbanktest.Account{Number: number}, nil); err == nil {
		t.Error("adding an account twice succeeded")
	}
	if err := f.fake.AddAccount(vakifbanktest.Account{Number: "123"}, nil); err == nil {
		t.Error("adding a 3-digit account succeeded")
	}
	if err := f.fake.AddAccount(vakifbanktest.Account{Number: "00158000000000556"}, []vakifbanktest.Movement{{Amount: d("1.005")}}); err == nil {
		t.Error("adding a movement with 3 decimals succeeded")
	}

	if err := f.fake.InjectBalanceBreak(number, 1, d("-10.50")); err != nil {
		t.Fatal(err)
	}
	ms = f.fake.Movements(number)
	if !ms[0].Balance.Equal(d("4957.61")) || !ms[1].Balance.Equal(d("4954.11")) || !ms[2].Balance.Equal(d("4754.11")) {
		t.Errorf("after the break: %v %v %v", ms[0].Balance, ms[1].Balance, ms[2].Balance)
	}
	if err := f.fake.InjectBalanceBreak(number, 3, d("1")); err == nil {
		t.Error("break beyond the last movement succeeded")
	}
}

func TestQuirks(t *testing.T) {
	f := newFixture(t, true)
	tok := f.token(t)
	busy := reqBody(vakifbanktest.SandboxAccountTRY, "2026-03-02T00:00:00", "2026-03-02T23:59:59")
	empty := reqBody(vakifbanktest.SandboxAccountTRY, "2020-01-01T00:00:00", "2020-01-02T00:00:00")
	raw := func(body string) (int, map[string]json.RawMessage) {
		resp, m := f.query(t, tok, body)
		b, _ := json.Marshal(m)
		var out map[string]json.RawMessage
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	dataField := func(m map[string]json.RawMessage) (string, bool) {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(m["Data"], &d); err != nil {
			return "", false // no Data object at all
		}
		v, ok := d["AccountTransactions"]
		return string(v), ok
	}

	f.fake.SetQuirks(vakifbanktest.Quirks{LegacyEnvelope: true})
	_, m := f.query(t, tok, busy)
	st, ok := m["Status"].(map[string]any)
	if !ok || st["Code"] != "APIGW000000" || st["Description"] != "Completed" || m["Header"] != nil {
		t.Errorf("legacy envelope: %v", m)
	}
	_, m = f.query(t, tok, reqBody("1", "", ""))
	if st, _ := m["Status"].(map[string]any); st["Code"] != "ACBH000035" {
		t.Errorf("legacy error envelope: %v", m)
	}

	for _, tt := range []struct {
		list    vakifbanktest.EmptyList
		want    string
		present bool
	}{
		{vakifbanktest.EmptyArray, "[]", true},
		{vakifbanktest.EmptyString, `""`, true},
		{vakifbanktest.EmptyNull, "null", true},
		{vakifbanktest.EmptyMissing, "", false},
	} {
		f.fake.SetQuirks(vakifbanktest.Quirks{EmptyList: tt.list})
		status, m := raw(empty)
		if got, present := dataField(m); status != 404 || got != tt.want || present != tt.present {
			t.Errorf("EmptyList %d: %d %q present=%v, want 404 %q", tt.list, status, got, present, tt.want)
		}
	}
	f.fake.SetQuirks(vakifbanktest.Quirks{NoMovementsStatus: 200})
	if resp, m := f.query(t, tok, empty); resp.StatusCode != 200 {
		t.Errorf("NoMovementsStatus 200: got %d", resp.StatusCode)
	} else if code, _ := headerOf(t, m); code != "ACBH000202" {
		t.Errorf("NoMovementsStatus 200: code %s", code)
	}
	f.fake.SetQuirks(vakifbanktest.Quirks{NoMovementsCompleted: true, EmptyList: vakifbanktest.EmptyString})
	if status, m := raw(empty); status != 200 || !strings.Contains(string(m["Header"]), "APIGW000000") {
		t.Errorf("NoMovementsCompleted: %d %s", status, m["Header"])
	}

	f.fake.SetQuirks(vakifbanktest.Quirks{})
	_, m = f.query(t, tok, busy)
	plain := rowsOf(t, m)[0]
	if _, isString := plain["TransactionId"].(string); !isString || plain["Amount"].(string) == "" ||
		len(plain["TransactionDate"].(string)) != len("2006-01-02T15:04:05") {
		t.Errorf("documented row: %v", plain)
	}
	f.fake.SetQuirks(vakifbanktest.Quirks{NumericIDs: true, NumericAmounts: true, OffsetDates: true})
	_, m = f.query(t, tok, busy)
	row := rowsOf(t, m)[0]
	for _, k := range []string{"TransactionId", "Amount", "Balance"} {
		if n, ok := row[k].(json.Number); !ok || n.String() != stringOf(plain[k]) {
			t.Errorf("%s = %#v, want the number %v", k, row[k], plain[k])
		}
	}
	if got := row["TransactionDate"].(string); got != plain["TransactionDate"].(string)+"+03:00" {
		t.Errorf("OffsetDates: TransactionDate = %q", got)
	}
}

func stringOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func TestFaultsControlPage(t *testing.T) {
	f := newFixture(t, true)
	resp, err := http.PostForm(f.srv.URL+"/_fake/faults", url.Values{"status": {"503"}, "count": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, resp.Body)
	if got := f.fake.Faults.State(); got.Status != 503 || got.Remaining != 1 {
		t.Fatalf("faults = %+v", got)
	}
	if status, _ := f.postForm(t, sandboxForm()); status != 503 {
		t.Errorf("first call after the switch: %d, want 503", status)
	}
	if status, _ := f.postForm(t, sandboxForm()); status != 200 {
		t.Errorf("second call: %d, want 200", status)
	}
	resp, err = http.Get(f.srv.URL + "/_fake/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, resp.Body)
	var page strings.Builder
	if _, err := io.Copy(&page, resp.Body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "VakıfBank: faults") {
		t.Errorf("control page: %q", page.String())
	}
}

func TestQuirksControlPage(t *testing.T) {
	f := newFixture(t, false)
	resp, err := http.PostForm(f.srv.URL+"/_fake/quirks", url.Values{"legacy": {"1"}, "empty_list": {"1"},
		"no_movements_status": {"200"}, "numeric_ids": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, resp.Body)
	want := vakifbanktest.Quirks{LegacyEnvelope: true, EmptyList: vakifbanktest.EmptyString, NoMovementsStatus: 200, NumericIDs: true}
	if got := f.fake.Quirks(); got != want {
		t.Errorf("quirks = %+v, want %+v", got, want)
	}
	resp, err = http.Get(f.srv.URL + "/_fake/quirks")
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, resp.Body)
	var page strings.Builder
	if _, err := io.Copy(&page, resp.Body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `name="legacy" value="1" checked`) || !strings.Contains(page.String(), `value="200"`) {
		t.Errorf("page does not show the quirks: %s", page.String())
	}
}

// TestConcurrentUse is meant for -race: tokens, queries, quirks and data
// changes at once.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, true)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := f.token(t)
			for j := range 5 {
				f.fake.SetQuirks(vakifbanktest.Quirks{NumericIDs: (i+j)%2 == 0})
				resp, _ := f.query(t, tok, reqBody(vakifbanktest.SandboxAccountTRY, "2025-06-01T00:00:00", "2025-06-30T23:59:59"))
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
				_ = f.fake.Movements(vakifbanktest.SandboxAccountEUR)
			}
			if err := f.fake.InjectBalanceBreak(vakifbanktest.SandboxAccountEUR, i, decimal.New(1, 0)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// TestBalanceBreakControlShowsWhatIsInForce: breaking the chain on the
// control page says which break is in force, and its Undo restores the
// balances.
func TestBalanceBreakControlShowsWhatIsInForce(t *testing.T) {
	f := newFixture(t, true)
	number := vakifbanktest.SandboxAccountEUR
	before := f.fake.Movements(number)
	at := before[len(before)/2]
	day := at.Date.In(time.FixedZone("TRT", 3*3600)).Format("2006-01-02")
	page := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer closeOrFail(t, resp.Body)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d: %s", resp.StatusCode, b)
		}
		return string(b)
	}
	got := page(http.PostForm(f.srv.URL+"/_fake/balance-break", url.Values{"account": {number}, "date": {day}, "delta": {"100.00"}}))
	bs := f.fake.BalanceBreaks()
	if len(bs) != 1 || bs[0].Number != number || !bs[0].Delta.Equal(decimal.RequireFromString("100")) {
		t.Fatalf("breaks in force: %+v", bs)
	}
	want := "Balance chain broken for account " + number + " from " + day
	if !strings.Contains(got, want) || !strings.Contains(got, "by 100.00") || !strings.Contains(got, "/_fake/balance-break/undo") {
		t.Fatalf("the page after the break does not say %q: %s", want, got)
	}
	if after := f.fake.Movements(number); after[len(after)-1].Balance.Equal(before[len(before)-1].Balance) {
		t.Fatal("the break did not shift the balances")
	}

	got = page(http.PostForm(f.srv.URL+"/_fake/balance-break/undo", url.Values{"id": {strconv.Itoa(bs[0].ID)}}))
	if strings.Contains(got, "Balance chain broken") || len(f.fake.BalanceBreaks()) != 0 {
		t.Errorf("the break is still shown after undo: %s", got)
	}
	for i, m := range f.fake.Movements(number) {
		if !m.Balance.Equal(before[i].Balance) {
			t.Fatalf("movement %d: balance %v after undo, was %v", i, m.Balance, before[i].Balance)
		}
	}
	resp, err := http.PostForm(f.srv.URL+"/_fake/balance-break/undo", url.Values{"id": {strconv.Itoa(bs[0].ID)}})
	if err != nil {
		t.Fatal(err)
	}
	closeOrFail(t, resp.Body)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("undoing twice: %d", resp.StatusCode)
	}
}
