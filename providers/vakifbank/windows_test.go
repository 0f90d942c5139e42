package vakifbank

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/tz"
)

func ist(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, tz.Istanbul)
}

func TestWindowsExamples(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Time
		want     []Window
	}{
		{"three years from mid-day", ist(2023, 3, 15, 10, 0, 0), ist(2026, 3, 15, 14, 30, 0), []Window{
			{ist(2023, 3, 15, 10, 0, 0), ist(2024, 3, 14, 23, 59, 59)},
			{ist(2024, 3, 15, 0, 0, 0), ist(2025, 3, 14, 23, 59, 59)},
			{ist(2025, 3, 15, 0, 0, 0), ist(2026, 3, 14, 23, 59, 59)},
			{ist(2026, 3, 15, 0, 0, 0), ist(2026, 3, 15, 14, 30, 0)},
		}},
		{"from 29 February", ist(2024, 2, 29, 0, 0, 0), ist(2026, 1, 1, 0, 0, 0), []Window{
			{ist(2024, 2, 29, 0, 0, 0), ist(2025, 2, 28, 23, 59, 59)},
			{ist(2025, 3, 1, 0, 0, 0), ist(2026, 1, 1, 0, 0, 0)},
		}},
		{"exactly one year, inclusive end", ist(2025, 1, 1, 0, 0, 0), ist(2025, 12, 31, 23, 59, 59), []Window{
			{ist(2025, 1, 1, 0, 0, 0), ist(2025, 12, 31, 23, 59, 59)},
		}},
		{"one year and a second", ist(2025, 1, 1, 0, 0, 0), ist(2026, 1, 1, 0, 0, 0), []Window{
			{ist(2025, 1, 1, 0, 0, 0), ist(2025, 12, 31, 23, 59, 59)},
			{ist(2026, 1, 1, 0, 0, 0), ist(2026, 1, 1, 0, 0, 0)},
		}},
		{"one instant", ist(2025, 5, 5, 5, 5, 5), ist(2025, 5, 5, 5, 5, 5), []Window{
			{ist(2025, 5, 5, 5, 5, 5), ist(2025, 5, 5, 5, 5, 5)},
		}},
		{"UTC input, sub-second", time.Date(2025, 1, 31, 21, 0, 0, 999, time.UTC), time.Date(2025, 2, 1, 20, 59, 59, 999_999_999, time.UTC), []Window{
			{ist(2025, 2, 1, 0, 0, 0), ist(2025, 2, 1, 23, 59, 59)},
		}},
		{"end before start", ist(2025, 1, 2, 0, 0, 0), ist(2025, 1, 1, 0, 0, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Windows(tt.from, tt.to)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v", got)
			}
			for i := range got {
				if !got[i].Start.Equal(tt.want[i].Start) || !got[i].End.Equal(tt.want[i].End) {
					t.Errorf("window %d = %v..%v, want %v..%v", i, got[i].Start, got[i].End, tt.want[i].Start, tt.want[i].End)
				}
			}
		})
	}
}

// TestWindowsProperties checks the documented contract on many random
// ranges, biased towards month ends, 29 February and exact midnights.
func TestWindowsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randomTime := func() time.Time {
		y := 1995 + rng.IntN(45)
		switch rng.IntN(4) {
		case 0: // a leap day or the day around it, when there is one
			return time.Date(y, 2, 28+rng.IntN(3), rng.IntN(2)*rng.IntN(24), 0, 0, 0, tz.Istanbul)
		case 1: // a month end or start at midnight
			return time.Date(y, time.Month(1+rng.IntN(12)), 1, 0, 0, -rng.IntN(2), 0, tz.Istanbul)
		default:
			return time.Unix(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Unix()+rng.Int64N(366*86400), rng.Int64N(1e9))
		}
	}
	for i := 0; i < 20000; i++ {
		from := randomTime()
		to := from.Add(time.Duration(rng.Int64N(int64(7 * 366 * 24 * time.Hour))))
		if rng.IntN(10) == 0 {
			to = randomTime()
		}
		checkWindows(t, from, to)
	}
}

func checkWindows(t *testing.T, from, to time.Time) {
	t.Helper()
	ws := Windows(from, to)
	f, l := from.Truncate(time.Second), to.Truncate(time.Second)
	if l.Before(f) {
		if ws != nil {
			t.Fatalf("%v..%v: %d windows for a reversed range", from, to, len(ws))
		}
		return
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%v..%v: %s\n%v", from, to, strings.TrimSpace(sprintf(format, args...)), ws)
	}
	if len(ws) == 0 || !ws[0].Start.Equal(f) || !ws[len(ws)-1].End.Equal(l) {
		fail("windows do not span the range")
	}
	for i, w := range ws {
		if w.Start.Location() != tz.Istanbul || w.End.Location() != tz.Istanbul {
			fail("window %d is not in Istanbul time", i)
		}
		if w.End.Before(w.Start) {
			fail("window %d ends before it starts", i)
		}
		if w.End.After(w.Start.AddDate(1, 0, 0)) {
			fail("window %d is longer than a year", i)
		}
		if w.Start.Nanosecond() != 0 || w.End.Nanosecond() != 0 {
			fail("window %d is not on whole seconds", i)
		}
		if i > 0 {
			if !w.Start.Equal(ws[i-1].End.Add(time.Second)) {
				fail("gap or overlap before window %d", i)
			}
			if h, m, s := w.Start.Clock(); h != 0 || m != 0 || s != 0 {
				fail("window %d starts at %v, not at midnight", i, w.Start)
			}
		}
		if i < len(ws)-1 {
			// Fewest windows: each but the last is as long as it may be.
			if next := ws[i+1].Start; !next.Equal(startOfDay(w.Start).AddDate(1, 0, 0)) {
				fail("window %d stops short of a year", i)
			}
		}
	}
}

func TestRangeEqualsFake(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, account := range []string{vakifbanktest.SandboxAccountTRY, vakifbanktest.SandboxAccountUSD} {
		all := e.fake.Movements(account)
		e.reset()
		got, err := e.client.Range(ctx, account, testNow.AddDate(-3, 0, -10), testNow)
		if err != nil {
			t.Fatal(err)
		}
		sameMovements(t, got, all)
		calls := 0
		for _, p := range e.paths() {
			if p == "/accountTransactions" {
				calls++
			}
		}
		if calls != 4 {
			t.Errorf("%d calls for three years and ten days, want 4", calls)
		}
	}

	// Odd boundaries: a range starting mid-day on 29 February.
	from, to := ist(2024, 2, 29, 13, 45, 10), ist(2026, 1, 1, 0, 0, 0)
	got, err := e.client.Range(ctx, vakifbanktest.SandboxAccountTRY, from, to)
	if err != nil {
		t.Fatal(err)
	}
	sameMovements(t, got, inWindow(e.fake.Movements(vakifbanktest.SandboxAccountTRY), from, to))

	// Window boundaries falling exactly on movements lose none and repeat none.
	ms := e.fake.Movements(vakifbanktest.SandboxAccountTRY)
	from = ms[100].Date
	to = startOfDay(from).AddDate(1, 0, 0) // the second window's first instant
	for _, m := range ms {
		if !m.Date.Before(to) {
			to = m.Date // the first movement of the second window
			break
		}
	}
	got, err = e.client.Range(ctx, vakifbanktest.SandboxAccountTRY, from, to.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sameMovements(t, got, inWindow(ms, from, to.Add(24*time.Hour)))

	if _, err := e.client.Range(ctx, vakifbanktest.SandboxAccountTRY, to, from); err == nil || !strings.HasPrefix(err.Error(), "vakifbank: account transactions: ") {
		t.Errorf("reversed range: %v", err)
	}
	_, err = e.client.Range(ctx, vakifbanktest.OtherAccount, from, to)
	if ErrorCode(err) != CodeAccountNotOwned || !strings.Contains(err.Error(), "vakifbank: account transactions "+from.Format(wireLayout)) {
		t.Errorf("refused range: %v", err)
	}
}

func TestMergeTransactions(t *testing.T) {
	at := func(h int) time.Time { return ist(2025, 1, 1, h, 0, 0) }
	in := []Transaction{
		{ID: "3", Date: at(12)}, {ID: "1", Date: at(9)}, {ID: "2", Date: at(9)},
		{ID: "1", Date: at(9), Description: "repeat"}, {ID: "4", Date: at(10)},
	}
	got := mergeTransactions(in)
	var ids []string
	for _, t := range got {
		ids = append(ids, t.ID)
	}
	if strings.Join(ids, ",") != "1,2,4,3" || got[0].Description != "" {
		t.Errorf("merged = %v", got)
	}
}

func TestBalanceBreaks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Thirteen months: two windows, so a break could hide at their seam.
	from := testNow.AddDate(-1, -1, 0)
	got, err := e.client.Range(ctx, vakifbanktest.SandboxAccountTRY, from, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if b := balanceBreaks(got); len(b) != 0 {
		t.Fatalf("seeded data has %d breaks, first %+v", len(b), b[0])
	}
	// The fake counts from its first movement, the client from from.
	offset := len(e.fake.Movements(vakifbanktest.SandboxAccountTRY)) - len(got)
	if err := e.fake.InjectBalanceBreak(vakifbanktest.SandboxAccountTRY, offset+1234, decimal.RequireFromString("-10.50")); err != nil {
		t.Fatal(err)
	}
	got, err = e.client.Range(ctx, vakifbanktest.SandboxAccountTRY, from, testNow)
	if err != nil {
		t.Fatal(err)
	}
	breaks := balanceBreaks(got)
	if len(breaks) != 1 {
		t.Fatalf("breaks = %+v", breaks)
	}
	b := breaks[0]
	if b.Index != 1234 || b.ID != got[1234].ID || b.PrevID != got[1233].ID ||
		!b.Expected.Equal(got[1233].Balance.Add(got[1234].Amount)) || !b.Actual.Equal(got[1234].Balance) ||
		!b.Difference().Equal(decimal.RequireFromString("-10.50")) {
		t.Errorf("break = %+v", b)
	}

	d := decimal.RequireFromString
	small := []Transaction{
		{ID: "a", Amount: d("650.0"), Balance: d("4957.61")},
		{ID: "b", Amount: d("7.0"), Balance: d("4964.61")},
		{ID: "c", Amount: d("-200.0"), Balance: d("4764.61")},
		{ID: "d", Amount: d("-0.01"), Balance: d("4764.61")},
	}
	if b := balanceBreaks(small); len(b) != 1 || b[0].Index != 3 || b[0].PrevID != "c" || !b[0].Expected.Equal(d("4764.60")) {
		t.Errorf("small: %+v", b)
	}
	if b := balanceBreaks(nil); b != nil {
		t.Errorf("nil: %+v", b)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
