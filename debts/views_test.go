package debts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/debts"
	"kasa/i18n"
	"kasa/store"
	"kasa/store/storetest"
)

// TestDebtPageViews reads each page of the debts area on a mirror with
// every case the overdue rule distinguishes: inactive, unknown and listed
// agents and accounts, debts not at Finrota, paid, inactive and not yet due.
func TestDebtPageViews(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	svc := debts.New(debts.Deps{Store: s})
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	today := i18n.Today(now)
	db := s.DB()

	// Before anything is there: empty lists, no sync, no sends.
	empty, err := svc.DebtOverdueView(ctx, debts.DebtFilter{Overdue: true, Today: today, AtFinrota: true, Reachable: true}, 20)
	if err != nil || len(empty.List.Page.Items) != 0 || empty.List.LastSync != nil || empty.Summary.Debts != 0 || len(empty.Notifications) != 0 {
		t.Fatalf("empty overdue view %+v, %v", empty, err)
	}

	if err := svc.PutDebtRefs(ctx, []debts.DebtRef{
		{Kind: debts.RefAgent, Code: "AG-1", Name: "Bir", Active: true}, {Kind: debts.RefAgent, Code: "AG-2", Name: "İki", Active: false},
		{Kind: debts.RefAccount, Code: "ACC-1", Name: "Hesap", Active: true}, {Kind: debts.RefAccount, Code: "ACC-2", Active: false},
	}); err != nil {
		t.Fatal(err)
	}
	noErr(t, svc.NoteDebtRefs(ctx, debts.RefAgent, []string{"AG-3"}))
	noErr(t, svc.LearnDebtRef(ctx, debts.RefAccount, "ACC-3", true))
	db.MustExec(`INSERT INTO debts (erp_code, remote_erp_code, finrota_id, agent_erp_code, current_account_erp_code, amount, paid_amount,
			document_no, document_type, due_date, transaction_date, currency_id, description, is_active, state, delivered_at, seen_at,
			last_error_status, last_error_fields)
		SELECT 'V-' || lpad(i::text, 3, '0'), CASE WHEN i % 9 = 0 THEN NULL ELSE 'V-' || lpad(i::text, 3, '0') END,
			CASE WHEN i % 2 = 0 THEN 'f' || i END,
			(ARRAY['AG-1','AG-2','AG-3','AG-4'])[1 + i % 4], (ARRAY['ACC-1','ACC-2','ACC-3','ACC-4'])[1 + (i / 4) % 4],
			round((100 + i * 37.13)::numeric, 2), CASE WHEN i % 5 = 0 THEN 100 + i * 37.13 WHEN i % 5 = 1 THEN 10.01 ELSE 0 END,
			'D-' || i, 'Fatura', $1::date - (i - 60), $1::date - 90, (ARRAY['TRY','USD','EUR'])[1 + i % 3], 'açıklama ' || i,
			i % 11 <> 0, (ARRAY['delivered','pending','failed'])[1 + i % 3],
			CASE WHEN i % 2 = 0 THEN timestamptz '2026-11-20 13:14:15.123456+03' END, now(),
			CASE WHEN i % 3 = 2 THEN 422 ELSE 0 END, CASE WHEN i % 3 = 2 THEN '{"amount": ["too big"]}'::jsonb ELSE '{}' END
		FROM generate_series(1, 250) AS i`, today.Format(time.DateOnly))
	db.MustExec(`INSERT INTO debt_syncs (state, items, total, finished_at) VALUES ('done', 250, 250, now())`)
	db.MustExec(`INSERT INTO debt_notifications (day, debts, agents, request_id, state) VALUES ('2026-11-19', 3, 1, 'n-1', 'sent'), ('2026-11-20', 4, 2, 'n-2', 'failed')`)
	db.MustExec(`ANALYZE`)

	var refs int
	noErr(t, db.Get(&refs, `SELECT count(*) FROM debt_refs`))
	var last debts.DebtPage
	for _, f := range []debts.DebtFilter{
		{}, {Sort: debts.DebtSortAmount, Desc: true}, {Sort: debts.DebtSortDue, Limit: 7}, {Currency: "USD", Overdue: true, Today: today},
		{Agent: "AG-1", Q: "v-1"}, {Q: "nothing"}, {State: debts.DebtFailed, Sort: debts.DebtSortDue, Desc: true},
	} {
		v, err := svc.DebtListView(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		// The references are every agent and account, listed, noted or learnt.
		if refs < 6 || len(v.Refs) != refs || v.LastSync == nil || v.LastSync.Items != 250 {
			t.Fatalf("%+v: refs %+v, last sync %+v", f, v.Refs, v.LastSync)
		}
		for _, d := range v.Page.Items {
			if f.Currency != "" && d.CurrencyID != f.Currency || f.Agent != "" && d.AgentErpCode != f.Agent {
				t.Errorf("%+v listed %+v", f, d)
			}
		}
		last = v.Page
	}
	if len(last.Items) == 0 || last.Items[0].LastErrorFields == nil || last.Total == 0 {
		t.Fatalf("the failed debts came back without their errors: %+v", last)
	}

	// The overdue page: its list, and the summary as OverdueSummary counts it.
	for _, f := range []debts.DebtFilter{
		{Overdue: true, Today: today, AtFinrota: true, Reachable: true, Sort: debts.DebtSortDue},
		{Overdue: true, Today: today, AtFinrota: true, Reachable: true, Sort: debts.DebtSortAmount, Desc: true, Currency: "EUR"},
	} {
		v, err := svc.DebtOverdueView(ctx, f, 20)
		if err != nil {
			t.Fatal(err)
		}
		sum := v.Summary
		if len(v.Notifications) != 2 || v.Notifications[0].RequestID != "n-2" || len(v.List.Refs) != refs || len(v.List.Page.Items) == 0 {
			t.Fatalf("overdue view: sends %+v, %d refs, %d debts", v.Notifications, len(v.List.Refs), len(v.List.Page.Items))
		}
		daily, _ := svc.DebtDailyNotify(ctx)
		if v.DailyNotify != daily || sum.Debts == 0 || sum.Unknown == 0 || sum.Unknown == sum.Debts || len(sum.ByAgent) < 2 {
			t.Fatalf("summary %+v (daily %v): the data should cover known, unknown and several agents", sum, v.DailyNotify)
		}
	}

	// A debt's page.
	in := debtInput("V-NEW")
	var d debts.Debt
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if d, err = debts.CreateDebt(ctx, tx, in, 0); err != nil {
			return err
		}
		return store.Audit(ctx, tx, 0, "debt.create", debts.DebtSubject(d.ID), map[string]any{"values": debts.DebtValues(d)})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		noErr(t, s.InsertAPICall(ctx, store.APICall{At: now.Add(time.Duration(i) * time.Second), Provider: "finrota", Operation: "create_debt",
			Method: "POST", Status: 503, DurationMS: 12.5 + float64(i), RequestID: d.RequestID, ErrorCode: "E", Failure: "down"}))
	}
	detail, err := svc.DebtDetailView(ctx, d.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if detail.Debt.ID != d.ID || detail.Debt.ErpCode != "V-NEW" {
		t.Fatalf("detail debt %+v", detail.Debt)
	}
	if len(detail.Trail) != 1 || len(detail.Deliveries) != 1 || len(detail.Deliveries[0].Calls) != 3 {
		t.Fatalf("detail %+v", detail)
	}
	if _, err := svc.DebtDetailView(ctx, 999999, 100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing debt: %v, want ErrNotFound", err)
	}

	// The new form: a code no debt has used.
	code, err := svc.NewErpCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if taken, _ := svc.ErpCodeTaken(ctx, code, 0); taken || len(code) != len("CAT-20261121-ABCDEF") {
		t.Fatalf("proposed code %q (taken %v)", code, taken)
	}
}
