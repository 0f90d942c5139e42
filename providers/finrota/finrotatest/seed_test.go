package finrotatest

import (
	"fmt"
	"testing"
	"time"
)

func TestSeed(t *testing.T) {
	now := func() time.Time { return time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC) }
	a, b := New(Options{Seed: true, Rand: 7, Now: now}), New(Options{Seed: true, Rand: 7, Now: now})
	agents, accounts, debts := a.Agents(), a.CurrentAccounts(), a.Debts()
	if len(agents) != 8 || len(a.ActiveAgentCodes()) != 6 || agents[0].Code != "NT26822394" {
		t.Fatalf("agents %+v", agents)
	}
	if len(accounts) != 20 || len(a.ActiveCurrentAccountCodes()) != 18 || accounts[0].ErpCode != "441B3BF1-8F5F-4CCD-A116-7CD90D3E4C04" {
		t.Fatalf("accounts %+v", accounts)
	}
	if fmt.Sprint(debts) != fmt.Sprint(b.Debts()) || fmt.Sprint(agents) != fmt.Sprint(b.Agents()) {
		t.Fatal("seed is not deterministic")
	}
	if fmt.Sprint(New(Options{Seed: true, Rand: 8, Now: now}).Debts()) == fmt.Sprint(debts) {
		t.Fatal("Rand has no effect")
	}
	var overdue, partial, paid, inactive int
	codes := map[string]bool{}
	for _, d := range debts {
		if codes[d.ErpCode] {
			t.Fatalf("duplicate erp code %s", d.ErpCode)
		}
		codes[d.ErpCode] = true
		if _, ok := turkishDocumentType(d.DocumentType); !ok || d.TransactionDate > d.DueDate || !d.Amount.IsPositive() || d.PaidAmount.GreaterThan(d.Amount) || d.CreatedAt.After(now()) {
			t.Fatalf("seeded debt breaks the rules: %+v", d)
		}
		switch {
		case !d.IsActive:
			inactive++
		case d.PaidAmount.Equal(d.Amount):
			paid++
		case d.PaidAmount.IsPositive():
			partial++
		}
		if d.PaidAmount.LessThan(d.Amount) && d.DueDate < "2025-10-01" { // unpaid and overdue: a useful sample
			overdue++
		}
	}
	if len(debts) != 300 || overdue < 50 || partial < 20 || paid < 20 || inactive == 0 {
		t.Fatalf("debts %d overdue %d partial %d paid %d inactive %d", len(debts), overdue, partial, paid, inactive)
	}
	if len(New(Options{Now: now}).Debts()) != 0 {
		t.Fatal("unseeded server has debts")
	}
}

func TestSeededServerWorksOverHTTP(t *testing.T) {
	e := newEnv(t, Options{Seed: true, Rand: 1})
	codes := e.srv.ActiveCurrentAccountCodes()
	e.create("S-1", func(m map[string]any) { m["currentAccountErpCode"] = codes[len(codes)-1] })
	_, body := e.call("GET", "/cat/cat/list?page=1&pageSize=1", "")
	active := 0
	for _, d := range e.srv.Debts() {
		if d.IsActive {
			active++
		}
	}
	if got := body["result"].(map[string]any)["totalCount"]; got != float64(active) {
		t.Fatalf("totalCount %v, want %d", got, active)
	}
	seeded := e.srv.Debts()[0].ErpCode
	if status, _ := e.call("POST", "/cat/cat", debtJSONBody(seeded, nil)); status != 409 {
		t.Fatalf("seeded code reusable: %d", status)
	}
	e.call("POST", "/cat/cat/SendCATDebtInfoMail", "")
	if len(e.srv.Notifications()) < 30 {
		t.Fatalf("only %d notifications from seeded data", len(e.srv.Notifications()))
	}
}

// TestIDsUniqueAcrossRestarts: two fakes with the same seed stand for one
// fake before and after a restart. Their sample records keep their ids,
// but what each creates (and each token) gets an id the other never gave.
func TestIDsUniqueAcrossRestarts(t *testing.T) {
	before, after := newEnv(t, Options{Seed: true}), newEnv(t, Options{Seed: true})
	if before.srv.Debts()[0].ID != after.srv.Debts()[0].ID {
		t.Fatal("the sample records changed ids across a restart")
	}
	if before.token == after.token {
		t.Fatal("a restarted fake issued the same token again")
	}
	before.create("R-BEFORE", nil)
	after.create("R-AFTER", nil)
	a, _ := before.srv.Debt("R-BEFORE")
	b, _ := after.srv.Debt("R-AFTER")
	if a.ID == "" || a.ID == b.ID {
		t.Fatalf("the first record created after a restart has the id of the one before: %q", b.ID)
	}
}
