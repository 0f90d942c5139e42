package movements

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"kasa/providers/vakifbank/vakifbanktest"
)

func TestValidateAccount(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		in   NewBankAccount
		want Problems
		num  string // the number after normalising, when valid
	}{
		{"valid, copied with spaces and dashes", NewBankAccount{Number: " 00158 0000-0000 0001 ", Name: " Ana ", Currency: "TRY"}, Problems{}, "00158000000000001"},
		{"nothing typed", NewBankAccount{}, Problems{"number": {Code: CodeNumberRequired}, "name": {Code: CodeNameRequired}, "currency": {Code: CodeCurrency}}, ""},
		{"letters", NewBankAccount{Number: "00158ABC", Name: "Ana", Currency: "USD"}, Problems{"number": {Code: CodeNumberDigits}}, ""},
		{"too short", NewBankAccount{Number: "12345", Name: "Ana", Currency: "EUR"}, Problems{"number": {Code: CodeNumberLength, Args: []any{5}}}, ""},
		{"long name, odd currency", NewBankAccount{Number: "00158000000000001", Name: strings.Repeat("ş", 101), Currency: "GBP"},
			Problems{"name": {Code: CodeNameLong}, "currency": {Code: CodeCurrency}}, "00158000000000001"},
	} {
		n := c.in
		if got := ValidateAccount(&n); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if c.num != "" && n.Number != c.num {
			t.Errorf("%s: number %q, want %q", c.name, n.Number, c.num)
		}
	}
}

// TestRegisterAccount: registering commits the account, its audit entry,
// its first sync run and that run's job together; a refused input and a
// number already registered leave nothing behind.
func TestRegisterAccount(t *testing.T) {
	t.Parallel()
	e := newMovementEnv(t)
	ctx := context.Background()
	var invalid *ValidationError
	if _, err := e.st.RegisterAccount(ctx, NewBankAccount{Number: "123", Name: "Ana", Currency: "TRY"}); !errors.As(err, &invalid) ||
		invalid.Problems["number"].Code != CodeNumberLength {
		t.Fatalf("a short number: %v", err)
	}
	a, err := e.st.RegisterAccount(ctx, NewBankAccount{Number: "00158 0000-0000 0001", Name: "Ana", Currency: "TRY"})
	if err != nil || a.Number != vakifbanktest.SandboxAccountTRY {
		t.Fatalf("register: %+v, %v", a, err)
	}
	runs, err := e.st.MovementSyncs(ctx, a.ID, 5)
	if err != nil || len(runs) != 1 || runs[0].Reason != "initial" || runs[0].RiverJobID == nil {
		t.Fatalf("runs after registering: %+v, %v", runs, err)
	}
	if !runs[0].From.Equal(a.IncrementalFrom(runs[0].To, Overlap, InitialSyncDays)) {
		t.Errorf("the first sync starts %s", runs[0].From)
	}
	if trail, err := e.st.st.AuditTrail(ctx, BankAccountSubject(a.ID), 5); err != nil || len(trail) != 1 || trail[0].Action != "bank_account.create" {
		t.Errorf("audit %+v, %v", trail, err)
	}
	if j := e.wait(t, *runs[0].RiverJobID); j.Kind != (SyncArgs{}).Kind() {
		t.Fatalf("job %+v", j)
	}

	_, err = e.st.RegisterAccount(ctx, NewBankAccount{Number: vakifbanktest.SandboxAccountTRY, Name: "Yine", Currency: "TRY"})
	if !errors.As(err, &invalid) || invalid.Problems["number"].Code != CodeNumberTaken {
		t.Fatalf("the same number again: %v", err)
	}
	var accounts, syncs, jobs int
	if err := e.st.db.QueryRow(`SELECT (SELECT count(*) FROM bank_accounts), (SELECT count(*) FROM movement_syncs),
		(SELECT count(*) FROM river_job)`).Scan(&accounts, &syncs, &jobs); err != nil || accounts != 1 || syncs != 1 || jobs != 1 {
		t.Fatalf("after the refusals: %d accounts, %d syncs, %d jobs, %v", accounts, syncs, jobs, err)
	}
}
