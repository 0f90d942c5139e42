package handlers

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/debts"
	"kasa/i18n"
	"kasa/store"
)

// TestDebtPagesCostNoStatementPerRow: every GET of the debts area costs as
// many statements with a few rows as with many (references, overdue debts
// at Finrota, syncs, sends, a debt's history, deliveries and API calls):
// none is repeated per row.
func TestDebtPagesCostNoStatementPerRow(t *testing.T) {
	t.Parallel()
	e, count := countingEnv(t)
	ctx := context.Background()
	admin, u := e.login(store.RoleAdmin)
	st := e.st
	today := i18n.Today(time.Now())

	// Few rows: a reference of each kind, three overdue debts, a sync, a
	// send, and a debt with its delivery and an API call.
	if err := debts.New(debts.Deps{Store: st}).PutDebtRefs(ctx, []debts.DebtRef{{Kind: debts.RefAgent, Code: "AG-1", Name: "Agent 1", Active: true},
		{Kind: debts.RefAccount, Code: "ACC-1", Name: "Account 1", Active: true}}); err != nil {
		t.Fatal(err)
	}
	seedDebtRows := func(from, to int) {
		t.Helper()
		st.DB().MustExec(`INSERT INTO debts (erp_code, remote_erp_code, agent_erp_code, current_account_erp_code, amount, paid_amount,
				document_no, document_type, due_date, transaction_date, currency_id, state)
			SELECT 'Q-' || i, 'Q-' || i, 'AG-' || (1 + i % 7), 'ACC-' || (1 + i % 11), 100 + i, 0, 'D-' || i, 'Fatura', $1::date - i % 90,
				$1::date - 90, (ARRAY['TRY','USD','EUR'])[1 + i % 3], 'delivered'
			FROM generate_series($2::int, $3::int) AS i`, today.Format(time.DateOnly), from, to)
		st.DB().MustExec(`INSERT INTO debt_syncs (state, items, total, finished_at) SELECT 'done', $1::int, $1::int, now()
			FROM generate_series($2::int, $3::int)`, to, from, to)
		st.DB().MustExec(`INSERT INTO debt_notifications (day, requested_by, debts, agents, request_id, state)
			SELECT $1::date - i, $2, 150, 1, 'rq-notify-' || i, 'sent' FROM generate_series($3::int, $4::int) AS i`,
			today.Format(time.DateOnly), u.ID, from-1, to-1)
	}
	seedDebtRows(1, 3)
	var d debts.Debt
	err := st.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		in := debts.DebtInput{AgentErpCode: "AG-1", CurrentAccountErpCode: "ACC-1", Amount: mustDec("1550.00"), DocumentNo: "D-X",
			DocumentType: "Fatura", DueDate: today, TransactionDate: today, CurrencyID: "TRY", ErpCode: "Q-NEW"}
		if d, err = debts.CreateDebt(ctx, tx, in, u.ID); err != nil {
			return err
		}
		return store.Audit(ctx, tx, u.ID, "debt.create", debts.DebtSubject(d.ID), map[string]any{"values": debts.DebtValues(d), "requestId": d.RequestID})
	})
	if err != nil {
		t.Fatal(err)
	}
	noErr(t, st.InsertAPICall(ctx, store.APICall{At: time.Now(), Provider: "finrota", Operation: "create_debt", Method: "POST", Status: 503, RequestID: d.RequestID}))

	pages := []string{
		"/debts", "/debts?sort=amount&dir=desc&currency=TRY&overdue=1", "/debts?before=2", "/debts?q=q-1&agent=AG-1",
		"/debts/overdue", "/debts/overdue?sort=amount&dir=desc&account=ACC-1", "/debts/overdue/send",
		fmt.Sprintf("/debts/%d", d.ID), fmt.Sprintf("/debts/%d/edit", d.ID), "/debts/new", fmt.Sprintf("/debts/%d/state?full=1", d.ID),
	}
	few := pageStatements(e, count, admin, pages)

	// Many rows: references, 150 more debts over several agents, accounts
	// and currencies, syncs and sends, and the debt's history and API calls.
	for i := 2; i <= 40; i++ {
		noErr(t, debts.New(debts.Deps{Store: st}).PutDebtRefs(ctx, []debts.DebtRef{{Kind: debts.RefAgent, Code: fmt.Sprint("AG-", i), Name: "Agent", Active: i%5 != 0},
			{Kind: debts.RefAccount, Code: fmt.Sprint("ACC-", i), Name: "Account", Active: true}}))
	}
	seedDebtRows(4, 153)
	for i := range 30 {
		noErr(t, store.Audit(ctx, st.DB(), u.ID, "debt.note", debts.DebtSubject(d.ID), map[string]any{"n": i}))
		noErr(t, st.InsertAPICall(ctx, store.APICall{At: time.Now(), Provider: "finrota", Operation: "create_debt", Method: "POST", Status: 503, RequestID: d.RequestID}))
	}
	sameStatements(t, few, pageStatements(e, count, admin, pages))

	for _, page := range []string{"/debts/999999", "/debts/999999/edit", "/debts/x"} {
		if resp, _ := e.get(admin, page); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", page, resp.StatusCode)
		}
	}
}
