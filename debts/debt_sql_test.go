package debts_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/debts"
	"kasa/i18n"
	"kasa/store"
	"kasa/store/storetest"
)

func debtInput(code string) debts.DebtInput {
	return debts.DebtInput{
		AgentErpCode: "AG-1", CurrentAccountErpCode: "ACC-1", Amount: decimal.RequireFromString("1550"),
		PaidAmount: decimal.Zero, DocumentNo: "D-1", DocumentType: "Fatura", CurrencyID: "TRY", ErpCode: code,
		// Istanbul midnight: stored as that calendar day whatever the session zone.
		DueDate:         time.Date(2026, 4, 1, 0, 0, 0, 0, i18n.Istanbul),
		TransactionDate: time.Date(2026, 3, 1, 0, 0, 0, 0, i18n.Istanbul),
	}
}

func createDebt(t *testing.T, s *store.Store, in debts.DebtInput) debts.Debt {
	t.Helper()
	var d debts.Debt
	err := s.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		d, err = debts.CreateDebt(context.Background(), tx, in, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func editDebt(s *store.Store, id int64, in debts.DebtInput) (debts.Debt, error) {
	var d debts.Debt
	err := s.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		d, err = debts.EditDebt(context.Background(), tx, id, in, 0)
		return err
	})
	return d, err
}

// TestDebtIntentsAreFencedAndCodesNeverReused follows one debt through
// create, delivery, a rename and a stale job's late result.
func TestDebtIntentsAreFencedAndCodesNeverReused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	d := createDebt(t, s, debtInput("A-1"))
	if d.State != debts.DebtPending || d.Op != debts.DebtOpCreate || d.Version != 1 || d.RequestID == "" || d.AtFinrota() {
		t.Fatalf("new debt %+v", d)
	}
	if got := d.DueDate.Format(time.DateOnly); got != "2026-04-01" {
		t.Fatalf("due date stored as %s", got)
	}
	err := s.InTx(ctx, func(tx *sqlx.Tx) error { _, err := debts.CreateDebt(ctx, tx, debtInput("A-1"), 0); return err })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate code: %v", err)
	}
	if _, err := editDebt(s, d.ID, debtInput("A-2")); !errors.Is(err, debts.ErrDebtBusy) {
		t.Fatalf("edit while pending: %v", err)
	}
	if ok, err := svc.MarkDebtDelivered(ctx, d.ID, 2, "x"); ok || err != nil {
		t.Fatalf("a job of another version must not land: %v %v", ok, err)
	}
	if ok, err := svc.MarkDebtDelivered(ctx, d.ID, 1, "guid-1"); !ok || err != nil {
		t.Fatalf("deliver: %v %v", ok, err)
	}
	renamed, err := editDebt(s, d.ID, debtInput("A-2"))
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Op != debts.DebtOpUpdate || renamed.Version != 2 || *renamed.RemoteErpCode != "A-1" || renamed.RequestID == d.RequestID {
		t.Fatalf("rename intent %+v", renamed)
	}
	if ok, _ := svc.MarkDebtDelivered(ctx, d.ID, 1, ""); ok {
		t.Fatal("the first intent's job landed twice")
	}
	for _, c := range []struct {
		code   string
		except int64
		taken  bool
	}{{"A-1", 0, true}, {"A-2", 0, true}, {"A-1", d.ID, false}, {"A-3", 0, false}} {
		if got, err := svc.ErpCodeTaken(ctx, c.code, c.except); err != nil || got != c.taken {
			t.Errorf("ErpCodeTaken(%s, %d) = %v, %v", c.code, c.except, got, err)
		}
	}
	other := createDebt(t, s, debtInput("B-1"))
	if ok, _ := svc.MarkDebtDelivered(ctx, other.ID, 1, ""); !ok {
		t.Fatal("deliver other")
	}
	if _, err := editDebt(s, other.ID, debtInput("A-1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taking a code another debt once had: %v", err)
	}
	fe := debts.DebtError{Status: 400, Code: "400", Message: "bad", Fields: map[string][]string{"paidAmount": {"too much"}}}
	if ok, err := svc.MarkDebtFailed(ctx, d.ID, 2, fe); !ok || err != nil {
		t.Fatalf("fail: %v %v", ok, err)
	}
	d, _ = svc.Debt(ctx, d.ID)
	if d.State != debts.DebtFailed || d.ErrorFields()["paidAmount"][0] != "too much" {
		t.Fatalf("failed debt %+v", d)
	}
	trail, _ := s.AuditTrail(ctx, debts.DebtSubject(d.ID), 10)
	if len(trail) != 2 || trail[0].Action != "debt.failed" || trail[1].Action != "debt.delivered" {
		t.Fatalf("audit trail %+v", trail)
	}
}

// TestDebtListKeysetIsExact walks the list both ways by cursor over many
// ties of the sort value and compares with a plain ORDER BY.
func TestDebtListKeysetIsExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
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
		{debts.DebtSortDue, "due_date, id", false, ""},
		{debts.DebtSortDue, "due_date DESC, id DESC", true, ""},
		{debts.DebtSortAmount, "amount DESC, id DESC", true, "USD"},
		{"", "id DESC", true, ""},
	} {
		var want []int64
		if err := s.DB().Select(&want, `SELECT id FROM debts WHERE $1 = '' OR currency_id = $1 ORDER BY `+tc.order, tc.currency); err != nil {
			t.Fatal(err)
		}
		f := debts.DebtFilter{Sort: tc.sort, Desc: tc.desc, Currency: tc.currency, Limit: 10}
		var got []int64
		var pages []debts.DebtPage
		for {
			p, err := svc.ListDebts(ctx, f)
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
			c, ok := debts.ParseDebtCursor(p.Next.String(), tc.sort)
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
			p, err := svc.ListDebts(ctx, f)
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
		{"2026-01-01_5", debts.DebtSortAmount}, {"12.5_5", debts.DebtSortDue}, {"abc", ""}, {"5_x", debts.DebtSortDue}, {"7_5", ""},
	} {
		if _, ok := debts.ParseDebtCursor(c.text, c.sort); ok {
			t.Errorf("cursor %q parsed for sort %q", c.text, c.sort)
		}
	}
}

func ids(ds []debts.Debt) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// TestOverdueFollowsFinrotasRuleOnTheIstanbulDay checks each condition of
// the FAQ's rule (PaidAmount ≤ Amount, DueDate < now), at a moment when UTC
// is still on the previous day.
func TestOverdueFollowsFinrotasRuleOnTheIstanbulDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
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
			if _, err := svc.MarkDebtDelivered(ctx, d.ID, d.Version, ""); err != nil {
				t.Fatal(err)
			}
		}
		if !active {
			if _, err := s.DB().Exec(`UPDATE debts SET is_active = false WHERE id = $1`, d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("O-1", "2026-11-20", "0", "TRY", "AG-1", true, true)       // overdue
	mk("O-2", "2026-11-20", "1000.50", "TRY", "AG-2", true, true) // overdue, partly paid
	mk("O-3", "2026-10-01", "0", "USD", "AG-1", true, true)       // overdue
	mk("O-4", "2026-11-21", "0", "TRY", "AG-1", true, true)       // due today: its midnight has passed
	mk("O-5", "2026-11-01", "1550", "TRY", "AG-1", true, true)    // fully paid: Finrota still notifies
	mk("N-1", "2026-11-22", "0", "TRY", "AG-1", true, true)       // due tomorrow
	mk("N-3", "2026-11-01", "0", "TRY", "AG-3", true, false)      // inactive
	mk("N-4", "2026-11-01", "0", "TRY", "AG-4", false, true)      // never reached Finrota
	sum, err := svc.OverdueSummary(ctx, i18n.Today(now))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Debts != 5 || sum.Agents != 2 || sum.FullyPaid != 1 || len(sum.ByCurrency) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if c := sum.ByCurrency[0]; c.Currency != "TRY" || c.Debts != 4 || !c.Outstanding.Equal(decimal.RequireFromString("3649.50")) {
		t.Errorf("TRY total %+v", c)
	}
	p, _ := svc.ListDebts(ctx, debts.DebtFilter{Overdue: true, Today: i18n.Today(now), Sort: debts.DebtSortDue})
	if len(p.Items) != 6 { // without OverdueFilter's other conditions, N-4 too
		t.Errorf("overdue filter: %d rows", len(p.Items))
	}
}

// TestUpsertRemoteKeepsWhatTheUserTyped: a sync fills in new debts and
// Finrota's changes, but never overwrites an intent still on its way, and
// never gives an unconfirmed debt the id of a record that is not provably
// ours.
func TestUpsertRemoteKeepsWhatTheUserTyped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	pending := createDebt(t, s, debtInput("P-1"))
	lost := createDebt(t, s, debtInput("L-1"))
	delivered := createDebt(t, s, debtInput("D-1"))
	if _, err := svc.MarkDebtDelivered(ctx, delivered.ID, 1, "guid-d"); err != nil {
		t.Fatal(err)
	}
	fetched := time.Now().Add(time.Minute)
	// P-1 at Finrota is someone else's record (other document, other
	// amounts); L-1 holds exactly our data (a create whose answer was lost).
	sameAsLost := remoteOf(debtInput("L-1"), "guid-l")
	n, err := svc.UpsertRemoteDebts(ctx, []debts.RemoteDebt{remote("P-1", "guid-p", "5"), sameAsLost,
		remote("D-1-RENAMED", "guid-d", "7"), remote("NEW-1", "guid-n", "0")}, fetched)
	if err != nil || n != 1 {
		t.Fatalf("upsert: %d new, %v", n, err)
	}
	p, _ := svc.Debt(ctx, pending.ID)
	if p.State != debts.DebtPending || p.DocumentNo != "D-1" || p.FinrotaID != nil {
		t.Errorf("pending debt took someone else's record: %+v (id %v)", p, p.FinrotaID)
	}
	l, _ := svc.Debt(ctx, lost.ID)
	if l.State != debts.DebtPending || l.FinrotaID == nil || *l.FinrotaID != "guid-l" {
		t.Errorf("a record holding exactly our data is ours: %+v", l)
	}
	d, _ := svc.Debt(ctx, delivered.ID)
	if d.ErpCode != "D-1-RENAMED" || d.DocumentNo != "REMOTE" || !d.PaidAmount.Equal(decimal.NewFromInt(7)) {
		t.Errorf("delivered debt not updated from Finrota: %+v", d)
	}
	trail, _ := s.AuditTrail(ctx, debts.DebtSubject(delivered.ID), 10)
	var synced struct{ Changes map[string]debts.DebtChange }
	if len(trail) > 0 {
		if err := json.Unmarshal(trail[0].Details, &synced); err != nil {
			t.Fatal(err)
		}
	}
	if len(trail) == 0 || trail[0].Action != "debt.synced" || synced.Changes["paidAmount"] != (debts.DebtChange{From: "0.00", To: "7.00"}) ||
		synced.Changes["erpCode"] != (debts.DebtChange{From: "D-1", To: "D-1-RENAMED"}) || len(synced.Changes) != 4 {
		t.Errorf("the sync's change is not in the history: %+v", synced)
	}
	nw, err := svc.DebtByErpCode(ctx, "NEW-1")
	if err != nil || nw.State != debts.DebtDelivered || *nw.FinrotaID != "guid-n" {
		t.Errorf("new debt: %+v %v", nw, err)
	}
	if taken, _ := svc.ErpCodeTaken(ctx, "D-1", 0); !taken {
		t.Error("the old code of a debt renamed at Finrota must stay used")
	}
}

func remote(code, id, paid string) debts.RemoteDebt {
	r := remoteOf(debtInput(code), id)
	r.PaidAmount, r.DocumentNo, r.DocumentType = decimal.RequireFromString(paid), "REMOTE", "Çek"
	return r
}

func remoteOf(in debts.DebtInput, id string) debts.RemoteDebt {
	return debts.RemoteDebt{FinrotaID: id, ErpCode: in.ErpCode, AgentErpCode: in.AgentErpCode, CurrentAccountErpCode: in.CurrentAccountErpCode,
		Amount: in.Amount, PaidAmount: in.PaidAmount, DocumentNo: in.DocumentNo, DocumentType: in.DocumentType,
		DueDate: in.DueDate, TransactionDate: in.TransactionDate, CurrencyID: in.CurrencyID, Description: in.Description, IsActive: true}
}

// TestSyncAfterAConflictAndARename is the finding's sequence: our create
// meets someone else's record under its code (409), a sync runs, the user
// renames the debt and it is delivered under the new code, and syncs go on
// working: the other record is mirrored as its own row, and ours keeps the
// id of its own record only.
func TestSyncAfterAConflictAndARename(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	mine := createDebt(t, s, debtInput("T-ELSE-2"))
	if ok, _ := svc.MarkDebtFailed(ctx, mine.ID, 1, debts.DebtError{Status: 409, Message: "already exists"}); !ok {
		t.Fatal("mark failed")
	}
	theirs := remoteOf(debtInput("T-ELSE-2"), "guid-theirs")
	theirs.DocumentNo, theirs.Amount = "SOMEONE-ELSE", decimal.NewFromInt(10)
	if _, err := svc.UpsertRemoteDebts(ctx, []debts.RemoteDebt{theirs}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Debt(ctx, mine.ID); d.FinrotaID != nil || d.State != debts.DebtFailed {
		t.Fatalf("our failed debt took the other record's id: %v %s", d.FinrotaID, d.State)
	}
	renamed, err := editDebt(s, mine.ID, debtInput("T-MINE-2"))
	if err != nil || renamed.Op != debts.DebtOpCreate || renamed.FinrotaID != nil {
		t.Fatalf("edit and retry: %+v %v", renamed, err)
	}
	if ok, _ := svc.MarkDebtDelivered(ctx, mine.ID, renamed.Version, "guid-mine"); !ok {
		t.Fatal("deliver")
	}
	ours := remoteOf(debtInput("T-MINE-2"), "guid-mine")
	// The old code stays claimed by our debt; the sync must still mirror
	// the other record and finish the page.
	for range 2 {
		if _, err := svc.UpsertRemoteDebts(ctx, []debts.RemoteDebt{theirs, ours}, time.Now()); err != nil {
			t.Fatalf("sync after the rename: %v", err)
		}
	}
	d, _ := svc.Debt(ctx, mine.ID)
	if *d.FinrotaID != "guid-mine" || d.ErpCode != "T-MINE-2" || d.State != debts.DebtDelivered {
		t.Fatalf("ours: %+v", d)
	}
	other, err := svc.DebtByErpCode(ctx, "T-ELSE-2")
	if err != nil || other.ID == mine.ID || *other.FinrotaID != "guid-theirs" || other.DocumentNo != "SOMEONE-ELSE" {
		t.Fatalf("the other record: %+v %v", other, err)
	}
	if taken, _ := svc.ErpCodeTaken(ctx, "T-ELSE-2", mine.ID); !taken {
		t.Fatal("the other record's code must stay taken")
	}
}

// TestSyncKeepsARenamedDebtSeen: a delivered debt renamed at Finrota to a
// code another local debt holds keeps its code but counts as seen, so the
// sync's end does not mark it inactive.
func TestSyncKeepsARenamedDebtSeen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	a := createDebt(t, s, debtInput("R-A"))
	if _, err := svc.MarkDebtDelivered(ctx, a.ID, 1, "guid-a"); err != nil {
		t.Fatal(err)
	}
	// Delivered and last seen an hour before the sync starts: unless the
	// sync sees it, its end marks it inactive, and the sync's data is newer.
	if _, err := s.DB().Exec(`UPDATE debts SET delivered_at = delivered_at - interval '1 hour', seen_at = seen_at - interval '1 hour' WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	createDebt(t, s, debtInput("R-B")) // holds R-B locally, never delivered
	var syncID int64
	if err := s.InTx(ctx, func(tx *sqlx.Tx) error { var err error; syncID, err = debts.StartDebtSync(ctx, tx, 0); return err }); err != nil {
		t.Fatal(err)
	}
	renamed := remoteOf(debtInput("R-B"), "guid-a")
	renamed.PaidAmount = decimal.NewFromInt(3)
	if _, err := svc.UpsertRemoteDebts(ctx, []debts.RemoteDebt{renamed}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := svc.FinishDebtSync(ctx, syncID, ""); err != nil {
		t.Fatal(err)
	}
	d, _ := svc.Debt(ctx, a.ID)
	if !d.IsActive || d.ErpCode != "R-A" || !d.PaidAmount.Equal(decimal.NewFromInt(3)) {
		t.Fatalf("renamed-at-Finrota debt: active %v, code %s, paid %s", d.IsActive, d.ErpCode, d.PaidAmount)
	}
}

// TestOverdueLeavesOutInactiveAgentsAndAccounts: Finrota's notification
// skips debts whose agent or current account is inactive, so the summary
// does too, as far as the mirror knows it (a list, or Finrota's own 404),
// and says how many debts it cannot judge.
func TestOverdueLeavesOutInactiveAgentsAndAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	today := time.Date(2026, 5, 1, 0, 0, 0, 0, i18n.Istanbul)
	mk := func(code, agent, account string) {
		in := debtInput(code)
		in.AgentErpCode, in.CurrentAccountErpCode = agent, account
		d := createDebt(t, s, in)
		if _, err := svc.MarkDebtDelivered(ctx, d.ID, d.Version, ""); err != nil {
			t.Fatal(err)
		}
	}
	mk("A-OK", "AG-ON", "ACC-ON")
	mk("A-AGENT-OFF", "AG-OFF", "ACC-ON")
	mk("A-ACCOUNT-OFF", "AG-ON", "ACC-OFF")
	mk("A-UNKNOWN", "AG-SEEN", "ACC-ON")
	if err := svc.PutDebtRefs(ctx, []debts.DebtRef{
		{Kind: debts.RefAgent, Code: "AG-ON", Active: true}, {Kind: debts.RefAgent, Code: "AG-OFF", Active: false},
		{Kind: debts.RefAccount, Code: "ACC-ON", Active: true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := svc.NoteDebtRefs(ctx, debts.RefAgent, []string{"AG-SEEN"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.NoteDebtRefs(ctx, debts.RefAccount, []string{"ACC-OFF"}); err != nil {
		t.Fatal(err)
	}
	sum, _ := svc.OverdueSummary(ctx, today)
	if sum.Debts != 3 || sum.Unknown != 2 { // ACC-OFF and AG-SEEN are only seen: activity unknown
		t.Fatalf("before Finrota's answer: %+v", sum)
	}
	if err := svc.LearnDebtRef(ctx, debts.RefAccount, "ACC-OFF", false); err != nil {
		t.Fatal(err)
	}
	sum, _ = svc.OverdueSummary(ctx, today)
	if sum.Debts != 2 || sum.Agents != 2 || sum.Unknown != 1 {
		t.Fatalf("summary %+v, want A-OK and A-UNKNOWN with one unknown", sum)
	}
	p, _ := svc.ListDebts(ctx, debts.OverdueFilter(today))
	if fmt.Sprint(codes(p.Items)) != "[A-OK A-UNKNOWN]" {
		t.Errorf("overdue list %v", codes(p.Items))
	}
	// A list's word is not overturned by what a sync merely sees.
	noErr(t, svc.NoteDebtRefs(ctx, debts.RefAgent, []string{"AG-OFF"}))
	refs, _ := svc.DebtRefs(ctx, debts.RefAgent)
	for _, r := range refs {
		if r.Code == "AG-OFF" && (r.Active || !r.Listed()) {
			t.Errorf("AG-OFF: %+v", r)
		}
	}
}

func codes(ds []debts.Debt) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ErpCode)
	}
	return out
}

// TestDebtDeliveriesKeepCallsWithTheirOwnDelivery: past the 50 deliveries
// shown, the calls of older ones are not shown under the newest.
func TestDebtDeliveriesKeepCallsWithTheirOwnDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	d := createDebt(t, s, debtInput("H-1"))
	first := d.RequestID
	for i := range 55 {
		if _, err := svc.MarkDebtDelivered(ctx, d.ID, d.Version, ""); err != nil {
			t.Fatal(err)
		}
		var err error
		if d, err = editDebt(s, d.ID, debtInput(fmt.Sprintf("H-%d", i+2))); err != nil {
			t.Fatal(err)
		}
	}
	for _, rid := range []string{first, d.RequestID} {
		if err := s.InsertAPICall(ctx, store.APICall{At: time.Now(), Provider: "finrota", Operation: "update_debt", Method: "PUT", Status: 200, RequestID: rid}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := svc.DebtDeliveries(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 50 || ds[0].RequestID != d.RequestID || len(ds[0].Calls) != 1 || ds[0].Calls[0].RequestID != d.RequestID {
		t.Fatalf("%d deliveries; newest has %d calls", len(ds), len(ds[0].Calls))
	}
}
