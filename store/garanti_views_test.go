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

// TestGarantiPageViews reads the consents page, a consent's page and the
// HGS page over consents, tags and movements of every kind.
func TestGarantiPageViews(t *testing.T) {
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
	if len(cp.Consents) != 2 || cp.Consents[0].Consent.ID != active || cp.Consents[1].Consent.ID != pending {
		t.Fatalf("consents: %+v, want the active then the pending one", cp.Consents)
	}
	if cp.Consents[0].Used != 3 || !cp.Consents[0].Consent.HasTokens || cp.Consents[1].Used != 0 || cp.Consents[1].Consent.HasTokens {
		t.Errorf("consents' use and tokens: %+v", cp.Consents)
	}
	// Tomorrow, today's calls no longer count.
	if next, _ := s.GarantiConsentsView(ctx, now.Add(24*time.Hour)); len(next.Consents) != 2 || next.Consents[0].Used != 0 {
		t.Errorf("tomorrow's consents: %+v", next.Consents)
	}
	if want := map[string]string{"garanti.client_id": "cid", "garanti.client_secret": ""}; len(cp.Settings) != 2 ||
		cp.Settings["garanti.client_id"] != "cid" || cp.Settings["garanti.client_secret"] != "" {
		t.Errorf("settings %v, want %v", cp.Settings, want)
	}

	v, err := s.GarantiConsentView(ctx, active, now, 20)
	if err != nil {
		t.Fatal(err)
	}
	if v.Consent.ID != active || v.Used != 3 || len(v.Products) != 3 || v.Products[0].Plate != "34 ABC 01" ||
		len(v.Revocations) != 1 || v.Revocations[0].ProductID != "7002" || len(v.Trail) == 0 {
		t.Errorf("active consent's page: %+v", v)
	}
	v, err = s.GarantiConsentView(ctx, pending, now, 20)
	if err != nil {
		t.Fatal(err)
	}
	if v.Consent.LastErrorCode != "E001" || v.Used != 0 || len(v.Products) != 0 || len(v.Revocations) != 0 || len(v.Trail) == 0 {
		t.Errorf("pending consent's page: %+v", v)
	}
	if _, err := s.GarantiConsentView(ctx, active+100, now, 20); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing consent: %v, want ErrNotFound", err)
	}

	day := store.GarantiDay(now)
	for _, c := range []struct {
		f                 store.HGSFilter
		total, vehicles   int
		firstPage, offset int
	}{
		{f: store.HGSFilter{}, total: 70, vehicles: 1, firstPage: 50},
		{f: store.HGSFilter{}, total: 70, vehicles: 1, firstPage: 20, offset: 50},
		{f: store.HGSFilter{ProductID: "7002"}, total: 0},
		{f: store.HGSFilter{Kind: store.HGSTopUps}, total: 10, vehicles: 1, firstPage: 10},
		// A filter naming a tag the product does not know is not applied.
		{f: store.HGSFilter{ProductID: "nope", Kind: store.HGSTopUps}, total: 70, vehicles: 1, firstPage: 50},
	} {
		p, err := s.HGSPageView(ctx, store.HGSPageQuery{Filter: c.f, Limit: 50, Offset: c.offset, Now: now, SyncKind: "garanti.hgs_sync"})
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
	p, err := s.HGSPageView(ctx, store.HGSPageQuery{Filter: store.HGSFilter{From: day.AddDate(0, 0, -20)}, Limit: 50, Now: now, SyncKind: "garanti.hgs_sync"})
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
	if _, err := s.DB().Exec(`INSERT INTO hgs_sync_runs (outcome, vehicles, quota_limit) VALUES ($1, 2, 10)`, store.HGSOutcomeQuota); err != nil {
		t.Fatal(err)
	}
	if p, err = s.HGSPageView(ctx, store.HGSPageQuery{Limit: 50, Now: now, SyncKind: "garanti.hgs_sync"}); err != nil {
		t.Fatal(err)
	}
	if p.LastRun == nil || p.LastRun.Outcome != store.HGSOutcomeQuota || p.LastRun.QuotaLimit != 10 {
		t.Errorf("last run %+v", p.LastRun)
	}
}
