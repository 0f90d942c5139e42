package debts_test

import (
	"context"
	"io"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/a-h/templ"

	"kasa/debts"
	"kasa/i18n"
	"kasa/static"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/views"
)

// BenchmarkDebtListPage renders the debts list's 100-row page server-side
// (the handler's one statement — count, page, references, last sync — and
// the templ render) over a mirror of 100,000 debts: the first page, a page
// near the end, filtered and sorted pages, and the whole overdue page (its
// list, the summary of what a send reaches, the latest sends).
// It reports the median (p50-ns) as well as the mean.
func BenchmarkDebtListPage(b *testing.B) {
	// The middleware puts the request's Env in the context; without it every
	// translation would rebuild the asset table.
	ctx := views.WithEnv(context.Background(), &views.Env{Lang: i18n.TR, Assets: static.New()})
	s := storetest.New(b)
	svc := debts.New(debts.Deps{Store: s})
	seedDebts(b, s, 100_000)
	today := time.Date(2026, 11, 21, 0, 0, 0, 0, i18n.Istanbul)

	var late debts.DebtCursor
	if err := s.DB().GetContext(ctx, &late, `SELECT to_char(due_date, 'YYYY-MM-DD') AS value, id FROM debts ORDER BY due_date, id OFFSET 99800 LIMIT 1`); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name    string
		f       debts.DebtFilter
		overdue bool // the whole overdue page rather than the list
	}{
		{"first", debts.DebtFilter{Sort: debts.DebtSortDue}, false},
		{"late", debts.DebtFilter{Sort: debts.DebtSortDue, After: &late}, false},
		{"filter+sort", debts.DebtFilter{Currency: "USD", Overdue: true, Today: today, Sort: debts.DebtSortAmount, Desc: true}, false},
		{"agent+search", debts.DebtFilter{Agent: "AG-007", Q: "cat-0001", Sort: debts.DebtSortDue}, false},
		{"EUR+Virman", debts.DebtFilter{Currency: "EUR", DocumentType: "Virman"}, false},
		{"amount-desc", debts.DebtFilter{Sort: debts.DebtSortAmount, Desc: true}, false},
		{"EUR+amount-desc", debts.DebtFilter{Currency: "EUR", Sort: debts.DebtSortAmount, Desc: true}, false},
		{"delivered", debts.DebtFilter{State: debts.DebtDelivered}, false},
		{"overdue-list", debts.OverdueFilter(today), false},
		{"overdue-page", debts.DebtFilter{Overdue: true, Today: today, AtFinrota: true, Reachable: true, Sort: debts.DebtSortDue}, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var took []time.Duration
			rows := 0
			for b.Loop() {
				start := time.Now()
				var page templ.Component
				if tc.overdue {
					p, err := svc.DebtOverdueView(ctx, tc.f, 20)
					if err != nil {
						b.Fatal(err)
					}
					page = views.DebtOverduePage(views.DebtOverdueView{List: benchListView(p.List, tc.f, today),
						Summary: p.Summary, Notifications: p.Notifications, DailyNotify: p.DailyNotify})
					rows = len(p.List.Page.Items)
				} else {
					p, err := svc.DebtListView(ctx, tc.f)
					if err != nil {
						b.Fatal(err)
					}
					page = views.DebtsPage(benchListView(p, tc.f, today))
					rows = len(p.Page.Items)
				}
				if err := page.Render(ctx, io.Discard); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

// benchListView is the list's view model, as the handler builds it.
func benchListView(p debts.DebtListPage, f debts.DebtFilter, today time.Time) views.DebtListView {
	v := views.DebtListView{Page: p.Page, Filter: f, Query: url.Values{}, Today: today, LastSync: p.LastSync}
	for _, r := range p.Refs {
		switch r.Kind {
		case debts.RefAgent:
			v.Agents = append(v.Agents, r)
		case debts.RefAccount:
			v.Accounts = append(v.Accounts, r)
		default:
			v.Currencies = append(v.Currencies, r.Code)
		}
	}
	return v
}

// seedDebts loads n delivered debts spread over agents, accounts,
// currencies, types and two years of due dates, then analyses the table
// as autovacuum would.
func seedDebts(tb testing.TB, s *store.Store, n int) {
	tb.Helper()
	_, err := s.DB().Exec(`
		INSERT INTO debts (erp_code, remote_erp_code, finrota_id, agent_erp_code, current_account_erp_code, amount, paid_amount,
			document_no, document_type, due_date, transaction_date, currency_id, description, state, delivered_at, seen_at)
		SELECT 'CAT-' || lpad(i::text, 6, '0'), 'CAT-' || lpad(i::text, 6, '0'), md5(i::text),
			'AG-' || lpad((i % 40)::text, 3, '0'), 'ACC-' || lpad((i % 400)::text, 4, '0'),
			round((100 + (i * 7919) % 250000)::numeric / 3, 2), CASE WHEN i % 4 = 0 THEN 0 ELSE round(((i * 31) % 100)::numeric, 2) END,
			'FTR-' || i, (ARRAY['Senet','Çek','Kredi Kartı','Borç dekont','Fatura','Havale','Sipariş','Devir','Virman'])[1 + i % 9],
			DATE '2025-06-01' + (i * 13) % 730, DATE '2025-05-01' + (i * 13) % 730,
			(ARRAY['TRY','TRY','TRY','USD','EUR'])[1 + i % 5], 'Bench ' || i, 'delivered', now(), now()
		FROM generate_series(1, $1) AS i`, n)
	if err != nil {
		tb.Fatal(err)
	}
	// The references a sync notes (40 agents, 400 accounts, a few known
	// inactive) and a finished sync, as the page shows them.
	if _, err := s.DB().Exec(`
		INSERT INTO debt_refs (kind, code, name, active, source)
		SELECT 'agent', 'AG-' || lpad(i::text, 3, '0'), 'Agent ' || i, i % 10 <> 9, 'list' FROM generate_series(0, 39) AS i
		UNION ALL
		SELECT 'account', 'ACC-' || lpad(i::text, 4, '0'), 'Account ' || i, i % 50 <> 49, 'list' FROM generate_series(0, 399) AS i`); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.DB().Exec(`INSERT INTO debt_syncs (state, items, total, finished_at) VALUES ('done', $1, $1, now())`, n); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.DB().Exec(`VACUUM ANALYZE debts`); err != nil {
		tb.Fatal(err)
	}
}
