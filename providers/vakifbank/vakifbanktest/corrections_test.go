package vakifbanktest_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/providers/vakifbank/vakifbanktest"
)

// TestRemoveAddAndCorrectMovement: a removed movement is left out of the
// answers until it is added back (after the movements of its second), and
// a corrected one is answered with its new values; unknown ids and
// accounts are refused.
func TestRemoveAddAndCorrectMovement(t *testing.T) {
	f := newFixture(t, false)
	at := func(s string) time.Time { tm, _ := time.ParseInLocation("2006-01-02T15:04:05", s, istanbul); return tm }
	d := decimal.RequireFromString
	const number = "00158000000000556"
	if err := f.fake.AddAccount(vakifbanktest.Account{Number: number, Currency: "TL"}, []vakifbanktest.Movement{
		{ID: "1", Date: at("2026-01-05T10:00:00"), Amount: d("650.00"), Balance: d("1650.00"), Description: "bir"},
		{ID: "2", Date: at("2026-01-05T10:00:00"), Amount: d("-50.00"), Balance: d("1600.00"), Description: "iki"},
		{ID: "3", Date: at("2026-01-06T09:00:00"), Amount: d("-200.00"), Balance: d("1400.00"), Description: "üç"},
	}); err != nil {
		t.Fatal(err)
	}
	tok := f.token(t)
	ids := func() []string {
		resp, body := f.query(t, tok, reqBody(number, "2026-01-01T00:00:00", "2026-01-31T23:59:59"))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var out []string
		for _, r := range rowsOf(t, body) {
			out = append(out, r["TransactionId"].(string)+":"+r["Description"].(string)+":"+r["Amount"].(string))
		}
		return out
	}

	m, err := f.fake.RemoveMovement(number, "1")
	if err != nil || m.ID != "1" || !m.Amount.Equal(d("650")) || !m.Balance.Equal(d("1650")) || m.Description != "bir" || m.Type != 1 {
		t.Fatalf("removed %+v, %v", m, err)
	}
	if got := ids(); len(got) != 2 || got[0] != "2:iki:-50.00" {
		t.Fatalf("after the removal: %v", got)
	}
	if err := f.fake.AddMovement(number, m); err != nil {
		t.Fatal(err)
	}
	if got := ids(); len(got) != 3 || got[0] != "2:iki:-50.00" || got[1] != "1:bir:650.00" {
		t.Fatalf("after adding it back: %v", got)
	}
	if err := f.fake.AddMovement(number, m); err == nil {
		t.Error("adding a movement twice succeeded")
	}

	fixed := vakifbanktest.Movement{ID: "3", Date: at("2026-01-06T09:00:00"), Amount: d("-210.00"), Balance: d("1390.00"), Description: "üç (düzeltme)"}
	if err := f.fake.CorrectMovement(number, fixed); err != nil {
		t.Fatal(err)
	}
	if got := ids(); got[2] != "3:üç (düzeltme):-210.00" {
		t.Fatalf("after the correction: %v", got)
	}
	if _, err := f.fake.RemoveMovement(number, "9"); err == nil {
		t.Error("removing an unknown movement succeeded")
	}
	if err := f.fake.CorrectMovement("00158000000000999", fixed); err == nil {
		t.Error("correcting a movement of an unknown account succeeded")
	}
}
