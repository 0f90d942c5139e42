package garanti_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"kasa/providers/garanti"
	"kasa/providers/garanti/garantitest"
)

// TestErrorMappingOfWithdrawals maps, through the client, the codes that
// follow withdrawals: an authority or a product withdrawn (E055–E057), an
// empty authority list (E053), and a whole consent withdrawn (E031 for
// data, E033 for activation).
func TestErrorMappingOfWithdrawals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, tok := e.connect(validRequest())
	products := e.fake.Products(garantitest.SandboxCustomerNo)
	if len(products) < 3 {
		t.Fatalf("%d sandbox products", len(products))
	}
	pA, pB, pC := products[0].ProductID, products[1].ProductID, products[2].ProductID
	del := func(items ...garanti.DeleteItem) {
		t.Helper()
		if _, err := e.client.DeleteConsent(ctx, id, tok.AccessToken, items); err != nil {
			t.Fatalf("delete %+v: %v", items, err)
		}
	}
	del(garanti.DeleteItem{AuthorityID: garanti.AuthorityProductInfo, ProductID: pA})
	del(garanti.DeleteItem{AuthorityID: garanti.AuthorityTransactionInfo, ProductID: pB})
	del(garanti.DeleteItem{AuthorityID: garanti.AuthorityProductInfo, ProductID: pC})
	del(garanti.DeleteItem{AuthorityID: garanti.AuthorityTransactionInfo, ProductID: pC})
	day := func(d int) time.Time { return time.Date(2025, 6, d, 0, 0, 0, 0, time.UTC) }
	txn := func(product string, auths []string) func() error {
		return func() error {
			_, err := e.client.HGSTransactions(ctx, id, tok.AccessToken, garanti.TxnQuery{ProductID: product, Start: day(1), End: day(2), Authorities: auths})
			return err
		}
	}
	check := func(name, op string, call func() error, status int, code string) {
		t.Run(name, func(t *testing.T) {
			e.reset()
			err := call()
			var ge *garanti.Error
			if !errors.As(err, &ge) || ge.Status != status || ge.Code != code || ge.RequestID == "" || !garanti.IsCode(err, code) ||
				garanti.Codes[code] == "" || garanti.IsRetryable(err) {
				t.Fatalf("got %v, want %d %s", err, status, code)
			}
			calls := e.recorded()
			last := calls[len(calls)-1]
			if last.Operation != op || last.ErrorCode != code || last.Status != status || last.RequestID != ge.RequestID {
				t.Fatalf("recorded %+v", last)
			}
		})
	}
	check("empty authority list", "hgs_transactions", txn(pA, []string{}), 400, "E053")
	check("product info withdrawn", "hgs_transactions", txn(pA, []string{garanti.AuthorityProductInfo}), 400, "E057")
	check("transactions withdrawn", "hgs_transactions", txn(pB, []string{garanti.AuthorityTransactionInfo}), 400, "E056")
	check("every authority withdrawn", "hgs_transactions", txn(pC, nil), 400, "E055")

	del() // the whole consent
	check("data under a withdrawn consent", "hgs_transactions", txn(pA, []string{garanti.AuthorityTransactionInfo}), 400, "E031")
	check("activating a withdrawn consent", "consent_products", func() error {
		_, err := e.client.ConsentProducts(ctx, id, tok.AccessToken)
		return err
	}, 400, "E033")
}

// TestApprovalLinkCarriesOurStateAndChallenge: when the bank's link already
// has a state or a PKCE challenge, ours replace them (the callback accepts
// only the state this product issued).
func TestApprovalLinkCarriesOurStateAndChallenge(t *testing.T) {
	e := newEnv(t)
	e.fake.SetApprovalLinkBase(e.srv.URL + "/x?state=theirs&code_challenge=theirs&code_challenge_method=plain&")
	_, challenge := garanti.NewPKCE()
	cc, err := e.client.CreateConsent(context.Background(), validRequest(), "ours", challenge)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cc.SCAHref)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q["state"][0] != "ours" || len(q["state"]) != 1 || q.Get("code_challenge") != challenge || q.Get("code_challenge_method") != "S256" ||
		q.Get("consentId") != cc.ConsentID {
		t.Fatalf("link %s", cc.SCAHref)
	}
}
