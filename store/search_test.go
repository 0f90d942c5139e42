package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"kasa/consents"
	"kasa/debts"
	"kasa/hgs"
	"kasa/movements"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/tz"
)

// TestSearchFollowsTurkishCase: every text search (the HGS motorway filter,
// the debts search, the movements search) matches capitals and small
// letters by Turkish rules: Çamlıca, ÇAMLICA and çamlıca find the same
// rows, İstanbul is found as istanbul and İSTANBUL. Capital I is dotless ı
// in Turkish, and codes and bank texts typed in ASCII capitals (INV-001,
// ISTANBUL) must still be found, so i and ı are also taken as one letter.
func TestSearchFollowsTurkishCase(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx := context.Background()

	// HGS: motorways and explanations as the bank writes them.
	cs := consents.New(consents.Deps{Store: s})
	hs := hgs.New(hgs.Deps{Store: s, Consents: cs})
	day := tz.Day(time.Now())
	id, err := cs.Insert(ctx, consents.NewConsent{ConsentID: "c-search", RawStatus: "B", Status: consents.Awaiting, Recurring: true,
		ValidationDate: day.AddDate(0, 0, 30), FrequencyPerDay: 4, TranBegin: day.AddDate(-1, 0, 0), TranEnd: day,
		State: "search", Binding: "binding-1", Verifier: "verifier-search", StateExpires: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SaveActivation(ctx, id, "A", []consents.Product{{ProductID: "p1", AuthorityID: "HgsTransactionInfo", Flag: true}}); err != nil {
		t.Fatal(err)
	}
	passage := func(key, entrance, departure, explanation string, h int) hgs.TransactionInput {
		return hgs.TransactionInput{Key: key, ProductID: "p1", Amount: decimal.RequireFromString("45.00"), DebitCredit: "B",
			EntranceTS: day.Add(time.Duration(h) * time.Hour), DepartureTS: day.Add(time.Duration(h)*time.Hour + 10*time.Minute),
			EntranceMotorway: entrance, DepartureMotorway: departure, Explanation: explanation}
	}
	w := hgs.Window{ProductID: "p1", ConsentID: id, From: day, To: day, Transactions: []hgs.TransactionInput{
		passage("k1", "Çamlıca", "Kınalı", "", 1),
		passage("k2", "Ataşehir", "ÇAMLICA GİŞELERİ", "", 2),
		passage("k3", "Mahmutbey", "Hasdal", "İstanbul Boğaz Köprüsü", 3),
		passage("k4", "ISPARTA YOLU", "Akyazı", "", 4),
		passage("k5", "Camlica", "Izmit", "", 5), // no Turkish letters: another place for Çamlıca
	}}
	if n, err := hs.SaveWindow(ctx, w); err != nil || n != 5 {
		t.Fatalf("save: %d %v", n, err)
	}
	for _, c := range []struct {
		search string
		want   int
	}{
		{"Çamlıca", 2}, {"ÇAMLICA", 2}, {"çamlıca", 2}, {"çAmLıCa", 2},
		{"İstanbul", 1}, {"İSTANBUL", 1}, {"istanbul", 1}, {"ISTANBUL", 1}, {"ıstanbul", 1},
		{"BOĞAZ KÖPRÜSÜ", 1}, {"KINALI", 1}, {"kınalı", 1}, {"isparta", 1}, {"AKYAZI", 1},
		{"izmit", 1}, {"İZMİT", 1}, {"camlica", 1}, {"gişeleri", 1},
		{"Çamlıca Kınalı", 0}, // the entrance and the exit are not one text
	} {
		if _, total, err := hs.Transactions(ctx, hgs.Filter{Motorway: c.search}, 10, 0); err != nil || total != c.want {
			t.Errorf("HGS motorway %q: %d rows, %v; want %d", c.search, total, err, c.want)
		}
	}

	// Movements: description, name and code.
	mov := movements.New(movements.Deps{Store: s})
	a, err := mov.CreateBankAccount(ctx, movements.NewBankAccount{Number: "00158000000000077", Name: "Ana hesap", Currency: "TRY"})
	if err != nil {
		t.Fatal(err)
	}
	ms := movementChain(time.Date(2025, 3, 1, 9, 0, 0, 0, tz.Istanbul), time.Hour, 4)
	ms[0].Description, ms[1].Description = "ÇAMLICA HGS YÜKLEME", "Fatura ödemesi İzmir"
	ms[2].Name = "GELEN HAVALE"
	if _, err := mov.InsertMovements(ctx, a.ID, ms); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		search string
		want   int
	}{
		{"çamlıca", 1}, {"Çamlıca hgs", 1}, {"İZMİR", 1}, {"izmir", 1}, {"gelen havale", 1}, {"Havale", 1}, {"kartödemesi", 0},
	} {
		f := movements.MovementFilter{AccountID: a.ID, From: ms[0].BookedAt.Add(-time.Hour), To: ms[3].BookedAt.Add(time.Hour), Text: c.search}
		got, err := mov.Movements(ctx, f)
		if err != nil || len(got) != c.want {
			t.Errorf("movements search %q: %d rows, %v; want %d", c.search, len(got), err, c.want)
		}
	}
}

// explainDriver is lib/pq that, before each statement with a text search,
// records the statement's plan: the test reads whether the trigram index
// serves the search. Sequential scans are priced out on its connections,
// so a plan still scanning the whole table means the search's expression
// does not match the index's.
type explainDriver struct{}

var (
	registerExplain sync.Once
	plansMu         sync.Mutex
	plans           []string
)

func (explainDriver) Open(name string) (driver.Conn, error) {
	c, err := pq.Driver{}.Open(name)
	if err != nil {
		return nil, err
	}
	pc := c.(pqConn)
	if _, err := pc.ExecContext(context.Background(), "SET enable_seqscan = off", nil); err != nil {
		return nil, err
	}
	return explainConn{pc}, nil
}

// pqConn is what lib/pq's connection offers beyond driver.Conn.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
}

type explainConn struct{ pqConn }

func (c explainConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if strings.Contains(q, "search_fold(") {
		rows, err := c.pqConn.QueryContext(ctx, "EXPLAIN "+q, args)
		if err != nil {
			return nil, err
		}
		var plan []string
		line := make([]driver.Value, len(rows.Columns()))
		for rows.Next(line) == nil {
			plan = append(plan, fmt.Sprint(line[0]))
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		plansMu.Lock()
		plans = append(plans, strings.Join(plan, "\n"))
		plansMu.Unlock()
	}
	return c.pqConn.QueryContext(ctx, q, args)
}

// TestSearchIsServedByItsIndex: the HGS and debts searches can be answered
// from their trigram indexes over the folded text, rather than by reading
// and folding every row; the movements search from the account's period.
func TestSearchIsServedByItsIndex(t *testing.T) {
	t.Parallel()
	registerExplain.Do(func() { sql.Register("postgres-explain", explainDriver{}) })
	ctx := context.Background()
	s, err := store.OpenDriver(ctx, "postgres-explain", storetest.URL(t), storetest.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, s)
	s.DB().SetMaxOpenConns(1) // the plans recorded are this test's alone
	plansMu.Lock()
	plans = nil
	plansMu.Unlock()

	if _, _, err := hgs.New(hgs.Deps{Store: s}).Transactions(ctx, hgs.Filter{Motorway: "ÇAMLICA"}, 10, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := debts.New(debts.Deps{Store: s}).ListDebts(ctx, debts.DebtFilter{Q: "İstanbul şubesi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := movements.New(movements.Deps{Store: s}).Movements(ctx, movements.MovementFilter{AccountID: 1, From: time.Now().AddDate(-1, 0, 0), To: time.Now(), Text: "havale"}); err != nil {
		t.Fatal(err)
	}
	plansMu.Lock()
	all := strings.Join(plans, "\n----\n")
	plansMu.Unlock()
	// Movements are searched within one account's period, which its
	// (account, booked_at) index finds.
	for _, index := range []string{"hgs_transactions_search", "debts_search", "account_movements_account_booked"} {
		if !strings.Contains(all, index) {
			t.Errorf("no plan uses %s:\n%s", index, all)
		}
	}
	if strings.Contains(all, "Seq Scan on") {
		t.Errorf("a search reads the whole table:\n%s", all)
	}
}

// movementChain makes n movements starting at start, one every step, whose
// balances follow from an opening balance of 1000.00.
func movementChain(start time.Time, step time.Duration, n int) []movements.NewMovement {
	ms := make([]movements.NewMovement, n)
	balance := decimal.NewFromInt(1000)
	for i := range ms {
		amount := decimal.NewFromInt(int64(i + 1))
		balance = balance.Add(amount)
		ms[i] = movements.NewMovement{TransactionID: fmt.Sprintf("2024%012d", i+1), BookedAt: start.Add(time.Duration(i) * step),
			Direction: "in", Amount: amount, Balance: balance, Currency: "TL", Code: "EFTGLN", Name: "Gelen EFT",
			Description: fmt.Sprintf("Hareket %d", i+1)}
	}
	return ms
}
