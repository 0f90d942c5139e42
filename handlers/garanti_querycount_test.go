package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"kasa/consents"
	"kasa/hgs"
	"kasa/store"
	"kasa/tz"
)

// TestGarantiPagesCostNoStatementPerRow checks the Garanti and HGS pages
// with data in every list they show (consents with products, usage,
// withdrawals and an audit trail; tags with movements): each GET costs as
// many statements with a few rows as with many.
func TestGarantiPagesCostNoStatementPerRow(t *testing.T) {
	t.Parallel()
	e, count := countingEnv(t)
	admin, _ := e.login(store.RoleAdmin)

	ids := seedGaranti(t, e, []string{"7002", "7001"}, 3)
	consent := "/consents/" + strconv.FormatInt(ids[0], 10)
	pages := []string{"/consents", consent, consent + "/revoke?mode=product&product=7001",
		"/consents/new", "/consents/new?renew=" + strconv.FormatInt(ids[0], 10), "/consents/setup",
		"/hgs", "/hgs?vehicle=7001&kind=passages&from=01.01.2020&motorway=a", "/hgs?vehicle=nope", "/hgs?page=2"}
	few := pageStatements(e, count, admin, pages, http.StatusOK, http.StatusUnprocessableEntity)

	// Many rows: more consents and tags, 60 movements a tag, and more
	// withdrawals and history for the consent shown.
	seedGaranti(t, e, []string{"7003", "7004", "7005"}, 60)
	ctx := context.Background()
	for range 10 {
		err := e.st.InTx(ctx, func(tx *sqlx.Tx) error {
			_, err := consents.CreateRevocation(ctx, tx, consents.RevocationRequest{ConsentID: ids[0], Mode: "product", ProductID: "7002"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sameStatements(t, few, pageStatements(e, count, admin, pages, http.StatusOK, http.StatusUnprocessableEntity))
}

// seedGaranti stores an active consent per tag in pids (each with tokens,
// products, today's usage and the tag's movements, n of them), a withdrawal
// of the last tag under the newest consent, and a queued HGS sync; it
// returns the consents' ids, newest first.
func seedGaranti(t *testing.T, e *testEnv, pids []string, n int) []int64 {
	t.Helper()
	st := e.st
	cs := consents.New(consents.Deps{Store: st})
	hs := hgs.New(hgs.Deps{Store: st, Consents: cs})
	ctx := context.Background()
	day := tz.Day(time.Now())
	var ids []int64
	for i, pid := range pids {
		id, err := cs.Insert(ctx, consents.NewConsent{ConsentID: "qc-" + pid, RawStatus: "B", Status: consents.Awaiting,
			Recurring: true, ValidationDate: day.AddDate(0, 0, 30+i), FrequencyPerDay: 4, TranBegin: day.AddDate(-1, 0, 0), TranEnd: day,
			Authorities: []consents.Authority{{ID: "HgsTransactionInfo"}, {ID: "HgsProductInfo"}},
			State:       "s-" + pid, Binding: "b", Verifier: "v", StateExpires: time.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.SaveActivation(ctx, id, "Y", []consents.Product{
			{ProductID: pid, AuthorityID: "HgsTransactionInfo", Flag: true}, {ProductID: pid, AuthorityID: "HgsProductInfo", Flag: true}}); err != nil {
			t.Fatal(err)
		}
		if err := cs.SaveTokens(ctx, id, consents.Token{Access: "a", Refresh: "r", Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Reserve(ctx, id, time.Now(), 4); err != nil {
			t.Fatal(err)
		}
		w := hgs.Window{ProductID: pid, ConsentID: id, From: day.AddDate(0, 0, -40), To: day,
			Info: &hgs.VehicleInfo{Plate: "34 AB " + pid, Balance: decimal.RequireFromString("120.50")}}
		for j := range n {
			dc := "B"
			if j%5 == 0 {
				dc = "A"
			}
			w.Transactions = append(w.Transactions, hgs.TransactionInput{Key: pid + "-" + strconv.Itoa(j), ProductID: pid,
				Amount: decimal.RequireFromString("12.35"), DebitCredit: dc, EntranceTS: time.Now().Add(-time.Duration(j) * 15 * time.Hour),
				EntranceMotorway: "Anadolu", Explanation: "passage", Raw: json.RawMessage(`{}`)})
		}
		if _, err := hs.SaveWindow(ctx, w); err != nil {
			t.Fatal(err)
		}
		ids = append([]int64{id}, ids...)
	}
	err := st.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := consents.CreateRevocation(ctx, tx, consents.RevocationRequest{ConsentID: ids[0], Mode: "product", ProductID: pids[len(pids)-1]})
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
