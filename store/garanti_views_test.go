package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/store"
	"kasa/store/storetest"
)

// sameJSON fails the test unless got and want encode to the same JSON: times
// then compare as instants with their offsets and amounts as exact text,
// whichever way they were read. An empty list is the same as none.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) && !(string(g) == "[]" && string(w) == "null") {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// seedViews stores a pending consent, an active one with tokens, products,
// usage, a withdrawal and audit entries, two tags (one never synced) with
// movements and a row kept aside, and a queued HGS sync.
func seedViews(t *testing.T, s *store.Store) (pending, active int64) {
	t.Helper()
	ctx := context.Background()
	pending = newConsent(t, s, "view-pending", time.Now().Add(time.Minute))
	active = newConsent(t, s, "view-active", time.Now().Add(time.Minute))
	if err := s.ActivateGarantiConsent(ctx, active, "Y", []store.GarantiConsentProduct{
		{ProductID: "7001", AuthorityID: "HgsTransactionInfo", Flag: true}, {ProductID: "7001", AuthorityID: "HgsProductInfo", Flag: false},
		{ProductID: "7002", AuthorityID: "HgsTransactionInfo", Flag: true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGarantiTokens(ctx, active, store.GarantiToken{Access: "a", Refresh: "r", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.ReserveGarantiCall(ctx, active, time.Now(), 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetGarantiConsentError(ctx, pending, "E001", "bad"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateGarantiRevocation(ctx, s.DB(), store.GarantiRevocationRequest{ConsentID: active, Mode: "product", ProductID: "7002"}); err != nil {
		t.Fatal(err)
	}
	day := store.GarantiDay(time.Now())
	w := store.HGSWindow{ProductID: "7001", ConsentID: active, From: day.AddDate(0, 0, -90), To: day,
		Info: &store.HGSVehicleInfo{Plate: "34 ABC 01", VehicleClass: "1", Balance: decimal.RequireFromString("1550.10"),
			AutoPayment: decimal.RequireFromString("0.01"), MinPayment: decimal.RequireFromString("100")},
		Unrecognised: []store.HGSUnrecognisedRow{{Key: "odd", Reason: "unknown debitCreditInd", Raw: json.RawMessage(`{"x":1}`)}}}
	for i := range 70 {
		in := store.HGSTransactionInput{Key: "k" + strconv.Itoa(i), ProductID: "7001", Amount: decimal.New(int64(1234+i), -2),
			DebitCredit: "B", EntranceTS: time.Now().Add(-time.Duration(i) * 31 * time.Hour), EntranceMotorway: "Anadolu Otoyolu",
			DepartureTS: time.Now().Add(-time.Duration(i)*31*time.Hour + time.Hour), DepartureMotorway: "Avrasya_Tüneli", Explanation: "geçiş"}
		if i%7 == 0 {
			in.DebitCredit, in.DepartureTS, in.Explanation = "A", time.Time{}, "yükleme 100%"
		}
		w.Transactions = append(w.Transactions, in)
	}
	if _, err := s.SaveHGSWindow(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHGSVehicleError(ctx, "7002", "E052", "revoked"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO river_job (kind, args, max_attempts) VALUES ('garanti.hgs_sync', '{}', 5)`); err != nil {
		t.Fatal(err)
	}
	return pending, active
}

// TestGarantiViewsReadWhatTheSingleReadsDo: the one-statement page views
// return exactly what the single-purpose reads return.
func TestGarantiViewsReadWhatTheSingleReadsDo(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	pending, active := seedViews(t, s)
	if err := s.PutSettings(ctx, 0, map[string]string{"garanti.client_id": "cid", "garanti.client_secret": "", "finrota.api_key": "x"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	cp, err := s.GarantiConsentsView(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s.GarantiConsents(ctx)
	if len(cp.Consents) != 2 || len(all) != 2 {
		t.Fatalf("consents: %d, want 2", len(cp.Consents))
	}
	for i, c := range all {
		sameJSON(t, "consent", cp.Consents[i].Consent, c)
		used, _ := s.GarantiUsage(ctx, c.ID, now)
		if cp.Consents[i].Used != used {
			t.Errorf("consent %d used %d, want %d", c.ID, cp.Consents[i].Used, used)
		}
	}
	if cp.Consents[0].Used != 3 || !cp.Consents[0].Consent.HasTokens {
		t.Errorf("active consent: %+v", cp.Consents[0])
	}
	if want := map[string]string{"garanti.client_id": "cid", "garanti.client_secret": ""}; len(cp.Settings) != 2 ||
		cp.Settings["garanti.client_id"] != "cid" || cp.Settings["garanti.client_secret"] != "" {
		t.Errorf("settings %v, want %v", cp.Settings, want)
	}

	for _, id := range []int64{pending, active} {
		v, err := s.GarantiConsentView(ctx, id, now, 20)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := s.GarantiConsent(ctx, id)
		products, _ := s.GarantiConsentProducts(ctx, id)
		revs, _ := s.GarantiRevocations(ctx, id)
		trail, _ := s.AuditTrail(ctx, store.GarantiSubject(id), 20)
		used, _ := s.GarantiUsage(ctx, id, now)
		sameJSON(t, "consent", v.Consent, c)
		sameJSON(t, "products", v.Products, products)
		sameJSON(t, "revocations", v.Revocations, revs)
		sameJSON(t, "trail", v.Trail, trail)
		if v.Used != used || len(v.Trail) == 0 {
			t.Errorf("consent %d: used %d want %d, trail %d", id, v.Used, used, len(v.Trail))
		}
	}
	if _, err := s.GarantiConsentView(ctx, active+100, now, 20); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing consent: %v, want ErrNotFound", err)
	}

	day := store.GarantiDay(now)
	for _, f := range []store.HGSFilter{{}, {ProductID: "7001"}, {ProductID: "7002"}, {Kind: store.HGSPassages}, {Kind: store.HGSTopUps},
		{DebitCredit: "A"}, {From: day.AddDate(0, 0, -20), To: day.AddDate(0, 0, -3)}, {Motorway: "avrasya_"}, {Motorway: "100%"},
		{ProductID: "7001", Kind: store.HGSPassages, From: day.AddDate(0, -1, 0), Motorway: "anadolu"}} {
		for _, offset := range []int{0, 50} {
			p, err := s.HGSPageView(ctx, store.HGSPageQuery{Filter: f, Limit: 50, Offset: offset, Now: now, SyncKind: "garanti.hgs_sync"})
			if err != nil {
				t.Fatal(err)
			}
			txns, total, _ := s.HGSTransactions(ctx, f, 50, offset)
			perVehicle, perMonth, _ := s.HGSTotals(ctx, f)
			sameJSON(t, "txns", p.Txns, txns)
			sameJSON(t, "per vehicle", p.PerVehicle, perVehicle)
			sameJSON(t, "per month", p.PerMonth, perMonth)
			if p.Total != total {
				t.Errorf("%+v: total %d, want %d", f, p.Total, total)
			}
		}
	}
	p, err := s.HGSPageView(ctx, store.HGSPageQuery{Filter: store.HGSFilter{ProductID: "nope", Kind: store.HGSTopUps}, Limit: 50, Now: now, SyncKind: "garanti.hgs_sync"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 70 {
		t.Errorf("a filter naming an unknown tag lists %d movements, want all 70", p.Total)
	}
	vehicles, _ := s.HGSVehicles(ctx, 0)
	sameJSON(t, "vehicles", p.Vehicles, vehicles)
	if len(vehicles) != 2 || vehicles[0].Unrecognised != 1 || vehicles[1].Balance != nil || vehicles[1].LastErrorCode != "E052" {
		t.Errorf("vehicles: %+v", vehicles)
	}
	actives, _ := s.GarantiConsents(ctx, store.GarantiActive)
	if len(p.Active) != 1 || len(actives) != 1 || p.Active[0].Used != 3 {
		t.Fatalf("active consents: %+v", p.Active)
	}
	sameJSON(t, "active consent", p.Active[0].Consent, actives[0])
	if !p.Syncing {
		t.Error("a queued sync is not reported")
	}
}
