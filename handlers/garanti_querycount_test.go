package handlers

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/connect"
	"kasa/hgs"
	"kasa/static"
	"kasa/store"
	"kasa/store/storetest"
)

// TestGarantiPagesCostTwoQueries checks the Garanti and HGS pages with data
// in every list they show (consents with products, usage, withdrawals and an
// audit trail; tags with movements): each GET costs the session statement and
// one statement of its own, whatever the number of rows.
func TestGarantiPagesCostTwoQueries(t *testing.T) {
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
	admin, _ := e.login(store.RoleAdmin)

	ids := seedGaranti(t, st)
	consent := "/consents/" + strconv.FormatInt(ids[0], 10)
	for _, page := range []string{"/consents", consent, consent + "/revoke?mode=product&product=7001",
		"/consents/new", "/consents/new?renew=" + strconv.FormatInt(ids[0], 10), "/consents/setup",
		"/hgs", "/hgs?vehicle=7001&kind=passages&from=01.01.2020&motorway=a", "/hgs?vehicle=nope", "/hgs?page=2"} {
		e.get(admin, page) // warm: a first visit may touch the session's last use
		before := statements.Load()
		resp, _ := e.get(admin, page)
		n := statements.Load() - before
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", page, resp.StatusCode)
		}
		t.Logf("%s: %d statements", page, n)
		if n > 2 {
			t.Errorf("%s cost %d statements, want at most 2 (session + page data)", page, n)
		}
	}
}

// seedGaranti stores two active consents (the newer with tokens, products,
// today's usage and a withdrawal), their tags and 60 movements, and a queued
// HGS sync; it returns the consents' ids, newest first.
func seedGaranti(t *testing.T, st *store.Store) []int64 {
	t.Helper()
	ctx := context.Background()
	day := store.GarantiDay(time.Now())
	var ids []int64
	for i, pid := range []string{"7002", "7001"} {
		id, err := st.CreateGarantiConsent(ctx, store.NewGarantiConsent{ConsentID: "qc-" + pid, RawStatus: "B", Status: store.GarantiAwaiting,
			Recurring: true, ValidationDate: day.AddDate(0, 0, 30+i), FrequencyPerDay: 4, TranBegin: day.AddDate(-1, 0, 0), TranEnd: day,
			Authorities: []store.GarantiAuthority{{ID: "HgsTransactionInfo"}, {ID: "HgsProductInfo"}},
			State:       "s-" + pid, Binding: "b", Verifier: "v", StateExpires: time.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ActivateGarantiConsent(ctx, id, "Y", []store.GarantiConsentProduct{
			{ProductID: pid, AuthorityID: "HgsTransactionInfo", Flag: true}, {ProductID: pid, AuthorityID: "HgsProductInfo", Flag: true}}); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveGarantiTokens(ctx, id, store.GarantiToken{Access: "a", Refresh: "r", Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ReserveGarantiCall(ctx, id, time.Now(), 4); err != nil {
			t.Fatal(err)
		}
		w := store.HGSWindow{ProductID: pid, ConsentID: id, From: day.AddDate(0, 0, -40), To: day,
			Info: &store.HGSVehicleInfo{Plate: "34 AB " + pid, Balance: decimal.RequireFromString("120.50")}}
		for j := range 30 {
			dc := "B"
			if j%5 == 0 {
				dc = "A"
			}
			w.Transactions = append(w.Transactions, store.HGSTransactionInput{Key: pid + "-" + strconv.Itoa(j), ProductID: pid,
				Amount: decimal.RequireFromString("12.35"), DebitCredit: dc, EntranceTS: time.Now().Add(-time.Duration(j) * 25 * time.Hour),
				EntranceMotorway: "Anadolu", Explanation: "passage", Raw: json.RawMessage(`{}`)})
		}
		if _, err := st.SaveHGSWindow(ctx, w); err != nil {
			t.Fatal(err)
		}
		ids = append([]int64{id}, ids...)
	}
	err := st.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := store.CreateGarantiRevocation(ctx, tx, store.GarantiRevocationRequest{ConsentID: ids[0], Mode: "product", ProductID: "7001"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO river_job (kind, args, max_attempts) VALUES ($1, jsonb_build_object('consent_id', $2::bigint), 5)`,
		hgs.SyncArgs{}.Kind(), ids[0]); err != nil {
		t.Fatal(err)
	}
	return ids
}
