package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/connect"
	"kasa/i18n"
	"kasa/static"
	"kasa/store"
	"kasa/store/storetest"
)

// TestDebtPagesCostTwoQueries: every GET of the debts area costs the
// session's statement and one for the page's data, on a mirror with
// something to show on each page (references, overdue debts at Finrota, a
// sync, a send, a debt with history, deliveries and API calls).
func TestDebtPagesCostTwoQueries(t *testing.T) {
	registerCounting.Do(func() { sql.Register("postgres-counting", countingDriver{}) })
	ctx := context.Background()
	st, err := store.OpenDriver(ctx, "postgres-counting", storetest.URL(t), storetest.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, st)
	sessions, _ := st.Sessions(store.SessionConfig{Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Idle: time.Hour, Absolute: time.Hour})
	conn := connect.New(st, http.DefaultClient, nil, "http://kasa.test")
	h := New(Config{PublicURL: &url.URL{Scheme: "http", Host: "kasa.test"}}, Deps{Store: st, Sessions: sessions, Assets: static.New(), Logger: quiet, Connect: conn})
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &testEnv{t: t, st: st, srv: srv}
	admin, u := e.login(store.RoleAdmin)

	if err := st.PutDebtRefs(ctx, []store.DebtRef{{Kind: store.RefAgent, Code: "AG-1", Name: "Agent 1", Active: true},
		{Kind: store.RefAccount, Code: "ACC-1", Name: "Account 1", Active: true}}); err != nil {
		t.Fatal(err)
	}
	today := i18n.Today(time.Now())
	if _, err := st.DB().Exec(`INSERT INTO debts (erp_code, remote_erp_code, agent_erp_code, current_account_erp_code, amount, paid_amount,
			document_no, document_type, due_date, transaction_date, currency_id, state)
		SELECT 'Q-' || i, 'Q-' || i, 'AG-1', 'ACC-1', 100 + i, 0, 'D-' || i, 'Fatura', $1::date - i, $1::date - 30, 'TRY', 'delivered'
		FROM generate_series(1, 150) AS i`, today.Format(time.DateOnly)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`INSERT INTO debt_syncs (state, items, total, finished_at) VALUES ('done', 150, 150, now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`INSERT INTO debt_notifications (day, requested_by, debts, agents, request_id, state)
		VALUES ($1, $2, 150, 1, 'rq-notify', 'sent')`, today.Format(time.DateOnly), u.ID); err != nil {
		t.Fatal(err)
	}
	var d store.Debt
	err = st.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		in := store.DebtInput{AgentErpCode: "AG-1", CurrentAccountErpCode: "ACC-1", Amount: mustDec("1550.00"), DocumentNo: "D-X",
			DocumentType: "Fatura", DueDate: today, TransactionDate: today, CurrencyID: "TRY", ErpCode: "Q-NEW"}
		if d, err = store.CreateDebt(ctx, tx, in, u.ID); err != nil {
			return err
		}
		return store.Audit(ctx, tx, u.ID, "debt.create", store.DebtSubject(d.ID), map[string]any{"values": store.DebtValues(d), "requestId": d.RequestID})
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		noErr(t, st.InsertAPICall(ctx, store.APICall{At: time.Now(), Provider: "finrota", Operation: "create_debt", Method: "POST", Status: 503, RequestID: d.RequestID}))
	}

	var last int64
	noErr(t, st.DB().Get(&last, `SELECT max(id) FROM debts WHERE erp_code LIKE 'Q-%' AND erp_code <> 'Q-NEW'`))
	for _, page := range []string{
		"/debts", "/debts?sort=amount&dir=desc&currency=TRY&overdue=1", fmt.Sprintf("/debts?before=%d", last-50), "/debts?q=q-1&agent=AG-1",
		"/debts/overdue", "/debts/overdue?sort=amount&dir=desc&account=ACC-1", "/debts/overdue/send",
		fmt.Sprintf("/debts/%d", d.ID), fmt.Sprintf("/debts/%d/edit", d.ID), "/debts/new", fmt.Sprintf("/debts/%d/state?full=1", d.ID),
	} {
		e.get(admin, page) // warm: a first visit may touch the session's last use
		before := statements.Load()
		resp, _ := e.get(admin, page)
		n := statements.Load() - before
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", page, resp.StatusCode)
		}
		t.Logf("%s: %d statements", page, n)
		if n > 2 {
			t.Errorf("%s cost %d statements, want at most 2 (session + page data)", page, n)
		}
	}
	for _, page := range []string{"/debts/999999", "/debts/999999/edit", "/debts/x"} {
		if resp, _ := e.get(admin, page); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", page, resp.StatusCode)
		}
	}
}
