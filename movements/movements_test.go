package movements

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/store"
)

var ist = i18n.Istanbul

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// chain makes n movements starting at start, one every step, whose
// balances follow from an opening balance of 1000.00: money in on even
// positions (i+1).00, money out on odd ones -(i/2).50.
func chain(start time.Time, step time.Duration, n int) []NewMovement {
	ms := make([]NewMovement, n)
	balance := dec("1000")
	for i := range ms {
		amount, dir, code, name := decimal.NewFromInt(int64(i+1)), "in", "EFTGLN", "Gelen EFT"
		if i%2 == 1 {
			amount, dir, code, name = dec(fmt.Sprintf("-%d.50", i/2)), "out", "KRTODM", "Kart ödemesi"
		}
		balance = balance.Add(amount)
		ms[i] = NewMovement{
			TransactionID: fmt.Sprintf("2024%012d", i+1), BookedAt: start.Add(time.Duration(i) * step),
			Direction: dir, Amount: amount, Balance: balance, Currency: "TL", Code: code, Name: name,
			Description: fmt.Sprintf("Hareket %d", i+1),
			Raw:         []byte(fmt.Sprintf(`{"TransactionId":"2024%012d"}`, i+1)),
		}
	}
	return ms
}

func newAccount(t testing.TB, st *Service, number string) BankAccount {
	t.Helper()
	a, err := st.CreateBankAccount(context.Background(), NewBankAccount{Number: number, Name: "Ana hesap " + number[12:], Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestBankAccountRegistration(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	if a.ID == 0 || a.Number != "00158000000000001" || a.Currency != "TRY" || a.SyncedFrom != nil || a.Balance.Valid || a.Pending {
		t.Fatalf("new account: %+v", a)
	}
	_, err := st.CreateBankAccount(ctx, NewBankAccount{Number: "00158000000000001", Name: "Again", Currency: "USD"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the same number twice: %v, want ErrConflict", err)
	}
	// The database refuses what the form should have caught.
	if _, err := st.CreateBankAccount(ctx, NewBankAccount{Number: "1234", Name: "Short", Currency: "TRY"}); err == nil {
		t.Fatal("a 4-digit account number was stored")
	}
	as, err := st.BankAccounts(ctx)
	if err != nil || len(as) != 1 || as[0].ID != a.ID {
		t.Fatalf("accounts: %+v, %v", as, err)
	}
	if _, err := st.BankAccount(ctx, a.ID+100); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	if trail, _ := st.st.AuditTrail(ctx, BankAccountSubject(a.ID), 5); len(trail) != 1 || trail[0].Action != "bank_account.create" {
		t.Fatalf("audit: %+v", trail)
	}
}

// TestInsertMovementsDeduplicates syncs overlapping ranges twice: each
// movement is stored once, in the bank's order.
func TestInsertMovementsDeduplicates(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	ms := chain(time.Date(2024, 2, 28, 9, 0, 0, 0, ist), time.Hour, 100)

	steps := []struct {
		name string
		rows []NewMovement
		want int
	}{
		{"first 60", ms[:60], 60},
		{"overlapping 40..100", ms[40:], 40},
		{"everything again", ms, 0},
		{"a repeat inside one batch", append([]NewMovement{ms[5]}, ms[5]), 0},
	}
	for _, s := range steps {
		n, err := st.InsertMovements(ctx, a.ID, s.rows)
		if err != nil || n != s.want {
			t.Fatalf("%s: inserted %d, %v; want %d", s.name, n, err, s.want)
		}
	}
	all, err := st.Movements(ctx, MovementFilter{AccountID: a.ID, From: ms[0].BookedAt, To: ms[99].BookedAt})
	if err != nil || len(all) != 100 {
		t.Fatalf("stored %d movements, %v", len(all), err)
	}
	for i, m := range all {
		if m.TransactionID != ms[i].TransactionID || !m.Amount.Equal(ms[i].Amount) || !m.Balance.Equal(ms[i].Balance) || !m.BookedAt.Equal(ms[i].BookedAt) {
			t.Fatalf("movement %d: %+v, want %+v", i, m, ms[i])
		}
	}
	var raw string
	if err := st.DB().Get(&raw, `SELECT raw->>'TransactionId' FROM account_movements WHERE transaction_id = $1`, ms[7].TransactionID); err != nil || raw != ms[7].TransactionID {
		t.Fatalf("raw row kept: %q, %v", raw, err)
	}
	// The same TransactionId at another account is another movement.
	b := newAccount(t, st, "00158000000000002")
	if n, err := st.InsertMovements(ctx, b.ID, ms[:3]); err != nil || n != 3 {
		t.Fatalf("other account: %d, %v", n, err)
	}
}

func TestMovementFiltersTotalsAndBalances(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	ms := chain(time.Date(2025, 1, 1, 10, 0, 0, 0, ist), 24*time.Hour, 10)
	ms[4].Description = "Kira ödemesi %50_indirim"
	if _, err := st.InsertMovements(ctx, a.ID, ms); err != nil {
		t.Fatal(err)
	}
	period := MovementFilter{AccountID: a.ID, From: time.Date(2025, 1, 2, 0, 0, 0, 0, ist), To: time.Date(2025, 1, 8, 23, 59, 59, 0, ist)}
	with := func(mod func(*MovementFilter)) MovementFilter { f := period; mod(&f); return f }
	// Rows 1..7 are in the period: amounts -0.50, 3, -1.50, 5, -2.50, 7, -3.50.
	cases := []struct {
		name         string
		f            MovementFilter
		ids          []int // positions in ms, in order
		in, out, net string
	}{
		{"period", period, []int{1, 2, 3, 4, 5, 6, 7}, "15", "8", "7"},
		{"money in", with(func(f *MovementFilter) { f.Direction = "in" }), []int{2, 4, 6}, "15", "0", "15"},
		{"money out", with(func(f *MovementFilter) { f.Direction = "out" }), []int{1, 3, 5, 7}, "0", "8", "-8"},
		{"size 2.50 to 5", with(func(f *MovementFilter) {
			f.MinAmount = decimal.NewNullDecimal(dec("2.5"))
			f.MaxAmount = decimal.NewNullDecimal(dec("5"))
		}), []int{2, 4, 5, 7}, "8", "6", "2"},
		{"text in the name", with(func(f *MovementFilter) { f.Text = "kart" }), []int{1, 3, 5, 7}, "0", "8", "-8"},
		{"text in the code", with(func(f *MovementFilter) { f.Text = "eftgln" }), []int{2, 4, 6}, "15", "0", "15"},
		{"LIKE signs are literal", with(func(f *MovementFilter) { f.Text = "%50_" }), []int{4}, "5", "0", "5"},
		{"amount descending", with(func(f *MovementFilter) { f.Sort, f.Desc = "amount", true }), []int{6, 4, 2, 1, 3, 5, 7}, "15", "8", "7"},
	}
	for _, c := range cases {
		got, err := st.Movements(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var ids []string
		for _, m := range got {
			ids = append(ids, m.TransactionID)
		}
		var want []string
		for _, i := range c.ids {
			want = append(want, ms[i].TransactionID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", c.name, ids, want)
		}
		tot, err := st.MovementTotals(ctx, c.f)
		if err != nil || tot.Count != len(c.ids) || !tot.In.Equal(dec(c.in)) || !tot.Out.Equal(dec(c.out)) || !tot.Net().Equal(dec(c.net)) {
			t.Errorf("%s: totals %+v net %s, %v; want in %s out %s net %s", c.name, tot, tot.Net(), err, c.in, c.out, c.net)
		}
	}
	page, err := st.Movements(ctx, with(func(f *MovementFilter) { f.Limit, f.Offset = 3, 3 }))
	if err != nil || len(page) != 3 || page[0].TransactionID != ms[4].TransactionID {
		t.Fatalf("second page of 3: %+v, %v", page, err)
	}
	var exported int
	if err := st.EachMovement(ctx, period, func(Movement) error { exported++; return nil }); err != nil || exported != 7 {
		t.Fatalf("exported %d, %v", exported, err)
	}

	b, err := st.PeriodBalances(ctx, a.ID, period.From, period.To)
	if err != nil || !b.Opening.Decimal.Equal(ms[0].Balance) || !b.Closing.Decimal.Equal(ms[7].Balance) {
		t.Fatalf("balances %+v, %v; want %s to %s", b, err, ms[0].Balance, ms[7].Balance)
	}
	// A period without movements opens and closes at the balance before it.
	empty := time.Date(2025, 3, 1, 0, 0, 0, 0, ist)
	b, err = st.PeriodBalances(ctx, a.ID, empty, empty.AddDate(0, 0, 1))
	if err != nil || !b.Opening.Valid || !b.Opening.Decimal.Equal(ms[9].Balance) || !b.Closing.Decimal.Equal(ms[9].Balance) {
		t.Fatalf("empty period balances %+v, %v", b, err)
	}
	series, err := st.BalanceSeries(ctx, a.ID, period.From, period.To)
	if err != nil || len(series) != 7 || !series[6].Balance.Equal(ms[7].Balance) || series[0].Day.Day() != 2 {
		t.Fatalf("series %+v, %v", series, err)
	}
}

// TestBalanceBreaksOnStoredData stores a chain with one movement missing
// and finds the break, with the expected and the actual balance.
func TestBalanceBreaksOnStoredData(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	ms := chain(time.Date(2024, 12, 30, 12, 0, 0, 0, ist), 12*time.Hour, 20)
	gap := append(append([]NewMovement{}, ms[:8]...), ms[9:]...) // movement 8 never arrived
	if _, err := st.InsertMovements(ctx, a.ID, gap); err != nil {
		t.Fatal(err)
	}
	from, to := ms[0].BookedAt, ms[19].BookedAt
	bs, err := st.BalanceBreaks(ctx, a.ID, from, to, 10)
	if err != nil || len(bs) != 1 {
		t.Fatalf("breaks %+v, %v", bs, err)
	}
	b := bs[0]
	wantExpected := ms[7].Balance.Add(ms[9].Amount)
	if b.TransactionID != ms[9].TransactionID || b.PrevTransactionID != ms[7].TransactionID ||
		!b.Expected.Equal(wantExpected) || !b.Actual.Equal(ms[9].Balance) || !b.Difference().Equal(ms[8].Amount) {
		t.Fatalf("break %+v (difference %s), want after %s expected %s actual %s", b, b.Difference(), ms[7].TransactionID, wantExpected, ms[9].Balance)
	}
	// A period starting right at the broken movement still sees the break,
	// checked against the movement stored before the period.
	if bs, err := st.BalanceBreaks(ctx, a.ID, ms[9].BookedAt, to, 10); err != nil || len(bs) != 1 {
		t.Fatalf("period starting at the break: %+v, %v", bs, err)
	}
	// After the missing movement arrives the chain holds.
	if _, err := st.InsertMovements(ctx, a.ID, ms[8:9]); err != nil {
		t.Fatal(err)
	}
	if bs, err := st.BalanceBreaks(ctx, a.ID, from, to, 10); err != nil || len(bs) != 0 {
		t.Fatalf("complete chain: %+v, %v", bs, err)
	}
}

func TestMovementSyncCoverage(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	day := func(d int) time.Time { return time.Date(2025, 6, d, 0, 0, 0, 0, ist) }
	run := func(from, to time.Time) MovementSync {
		t.Helper()
		m, err := st.StartMovementSync(ctx, NewMovementSync{AccountID: a.ID, From: from, To: to, Reason: "page"},
			func(tx *sqlx.Tx, id int64) (int64, error) { return 1000 + id, nil })
		if err != nil || m.State != SyncPending || m.RiverJobID == nil || *m.RiverJobID != 1000+m.ID {
			t.Fatalf("start: %+v, %v", m, err)
		}
		return m
	}
	m := run(day(10), day(20))
	if open, err := st.OpenMovementSync(ctx, a.ID, day(12), day(15)); err != nil || open.ID != m.ID {
		t.Fatalf("open run covering 12..15: %+v, %v", open, err)
	}
	if _, err := st.OpenMovementSync(ctx, a.ID, day(5), day(15)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no open run covers 5..15: %v", err)
	}
	if got, _ := st.BankAccount(ctx, a.ID); !got.Pending {
		t.Fatal("account not pending while a run is open")
	}
	if _, err := st.InsertMovements(ctx, a.ID, chain(day(11), time.Hour, 5)); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkMovementSyncRunning(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishMovementSync(ctx, m.ID, 5, 5); err != nil {
		t.Fatal(err)
	}
	got, _ := st.BankAccount(ctx, a.ID)
	last := chain(day(11), time.Hour, 5)[4]
	if got.Pending || !got.SyncedFrom.Equal(day(10)) || !got.SyncedUntil.Equal(day(20)) || got.LastSyncStatus != "ok" ||
		!got.Balance.Decimal.Equal(last.Balance) || !got.BalanceAt.Equal(last.BookedAt) {
		t.Fatalf("after the first run: %+v", got)
	}
	// Adjacent and overlapping runs widen the coverage; a disjoint one does not.
	for _, c := range []struct {
		from, to, wantFrom, wantUntil time.Time
	}{
		{day(1), day(10).Add(-time.Second), day(1), day(20)},
		{day(18), day(25), day(1), day(25)},
		{day(27), day(28), day(1), day(25)},
	} {
		m := run(c.from, c.to)
		if err := st.FinishMovementSync(ctx, m.ID, 0, 0); err != nil {
			t.Fatal(err)
		}
		got, _ := st.BankAccount(ctx, a.ID)
		if !got.SyncedFrom.Equal(c.wantFrom) || !got.SyncedUntil.Equal(c.wantUntil) {
			t.Errorf("after %s..%s: coverage %s..%s, want %s..%s", c.from, c.to, got.SyncedFrom, got.SyncedUntil, c.wantFrom, c.wantUntil)
		}
	}

	// A retried failure leaves the run pending; a final one fails it and the account.
	f := run(day(26), day(27))
	if err := st.FailMovementSync(ctx, f.ID, "", "bank unavailable", false); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.MovementSync(ctx, f.ID); r.State != SyncPending || r.Error != "bank unavailable" {
		t.Fatalf("retried failure: %+v", r)
	}
	if err := st.FailMovementSync(ctx, f.ID, "ACBH000104", "not owned", true); err != nil {
		t.Fatal(err)
	}
	r, _ := st.MovementSync(ctx, f.ID)
	acct, _ := st.BankAccount(ctx, a.ID)
	if r.State != SyncFailed || r.FinishedAt == nil || acct.LastSyncStatus != "failed" || acct.LastSyncCode != "ACBH000104" {
		t.Fatalf("final failure: run %+v, account %+v", r, acct)
	}
	if runs, err := st.MovementSyncs(ctx, a.ID, 10); err != nil || len(runs) != 5 || runs[0].ID != f.ID {
		t.Fatalf("history: %d runs, %v", len(runs), err)
	}
}

func TestMissingRange(t *testing.T) {
	t.Parallel()
	at := func(d, h int) time.Time { return time.Date(2025, 6, d, h, 0, 0, 0, ist) }
	now := at(30, 12)
	covered := BankAccount{SyncedFrom: ptr(at(10, 0)), SyncedUntil: ptr(at(20, 15))}
	fresh := BankAccount{SyncedFrom: ptr(at(10, 0)), SyncedUntil: ptr(now.Add(-5 * time.Minute))}
	sp := func(from, to time.Time) Span { return Span{From: from, To: to} }
	cases := []struct {
		name  string
		a     BankAccount
		from  time.Time
		to    time.Time
		fetch []Span // what to ask the bank for
		gaps  []Span // what to tell the user is missing
	}{
		{"never synced", BankAccount{}, at(1, 0), at(5, 0), []Span{sp(at(1, 0), at(5, 0))}, []Span{sp(at(1, 0), at(5, 0))}},
		{"never synced, to in the future", BankAccount{}, at(29, 0), at(31, 0), []Span{sp(at(29, 0), now)}, []Span{sp(at(29, 0), now)}},
		{"inside", covered, at(11, 0), at(19, 0), nil, nil},
		{"before, extended to meet coverage", covered, at(1, 0), at(3, 0),
			[]Span{sp(at(1, 0), at(10, 0).Add(-time.Second))}, []Span{sp(at(1, 0), at(3, 0))}},
		{"overlapping the start", covered, at(5, 0), at(15, 0),
			[]Span{sp(at(5, 0), at(10, 0).Add(-time.Second))}, []Span{sp(at(5, 0), at(10, 0).Add(-time.Second))}},
		{"after, from the last synced day", covered, at(15, 0), at(25, 0),
			[]Span{sp(at(20, 0), at(25, 0))}, []Span{sp(at(20, 15).Add(time.Second), at(25, 0))}},
		// Both sides missing: only the two pieces, never the stored days between.
		{"around", covered, at(1, 0), at(25, 0),
			[]Span{sp(at(1, 0), at(10, 0).Add(-time.Second)), sp(at(20, 0), at(25, 0))},
			[]Span{sp(at(1, 0), at(10, 0).Add(-time.Second)), sp(at(20, 15).Add(time.Second), at(25, 0))}},
		{"up to now, synced minutes ago", fresh, at(20, 0), now, nil, nil},
		{"one day more than stored, up to now", fresh, at(9, 0), now, []Span{sp(at(9, 0), at(10, 0).Add(-time.Second))},
			[]Span{sp(at(9, 0), at(10, 0).Add(-time.Second))}},
		{"reversed", covered, at(5, 0), at(4, 0), nil, nil},
	}
	for _, c := range cases {
		if got := c.a.MissingSpans(c.from, c.to, now, 10*time.Minute); fmt.Sprint(got) != fmt.Sprint(c.fetch) {
			t.Errorf("%s: fetch %v, want %v", c.name, got, c.fetch)
		}
		if got := c.a.Gaps(c.from, c.to, now, 10*time.Minute); fmt.Sprint(got) != fmt.Sprint(c.gaps) {
			t.Errorf("%s: gaps %v, want %v", c.name, got, c.gaps)
		}
	}
}

// TestJoinOrStartMovementSync: a second request for the same period ending
// "now", made seconds later, joins the open run; a request the open run
// does not cover starts another; once the run ends a new one starts.
func TestJoinOrStartMovementSync(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, ist)
	enqueued := 0
	enqueue := func(tx *sqlx.Tx, id int64) (int64, error) {
		enqueued++
		return 1000 + id, nil
	}
	req := func(from, to time.Time) (MovementSync, bool) {
		t.Helper()
		m, joined, err := st.JoinOrStartMovementSync(ctx, NewMovementSync{AccountID: a.ID, From: from, To: to, Reason: "page"}, 10*time.Minute, enqueue)
		if err != nil {
			t.Fatal(err)
		}
		return m, joined
	}
	first, joined := req(now.AddDate(0, 0, -30), now)
	if joined || enqueued != 1 {
		t.Fatalf("first request joined %v, %d jobs", joined, enqueued)
	}
	second, joined := req(now.AddDate(0, 0, -30), now.Add(7*time.Second))
	if !joined || second.ID != first.ID || enqueued != 1 {
		t.Fatalf("a visitor 7s later: run %d joined %v (first %d), %d jobs", second.ID, joined, first.ID, enqueued)
	}
	if _, joined := req(now.AddDate(0, 0, -60), now); joined || enqueued != 2 {
		t.Fatalf("a longer period joined the shorter run")
	}
	if _, joined := req(now.AddDate(0, 0, -30), now.Add(time.Hour)); joined || enqueued != 3 {
		t.Fatalf("a period an hour later joined the run")
	}
	if err := st.FinishMovementSync(ctx, first.ID, 0, 0); err != nil {
		t.Fatal(err)
	}
	// The longer open run covers it now.
	if m, joined := req(now.AddDate(0, 0, -10), now); !joined || m.ID == first.ID {
		t.Fatalf("joined run %d (the finished one is %d), joined %v", m.ID, first.ID, joined)
	}
	open, err := st.OpenMovementSyncs(ctx, a.ID)
	if err != nil || len(open) != 2 {
		t.Fatalf("open runs %d, %v", len(open), err)
	}
}

// TestBalanceBreaksCounted: the page lists the first breaks but counts
// them all.
func TestBalanceBreaksCounted(t *testing.T) {
	t.Parallel()
	st := newService(t)
	ctx := context.Background()
	a := newAccount(t, st, "00158000000000001")
	ms := chain(time.Date(2025, 1, 1, 9, 0, 0, 0, ist), time.Hour, 300)
	var gappy []NewMovement
	for i, m := range ms {
		if i%4 != 2 { // every fourth movement never arrives: 75 breaks
			gappy = append(gappy, m)
		}
	}
	if _, err := st.InsertMovements(ctx, a.ID, gappy); err != nil {
		t.Fatal(err)
	}
	bs, total, err := st.CountedBalanceBreaks(ctx, a.ID, ms[0].BookedAt, ms[299].BookedAt, 50)
	if err != nil || len(bs) != 50 || total != 75 {
		t.Fatalf("%d breaks listed, %d counted, %v; want 50 of 75", len(bs), total, err)
	}
	if bs, total, err := st.CountedBalanceBreaks(ctx, a.ID, ms[0].BookedAt, ms[1].BookedAt, 50); err != nil || len(bs) != 0 || total != 0 {
		t.Fatalf("no breaks: %d, %d, %v", len(bs), total, err)
	}
}

func ptr[T any](v T) *T { return &v }
