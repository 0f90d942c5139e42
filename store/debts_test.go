package store_test

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
	"kasa/store/storetest"
)

func debtInput(code string) store.DebtInput {
	return store.DebtInput{
		AgentErpCode: "AG-1", CurrentAccountErpCode: "ACC-1", Amount: decimal.RequireFromString("1550"),
		PaidAmount: decimal.Zero, DocumentNo: "D-1", DocumentType: "Fatura", CurrencyID: "TRY", ErpCode: code,
		// Istanbul midnight: stored as that calendar day whatever the session zone.
		DueDate:         time.Date(2026, 4, 1, 0, 0, 0, 0, i18n.Istanbul),
		TransactionDate: time.Date(2026, 3, 1, 0, 0, 0, 0, i18n.Istanbul),
	}
}

func createDebt(t *testing.T, s *store.Store, in store.DebtInput) store.Debt {
	t.Helper()
	var d store.Debt
	err := s.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		d, err = store.CreateDebt(context.Background(), tx, in, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func editDebt(s *store.Store, id int64, in store.DebtInput) (store.Debt, error) {
	var d store.Debt
	err := s.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		d, err = store.EditDebt(context.Background(), tx, id, in, 0)
		return err
	})
	return d, err
}

// TestDebtIntentsAreFencedAndCodesNeverReused follows one debt through
// create, delivery, a rename and a stale job's late result.
func TestDebtIntentsAreFencedAndCodesNeverReused(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	d := createDebt(t, s, debtInput("A-1"))
	if d.State != store.DebtPending || d.Op != store.DebtOpCreate || d.Version != 1 || d.RequestID == "" || d.AtFinrota() {
		t.Fatalf("new debt %+v", d)
	}
	if got := d.DueDate.Format(time.DateOnly); got != "2026-04-01" {
		t.Fatalf("due date stored as %s", got)
	}
	err := s.InTx(ctx, func(tx *sqlx.Tx) error { _, err := store.CreateDebt(ctx, tx, debtInput("A-1"), 0); return err })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate code: %v", err)
	}
	if _, err := editDebt(s, d.ID, debtInput("A-2")); !errors.Is(err, store.ErrDebtBusy) {
		t.Fatalf("edit while pending: %v", err)
	}
	if ok, err := s.MarkDebtDelivered(ctx, d.ID, 2, "x"); ok || err != nil {
		t.Fatalf("a job of another version must not land: %v %v", ok, err)
	}
	if ok, err := s.MarkDebtDelivered(ctx, d.ID, 1, "guid-1"); !ok || err != nil {
		t.Fatalf("deliver: %v %v", ok, err)
	}
	renamed, err := editDebt(s, d.ID, debtInput("A-2"))
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Op != store.DebtOpUpdate || renamed.Version != 2 || *renamed.RemoteErpCode != "A-1" || renamed.RequestID == d.RequestID {
		t.Fatalf("rename intent %+v", renamed)
	}
	if ok, _ := s.MarkDebtDelivered(ctx, d.ID, 1, ""); ok {
		t.Fatal("the first intent's job landed twice")
	}
	for _, c := range []struct {
		code   string
		except int64
		taken  bool
	}{{"A-1", 0, true}, {"A-2", 0, true}, {"A-1", d.ID, false}, {"A-3", 0, false}} {
		if got, err := s.ErpCodeTaken(ctx, c.code, c.except); err != nil || got != c.taken {
			t.Errorf("ErpCodeTaken(%s, %d) = %v, %v", c.code, c.except, got, err)
		}
	}
	other := createDebt(t, s, debtInput("B-1"))
	if ok, _ := s.MarkDebtDelivered(ctx, other.ID, 1, ""); !ok {
		t.Fatal("deliver other")
	}
	if _, err := editDebt(s, other.ID, debtInput("A-1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taking a code another debt once had: %v", err)
	}
	fe := store.DebtError{Status: 400, Code: "400", Message: "bad", Fields: map[string][]string{"paidAmount": {"too much"}}}
	if ok, err := s.MarkDebtFailed(ctx, d.ID, 2, fe); !ok || err != nil {
		t.Fatalf("fail: %v %v", ok, err)
	}
	d, _ = s.Debt(ctx, d.ID)
	if d.State != store.DebtFailed || d.ErrorFields()["paidAmount"][0] != "too much" {
		t.Fatalf("failed debt %+v", d)
	}
	trail, _ := s.AuditTrail(ctx, store.DebtSubject(d.ID), 10)
	if len(trail) != 2 || trail[0].Action != "debt.failed" || trail[1].Action != "debt.delivered" {
		t.Fatalf("audit trail %+v", trail)
	}
}

// TestDebtListKeysetIsExact walks the list both ways by cursor over many
// ties of the sort value and compares with a plain ORDER BY.
func TestDebtListKeysetIsExact(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	for i := range 57 {
		in := debtInput(fmt.Sprintf("K-%03d", i))
		in.Amount = decimal.NewFromInt(int64(1 + i%4))
		in.DueDate = in.DueDate.AddDate(0, 0, i%3)
		in.CurrencyID = []string{"TRY", "USD"}[i%2]
		createDebt(t, s, in)
	}
	for _, tc := range []struct {
		sort, order string
		desc        bool
		currency    string
	}{
		{store.DebtSortDue, "due_date, id", false, ""},
		{store.DebtSortDue, "due_date DESC, id DESC", true, ""},
		{store.DebtSortAmount, "amount DESC, id DESC", true, "USD"},
		{"", "id DESC", true, ""},
	} {
		var want []int64
		if err := s.DB().Select(&want, `SELECT id FROM debts WHERE $1 = '' OR currency_id = $1 ORDER BY `+tc.order, tc.currency); err != nil {
			t.Fatal(err)
		}
		f := store.DebtFilter{Sort: tc.sort, Desc: tc.desc, Currency: tc.currency, Limit: 10}
		var got []int64
		var pages []store.DebtPage
		for {
			p, err := s.ListDebts(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != len(want) || p.Capped {
				t.Fatalf("%s: total %d, want %d", tc.order, p.Total, len(want))
			}
			for _, d := range p.Items {
				got = append(got, d.ID)
			}
			pages = append(pages, p)
			if p.Next == nil {
				break
			}
			// The cursor survives a round trip through a URL.
			c, ok := store.ParseDebtCursor(p.Next.String(), tc.sort)
			if !ok {
				t.Fatalf("cursor %q does not parse", p.Next.String())
			}
			f.After, f.Before = &c, nil
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s forwards:\n got %v\nwant %v", tc.order, got, want)
		}
		// Backwards from the last page gives each earlier page again.
		last := pages[len(pages)-1]
		for i := len(pages) - 2; i >= 0; i-- {
			f.After, f.Before = nil, last.Prev
			p, err := s.ListDebts(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(p.Items)) != fmt.Sprint(ids(pages[i].Items)) {
				t.Fatalf("%s backwards page %d: %v, want %v", tc.order, i, ids(p.Items), ids(pages[i].Items))
			}
			if (i == 0) != (p.Prev == nil) {
				t.Fatalf("%s page %d: prev %v", tc.order, i, p.Prev)
			}
			last = p
		}
	}
	for _, c := range []struct{ text, sort string }{
		{"2026-01-01_5", store.DebtSortAmount}, {"12.5_5", store.DebtSortDue}, {"abc", ""}, {"5_x", store.DebtSortDue}, {"7_5", ""},
	} {
		if _, ok := store.ParseDebtCursor(c.text, c.sort); ok {
			t.Errorf("cursor %q parsed for sort %q", c.text, c.sort)
		}
	}
}

func ids(ds []store.Debt) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// TestOverdueFollowsFinrotasRuleOnTheIstanbulDay checks each condition of
// the rule, at a moment when UTC is still on the previous day.
func TestOverdueFollowsFinrotasRuleOnTheIstanbulDay(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	// 22:30 UTC on the 20th is already the 21st in Istanbul.
	now := time.Date(2026, 11, 20, 22, 30, 0, 0, time.UTC)
	mk := func(code, due, paid, currency, agent string, deliver, active bool) {
		in := debtInput(code)
		in.DueDate, _ = time.ParseInLocation(time.DateOnly, due, i18n.Istanbul)
		in.TransactionDate = in.DueDate.AddDate(0, -1, 0)
		in.PaidAmount = decimal.RequireFromString(paid)
		in.CurrencyID, in.AgentErpCode = currency, agent
		d := createDebt(t, s, in)
		if deliver {
			s.MarkDebtDelivered(ctx, d.ID, d.Version, "")
		}
		if !active {
			s.DB().Exec(`UPDATE debts SET is_active = false WHERE id = $1`, d.ID)
		}
	}
	mk("O-1", "2026-11-20", "0", "TRY", "AG-1", true, true)       // overdue
	mk("O-2", "2026-11-20", "1000.50", "TRY", "AG-2", true, true) // overdue, partly paid
	mk("O-3", "2026-10-01", "0", "USD", "AG-1", true, true)       // overdue
	mk("N-1", "2026-11-21", "0", "TRY", "AG-1", true, true)       // due today: not yet
	mk("N-2", "2026-11-01", "1550", "TRY", "AG-1", true, true)    // fully paid
	mk("N-3", "2026-11-01", "0", "TRY", "AG-3", true, false)      // inactive
	mk("N-4", "2026-11-01", "0", "TRY", "AG-4", false, true)      // never reached Finrota
	sum, err := s.OverdueSummary(ctx, i18n.Today(now))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Debts != 3 || sum.Agents != 2 || len(sum.ByCurrency) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if c := sum.ByCurrency[0]; c.Currency != "TRY" || c.Debts != 2 || !c.Outstanding.Equal(decimal.RequireFromString("2099.50")) {
		t.Errorf("TRY total %+v", c)
	}
	p, _ := s.ListDebts(ctx, store.DebtFilter{Overdue: true, Today: i18n.Today(now), Sort: store.DebtSortDue})
	if len(p.Items) != 4 { // the list shows N-4 too: it is overdue locally
		t.Errorf("overdue filter: %d rows", len(p.Items))
	}
}

// TestUpsertRemoteKeepsWhatTheUserTyped: a sync fills in new debts and
// Finrota's changes, but never overwrites an intent still on its way.
func TestUpsertRemoteKeepsWhatTheUserTyped(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	pending := createDebt(t, s, debtInput("P-1"))
	delivered := createDebt(t, s, debtInput("D-1"))
	s.MarkDebtDelivered(ctx, delivered.ID, 1, "guid-d")
	remote := func(code, id, paid string) store.RemoteDebt {
		in := debtInput(code)
		return store.RemoteDebt{FinrotaID: id, ErpCode: code, AgentErpCode: in.AgentErpCode, CurrentAccountErpCode: in.CurrentAccountErpCode,
			Amount: in.Amount, PaidAmount: decimal.RequireFromString(paid), DocumentNo: "REMOTE", DocumentType: "Çek",
			DueDate: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), TransactionDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			CurrencyID: "TRY", IsActive: true}
	}
	fetched := time.Now().Add(time.Minute)
	n, err := s.UpsertRemoteDebts(ctx, []store.RemoteDebt{remote("P-1", "guid-p", "5"), remote("D-1-RENAMED", "guid-d", "7"), remote("NEW-1", "guid-n", "0")}, fetched)
	if err != nil || n != 1 {
		t.Fatalf("upsert: %d new, %v", n, err)
	}
	p, _ := s.Debt(ctx, pending.ID)
	if p.State != store.DebtPending || p.DocumentNo != "D-1" || *p.FinrotaID != "guid-p" {
		t.Errorf("pending debt overwritten: %+v", p)
	}
	d, _ := s.Debt(ctx, delivered.ID)
	if d.ErpCode != "D-1-RENAMED" || d.DocumentNo != "REMOTE" || !d.PaidAmount.Equal(decimal.NewFromInt(7)) {
		t.Errorf("delivered debt not updated from Finrota: %+v", d)
	}
	nw, err := s.DebtByErpCode(ctx, "NEW-1")
	if err != nil || nw.State != store.DebtDelivered || *nw.FinrotaID != "guid-n" {
		t.Errorf("new debt: %+v %v", nw, err)
	}
	if taken, _ := s.ErpCodeTaken(ctx, "D-1", 0); !taken {
		t.Error("the old code of a debt renamed at Finrota must stay used")
	}
}
