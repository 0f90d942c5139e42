package hgs_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/consents"
	"kasa/hgs"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/tz"
)

// newConsent stores an awaiting consent with a state bound to "binding-1".
func newConsent(t *testing.T, cs *consents.Service, state string, expires time.Time) int64 {
	t.Helper()
	day := tz.Day(time.Now())
	id, err := cs.Insert(context.Background(), consents.NewConsent{
		ConsentID: "c-" + state, RawStatus: "B", Status: consents.Awaiting, Recurring: true, ValidationDate: day.AddDate(0, 0, 30),
		FrequencyPerDay: 4, TranBegin: day.AddDate(-1, 0, 0), TranEnd: day,
		Authorities: []consents.Authority{{ID: "HgsTransactionInfo", AttributeName: "productId", Attribute: "7001"}},
		State:       state, Binding: "binding-1", Verifier: "verifier-" + state, StateExpires: expires,
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// noErr fails the test at once on an error.
func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedViews stores a pending consent, an active one with tokens, products,
// usage, a withdrawal and audit entries, two tags (one never synced) with
// movements and a row kept aside, and a queued HGS sync.
func seedViews(t *testing.T, s *store.Store, cs *consents.Service, hs *hgs.Service) (pending, active int64) {
	t.Helper()
	ctx := context.Background()
	pending = newConsent(t, cs, "view-pending", time.Now().Add(time.Minute))
	active = newConsent(t, cs, "view-active", time.Now().Add(time.Minute))
	if err := cs.SaveActivation(ctx, active, "Y", []consents.Product{
		{ProductID: "7001", AuthorityID: "HgsTransactionInfo", Flag: true}, {ProductID: "7001", AuthorityID: "HgsProductInfo", Flag: false},
		{ProductID: "7002", AuthorityID: "HgsTransactionInfo", Flag: true}}); err != nil {
		t.Fatal(err)
	}
	if err := cs.SaveTokens(ctx, active, consents.Token{Access: "a", Refresh: "r", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cs.Reserve(ctx, active, time.Now(), 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.Fail(ctx, consents.Consent{ID: pending}, "E001", "bad"); err != nil {
		t.Fatal(err)
	}
	if _, err := consents.CreateRevocation(ctx, s.DB(), consents.RevocationRequest{ConsentID: active, Mode: "product", ProductID: "7002"}); err != nil {
		t.Fatal(err)
	}
	day := tz.Day(time.Now())
	w := hgs.Window{ProductID: "7001", ConsentID: active, From: day.AddDate(0, 0, -90), To: day,
		Info: &hgs.VehicleInfo{Plate: "34 ABC 01", VehicleClass: "1", Balance: decimal.RequireFromString("1550.10"),
			AutoPayment: decimal.RequireFromString("0.01"), MinPayment: decimal.RequireFromString("100")},
		Unrecognised: []hgs.UnrecognisedRow{{Key: "odd", Reason: "unknown debitCreditInd", Raw: json.RawMessage(`{"x":1}`)}}}
	for i := range 70 {
		in := hgs.TransactionInput{Key: "k" + strconv.Itoa(i), ProductID: "7001", Amount: decimal.New(int64(1234+i), -2),
			DebitCredit: "B", EntranceTS: time.Now().Add(-time.Duration(i) * 31 * time.Hour), EntranceMotorway: "Anadolu Otoyolu",
			DepartureTS: time.Now().Add(-time.Duration(i)*31*time.Hour + time.Hour), DepartureMotorway: "Avrasya_Tüneli", Explanation: "geçiş"}
		if i%7 == 0 {
			in.DebitCredit, in.DepartureTS, in.Explanation = "A", time.Time{}, "yükleme 100%"
		}
		w.Transactions = append(w.Transactions, in)
	}
	if _, err := hs.SaveWindow(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := hs.SetVehicleError(ctx, "7002", "E052", "revoked"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO river_job (kind, args, max_attempts) VALUES ('garanti.hgs_sync', '{}', 5)`); err != nil {
		t.Fatal(err)
	}
	return pending, active
}

// TestGarantiPageViews reads the consents page, a consent's page and the
// HGS page over consents, tags and movements of every kind.
func TestGarantiPageViews(t *testing.T) {
	s := storetest.New(t)
	cs, hs := services(t, s, nil)
	ctx := context.Background()
	pending, active := seedViews(t, s, cs, hs)
	if err := s.PutSettings(ctx, 0, map[string]string{"garanti.client_id": "cid", "garanti.client_secret": "", "finrota.api_key": "x"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	cp, err := cs.ListView(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Consents) != 2 || cp.Consents[0].Consent.ID != active || cp.Consents[1].Consent.ID != pending {
		t.Fatalf("consents: %+v, want the active then the pending one", cp.Consents)
	}
	if cp.Consents[0].Used != 3 || !cp.Consents[0].Consent.HasTokens || cp.Consents[1].Used != 0 || cp.Consents[1].Consent.HasTokens {
		t.Errorf("consents' use and tokens: %+v", cp.Consents)
	}
	// Tomorrow, today's calls no longer count.
	if next, _ := cs.ListView(ctx, now.Add(24*time.Hour)); len(next.Consents) != 2 || next.Consents[0].Used != 0 {
		t.Errorf("tomorrow's consents: %+v", next.Consents)
	}
	if want := map[string]string{"garanti.client_id": "cid", "garanti.client_secret": ""}; len(cp.Settings) != 2 ||
		cp.Settings["garanti.client_id"] != "cid" || cp.Settings["garanti.client_secret"] != "" {
		t.Errorf("settings %v, want %v", cp.Settings, want)
	}

	v, err := cs.View(ctx, active, now, 20)
	if err != nil {
		t.Fatal(err)
	}
	if v.Consent.ID != active || v.Used != 3 || len(v.Products) != 3 || v.Products[0].Plate != "34 ABC 01" ||
		len(v.Revocations) != 1 || v.Revocations[0].ProductID != "7002" || len(v.Trail) == 0 {
		t.Errorf("active consent's page: %+v", v)
	}
	v, err = cs.View(ctx, pending, now, 20)
	if err != nil {
		t.Fatal(err)
	}
	if v.Consent.LastErrorCode != "E001" || v.Used != 0 || len(v.Products) != 0 || len(v.Revocations) != 0 || len(v.Trail) == 0 {
		t.Errorf("pending consent's page: %+v", v)
	}
	if _, err := cs.View(ctx, active+100, now, 20); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing consent: %v, want ErrNotFound", err)
	}

	day := tz.Day(now)
	for _, c := range []struct {
		f                 hgs.Filter
		total, vehicles   int
		firstPage, offset int
	}{
		{f: hgs.Filter{}, total: 70, vehicles: 1, firstPage: 50},
		{f: hgs.Filter{}, total: 70, vehicles: 1, firstPage: 20, offset: 50},
		{f: hgs.Filter{ProductID: "7002"}, total: 0},
		{f: hgs.Filter{Kind: hgs.TopUps}, total: 10, vehicles: 1, firstPage: 10},
		// A filter naming a tag the product does not know is not applied.
		{f: hgs.Filter{ProductID: "nope", Kind: hgs.TopUps}, total: 70, vehicles: 1, firstPage: 50},
	} {
		p, err := hs.View(ctx, hgs.PageQuery{Filter: c.f, Limit: 50, Offset: c.offset, Now: now, SyncKind: "garanti.hgs_sync"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != c.total || len(p.Txns) != c.firstPage || len(p.PerVehicle) != c.vehicles {
			t.Errorf("%+v at %d: %d of %d movements, %d tags' totals", c.f, c.offset, len(p.Txns), p.Total, len(p.PerVehicle))
		}
		if len(p.Txns) > 0 && (p.Txns[0].Plate != "34 ABC 01" || p.PerVehicle[0].Plate != "34 ABC 01" || len(p.PerMonth) == 0) {
			t.Errorf("%+v: first movement %+v, totals %+v / %+v", c.f, p.Txns[0], p.PerVehicle, p.PerMonth)
		}
	}
	p, err := hs.View(ctx, hgs.PageQuery{Filter: hgs.Filter{From: day.AddDate(0, 0, -20)}, Limit: 50, Now: now, SyncKind: "garanti.hgs_sync"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Vehicles) != 2 || p.Vehicles[0].Unrecognised != 1 || !p.Vehicles[0].Covered || p.Vehicles[1].Balance != nil ||
		p.Vehicles[1].LastErrorCode != "E052" {
		t.Errorf("vehicles: %+v", p.Vehicles)
	}
	if len(p.Active) != 1 || p.Active[0].Consent.ID != active || p.Active[0].Used != 3 {
		t.Fatalf("active consents: %+v", p.Active)
	}
	if !p.Syncing || p.LastRun != nil {
		t.Errorf("a queued sync and none run yet: syncing %v, last run %+v", p.Syncing, p.LastRun)
	}
	if _, err := s.DB().Exec(`INSERT INTO hgs_sync_runs (outcome, vehicles, quota_limit) VALUES ($1, 2, 10)`, hgs.OutcomeQuota); err != nil {
		t.Fatal(err)
	}
	if p, err = hs.View(ctx, hgs.PageQuery{Limit: 50, Now: now, SyncKind: "garanti.hgs_sync"}); err != nil {
		t.Fatal(err)
	}
	if p.LastRun == nil || p.LastRun.Outcome != hgs.OutcomeQuota || p.LastRun.QuotaLimit != 10 {
		t.Errorf("last run %+v", p.LastRun)
	}
}

func TestSaveHGSWindowDeduplicates(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	cs, hs := services(t, s, nil)
	ctx := context.Background()
	id := newConsent(t, cs, "hgs", time.Now().Add(time.Minute))
	if err := cs.SaveActivation(ctx, id, "A", []consents.Product{{ProductID: "p1", AuthorityID: "HgsTransactionInfo", Flag: true}}); err != nil {
		t.Fatal(err)
	}
	day := tz.Day(time.Now())
	tx := hgs.TransactionInput{Key: "k1", ProductID: "p1", Amount: decimal.RequireFromString("95.00"), DebitCredit: "B",
		EntranceTS: day.Add(9 * time.Hour), DepartureTS: day.Add(9*time.Hour + 4*time.Minute), EntranceMotorway: "Yavuz Sultan Selim Köprüsü",
		Raw: []byte(`{"productId":"p1"}`)}
	w := hgs.Window{ProductID: "p1", ConsentID: id, From: day.AddDate(0, 0, -5), To: day, Transactions: []hgs.TransactionInput{tx},
		Info: &hgs.VehicleInfo{Plate: "34 ABC 123", VehicleClass: "1", Balance: decimal.RequireFromString("250.5")}}
	if n, err := hs.SaveWindow(ctx, w); err != nil || n != 1 {
		t.Fatalf("first save: %d %v", n, err)
	}
	older := w
	older.From, older.To = day.AddDate(0, 0, -30), day.AddDate(0, 0, -6)
	if n, err := hs.SaveWindow(ctx, older); err != nil || n != 0 {
		t.Fatalf("duplicate save: %d %v", n, err)
	}
	vs, _ := hs.Vehicles(ctx, id)
	if len(vs) != 1 || vs[0].Plate != "34 ABC 123" || !vs[0].Balance.Equal(decimal.RequireFromString("250.50")) ||
		!vs[0].SyncedFrom.Equal(day.AddDate(0, 0, -30)) || !vs[0].SyncedTo.Equal(day) {
		t.Fatalf("vehicle = %+v", vs)
	}
	list, total, err := hs.Transactions(ctx, hgs.Filter{Motorway: "sultan", Kind: hgs.Passages}, 10, 0)
	if err != nil || total != 1 || list[0].Plate != "34 ABC 123" || !list[0].Passage() {
		t.Fatalf("list = %+v %d %v", list, total, err)
	}
	if _, total, _ := hs.Transactions(ctx, hgs.Filter{Motorway: "50%_"}, 10, 0); total != 0 {
		t.Fatal("LIKE wildcards in the search text matched")
	}
}

func TestHGSKindsFollowDebitCredit(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	cs, hs := services(t, s, nil)
	ctx := context.Background()
	id := newConsent(t, cs, "kinds", time.Now().Add(time.Minute))
	if err := cs.SaveActivation(ctx, id, "A", []consents.Product{{ProductID: "p1", AuthorityID: "HgsTransactionInfo", Flag: true}}); err != nil {
		t.Fatal(err)
	}
	day := tz.Day(time.Now())
	w := hgs.Window{ProductID: "p1", ConsentID: id, From: day, To: day, Transactions: []hgs.TransactionInput{
		// A passage (B) the bank lists without an exit time (a bridge).
		{Key: "b-noexit", ProductID: "p1", Amount: decimal.RequireFromString("59.00"), DebitCredit: "B", EntranceTS: day.Add(8 * time.Hour)},
		{Key: "b", ProductID: "p1", Amount: decimal.RequireFromString("95.00"), DebitCredit: "B", EntranceTS: day.Add(9 * time.Hour), DepartureTS: day.Add(10 * time.Hour)},
		{Key: "a", ProductID: "p1", Amount: decimal.RequireFromString("200.00"), DebitCredit: "A", EntranceTS: day.Add(11 * time.Hour)},
	}, Unrecognised: []hgs.UnrecognisedRow{{Key: "x", Reason: `unknown debitCreditInd "X"`, Raw: []byte(`{"debitCreditInd":"X"}`)}}}
	if n, err := hs.SaveWindow(ctx, w); err != nil || n != 3 {
		t.Fatalf("save: %d %v", n, err)
	}
	passages, total, _ := hs.Transactions(ctx, hgs.Filter{Kind: hgs.Passages}, 10, 0)
	per, _, _ := hs.Totals(ctx, hgs.Filter{})
	if total != 2 || len(per) != 1 || per[0].Passages != total {
		t.Fatalf("%d passages listed, %+v counted", total, per)
	}
	for _, p := range passages {
		if !p.Passage() {
			t.Fatalf("listed as a passage but not one: %+v", p)
		}
	}
	if _, total, _ := hs.Transactions(ctx, hgs.Filter{Kind: hgs.TopUps}, 10, 0); total != 1 {
		t.Fatalf("%d top-ups", total)
	}
	vs, _ := hs.Vehicles(ctx, id)
	if len(vs) != 1 || vs[0].Unrecognised != 1 {
		t.Fatalf("vehicle = %+v", vs)
	}
	var raw string
	noErr(t, s.DB().QueryRow(`SELECT raw->>'debitCreditInd' FROM hgs_unrecognised WHERE key = 'x'`).Scan(&raw))
	if raw != "X" {
		t.Fatalf("unrecognised row kept as %q", raw)
	}
}
