package store_test

import (
	"context"
	"io"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/a-h/templ"

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
	seedDebts(b, s, 100_000)
	today := time.Date(2026, 11, 21, 0, 0, 0, 0, i18n.Istanbul)

	var late store.DebtCursor
	if err := s.DB().GetContext(ctx, &late, `SELECT to_char(due_date, 'YYYY-MM-DD') AS value, id FROM debts ORDER BY due_date, id OFFSET 99800 LIMIT 1`); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name    string
		f       store.DebtFilter
		overdue bool // the whole overdue page rather than the list
	}{
		{"first", store.DebtFilter{Sort: store.DebtSortDue}, false},
		{"late", store.DebtFilter{Sort: store.DebtSortDue, After: &late}, false},
		{"filter+sort", store.DebtFilter{Currency: "USD", Overdue: true, Today: today, Sort: store.DebtSortAmount, Desc: true}, false},
		{"agent+search", store.DebtFilter{Agent: "AG-007", Q: "cat-0001", Sort: store.DebtSortDue}, false},
		{"EUR+Virman", store.DebtFilter{Currency: "EUR", DocumentType: "Virman"}, false},
		{"amount-desc", store.DebtFilter{Sort: store.DebtSortAmount, Desc: true}, false},
		{"EUR+amount-desc", store.DebtFilter{Currency: "EUR", Sort: store.DebtSortAmount, Desc: true}, false},
		{"delivered", store.DebtFilter{State: store.DebtDelivered}, false},
		{"overdue-list", store.OverdueFilter(today), false},
		{"overdue-page", store.DebtFilter{Overdue: true, Today: today, AtFinrota: true, Reachable: true, Sort: store.DebtSortDue}, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var took []time.Duration
			rows := 0
			for b.Loop() {
				start := time.Now()
				var page templ.Component
				if tc.overdue {
					p, err := s.DebtOverdueView(ctx, tc.f, 20)
					if err != nil {
						b.Fatal(err)
					}
					page = views.DebtOverduePage(views.DebtOverdueView{List: benchListView(p.List, tc.f, today),
						Summary: p.Summary, Notifications: p.Notifications, DailyNotify: p.DailyNotify})
					rows = len(p.List.Page.Items)
				} else {
					p, err := s.DebtListView(ctx, tc.f)
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
func benchListView(p store.DebtListPage, f store.DebtFilter, today time.Time) views.DebtListView {
	v := views.DebtListView{Page: p.Page, Filter: f, Query: url.Values{}, Today: today, LastSync: p.LastSync}
	for _, r := range p.Refs {
		switch r.Kind {
		case store.RefAgent:
			v.Agents = append(v.Agents, r)
		case store.RefAccount:
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
