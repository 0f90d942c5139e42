package garanti_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kasa/providers/garanti"
	"kasa/providers/garanti/garantitest"
)

func TestFullFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if regs := e.fake.Registrations(); len(regs) != 1 || regs[0].ClientID != e.app.ClientID || regs[0].RedirectURIs[0] != redirectURI {
		t.Fatalf("registrations = %+v", regs)
	}
	e.reset()

	verifier, challenge := garanti.NewPKCE()
	state := garanti.NewState()
	cc, err := e.client.CreateConsent(ctx, validRequest(), state, challenge)
	if err != nil {
		t.Fatal(err)
	}
	href, _ := url.Parse(cc.SCAHref)
	q := href.Query()
	if len(cc.ConsentID) != 36 || cc.Status != "B" || garanti.MapStatus(cc.Status) != garanti.StatusAwaitingAuthorisation ||
		!cc.CreationEndTime.Equal(start.Add(time.Hour)) || cc.StrongIDType != "OTP" || cc.Location != garanti.ConsentsPath+cc.ConsentID ||
		q.Get("state") != state || q.Get("code_challenge") != challenge || q.Get("code_challenge_method") != "S256" || q.Get("consentId") != cc.ConsentID {
		t.Fatalf("created = %+v", cc)
	}

	back := e.browse(cc.SCAHref, "approve")
	if back.Get("state") != state {
		t.Fatalf("state came back as %q", back.Get("state"))
	}
	tok, err := e.client.ExchangeCode(ctx, back.Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !tok.Expiry.Equal(start.Add(time.Hour)) || tok.Scope == "" {
		t.Fatalf("token = %+v", tok)
	}

	consent, err := e.client.ConsentProducts(ctx, cc.ConsentID, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if consent.ConsentID != cc.ConsentID || !consent.Recurring || consent.FrequencyPerDay != 20 || consent.ValidationDate.Format("2006-01-02") != "2025-12-01" ||
		len(consent.Products) != 6 || strings.Join(consent.ProductIDs(), ",") != "7001000101,7001000102,7001000103" {
		t.Fatalf("consent = %+v", consent)
	}
	read, err := e.client.ReadConsent(ctx, cc.ConsentID, tok.AccessToken)
	if err != nil || len(read.Products) != 6 || !read.Products[0].Flag {
		t.Fatalf("read = %+v, %v", read, err)
	}
	statuses, err := e.client.ConsentStatus(ctx, cc.ConsentID)
	if err != nil || len(statuses) != 2 || statuses[1].AuthorityID != garanti.AuthorityTransactionInfo || statuses[1].Mapped() != garanti.StatusActive {
		t.Fatalf("status = %+v, %v", statuses, err)
	}

	res, err := e.client.HGSTransactions(ctx, cc.ConsentID, tok.AccessToken, garanti.TxnQuery{ProductID: "7001000101",
		Start: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Product
	if p.ProductID != "7001000101" || p.Plate != "34 ABC 123" || p.VehicleClassID != "1" || p.AccountNum != "6298123" || p.CardNumber != "" ||
		p.MobilePhone != "905321234567" || p.StatusText != "AKTIF" || !p.AutoPaymentAmount.Equal(dec("500")) {
		t.Fatalf("product = %+v", p)
	}
	// The client sees exactly the fake's movements of the range.
	var want []garantitest.Transaction
	from, to := time.Date(2025, 5, 1, 0, 0, 0, 0, istanbul), time.Date(2025, 6, 17, 0, 0, 0, 0, istanbul)
	for _, tx := range e.fake.Transactions("7001000101") {
		if !tx.EntranceTS.Before(from) && tx.EntranceTS.Before(to) {
			want = append(want, tx)
		}
	}
	if len(res.Transactions) != len(want) || len(want) < 20 {
		t.Fatalf("%d transactions, fake has %d", len(res.Transactions), len(want))
	}
	keys := map[string]bool{}
	for i, got := range res.Transactions {
		w := want[i]
		if !got.Amount.Equal(w.Amount) || got.DebitCredit != w.DebitCreditInd || !got.EntranceTS.Equal(w.EntranceTS) ||
			!got.DepartureTS.Equal(w.DepartureTS) || got.EntranceMotorway != w.EntranceMotorway || got.Explanation != w.Explanation {
			t.Fatalf("transaction %d = %+v, want %+v", i, got, w)
		}
		keys[got.Key()] = true
	}
	if len(keys) != len(want) {
		t.Fatalf("%d distinct keys for %d transactions", len(keys), len(want))
	}

	st, err := e.client.DeleteConsent(ctx, cc.ConsentID, tok.AccessToken, []garanti.DeleteItem{{ProductID: "7001000101"}})
	if err != nil || st != "A" {
		t.Fatalf("delete product: %q %v", st, err)
	}
	_, err = e.client.HGSTransactions(ctx, cc.ConsentID, tok.AccessToken, garanti.TxnQuery{ProductID: "7001000101", Start: start, End: start})
	if !garanti.IsCode(err, "E052") || !strings.HasPrefix(err.Error(), "garanti: hgs transactions: 400 Bad Request: E052 Customer has no consent") {
		t.Fatalf("after product delete: %v", err)
	}
	if st, err = e.client.DeleteConsent(ctx, cc.ConsentID, tok.AccessToken, nil); err != nil || st != "I" {
		t.Fatalf("delete all: %q %v", st, err)
	}
	statuses, _ = e.client.ConsentStatus(ctx, cc.ConsentID)
	if statuses[0].Mapped() != garanti.StatusRevoked {
		t.Fatalf("status after delete = %+v", statuses)
	}

	// What the bank received, call by call.
	reqs := e.requests()
	wantPaths := []string{"/auth/oauth/v2/token", garanti.ConsentsPath, garantitest.AuthorizePath, garantitest.LoginPath, garantitest.ApprovePath,
		garanti.GetTokenPath, garanti.ConsentProductsPath, garanti.ConsentReadPath, garanti.ConsentStatusPath, garanti.TxnListPath,
		garanti.ConsentDeletePath, garanti.TxnListPath, garanti.ConsentDeletePath, garanti.ConsentStatusPath}
	if len(reqs) != len(wantPaths) {
		t.Fatalf("%d requests, want %d", len(reqs), len(wantPaths))
	}
	for i, r := range reqs {
		if r.path != wantPaths[i] {
			t.Fatalf("request %d went to %s, want %s", i, r.path, wantPaths[i])
		}
		if strings.HasPrefix(r.path, "/oauth/") {
			continue // the browser
		}
		if _, err := uuid.Parse(r.header.Get("X-Request-ID")); err != nil {
			t.Errorf("%s: X-Request-ID %q", r.path, r.header.Get("X-Request-ID"))
		}
		consentCall := strings.HasPrefix(r.path, "/cc/") || r.path == garanti.TxnListPath
		want := map[string]string{}
		if consentCall {
			want = map[string]string{"Client-ID": e.app.ClientID, "Client-Secret": e.app.ClientSecret, "Client-ID-Portal": "portal-42"}
			want["Consent-ID"] = cc.ConsentID
		}
		switch {
		case r.path == garanti.ConsentsPath && r.method == "POST":
			want["TPP-ID"], want["TPP-Name"], want["TPP-Redirect-URI"] = e.app.ClientID, "Kasa", redirectURI
			delete(want, "Consent-ID")
			if !strings.HasPrefix(r.header.Get("Authorization"), "Bearer ") || r.header.Get("Authorization") == "Bearer "+tok.AccessToken {
				t.Errorf("create consent Authorization %q", r.header.Get("Authorization"))
			}
		case r.path == garanti.ConsentStatusPath:
			if r.header.Get("Authorization") != "" {
				t.Errorf("status call sent Authorization")
			}
		case consentCall:
			want["Authorization"] = "Bearer " + tok.AccessToken
		case r.path == "/auth/oauth/v2/token":
			want["Content-Type"] = "application/x-www-form-urlencoded"
		case r.path == garanti.GetTokenPath:
			want["Content-Type"] = "application/json"
		}
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("request %d %s %s: %s = %q, want %q", i, r.method, r.path, k, got, v)
			}
		}
	}

	// What the call log recorded.
	calls := e.recorded()
	wantOps := []string{"client_token", "create_consent", "exchange_code", "consent_products", "read_consent", "consent_status",
		"hgs_transactions", "delete_consent", "hgs_transactions", "delete_consent", "consent_status"}
	if len(calls) != len(wantOps) {
		t.Fatalf("%d calls recorded, want %d: %+v", len(calls), len(wantOps), calls)
	}
	for i, c := range calls {
		wantCode := ""
		if i == 8 {
			wantCode = "E052"
		}
		if c.Provider != "garanti" || c.Operation != wantOps[i] || c.ErrorCode != wantCode || c.RequestID == "" {
			t.Errorf("call %d = %+v, want %s %q", i, c, wantOps[i], wantCode)
		}
	}
	if calls[8].Status != 400 || calls[7].Status != 200 {
		t.Errorf("statuses %d %d", calls[8].Status, calls[7].Status)
	}
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, tok := e.connect(validRequest())
	e.clk.Advance(time.Hour)
	_, err := e.client.ReadConsent(ctx, id, tok.AccessToken)
	if !garanti.IsUnauthorized(err) || garanti.IsRetryable(err) {
		t.Fatalf("expired token: %v", err)
	}
	fresh, err := e.client.Refresh(ctx, tok.RefreshToken)
	if err != nil || fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken || !fresh.Expiry.Equal(e.clk.Now().Add(time.Hour)) {
		t.Fatalf("refresh = %+v, %v", fresh, err)
	}
	if _, err := e.client.ReadConsent(ctx, id, fresh.AccessToken); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Refresh(ctx, tok.RefreshToken)
	if !garanti.IsCode(err, "invalid_grant") || !strings.HasPrefix(err.Error(), "garanti: refresh token: ") || strings.Contains(err.Error(), tok.RefreshToken) {
		t.Fatalf("old refresh token: %v", err)
	}
	if calls := e.recorded(); calls[len(calls)-1].Operation != "refresh_token" || calls[len(calls)-1].ErrorCode != "invalid_grant" {
		t.Fatalf("last call = %+v", calls[len(calls)-1])
	}
}

func TestDeclinedConsent(t *testing.T) {
	e := newEnv(t)
	cc, err := e.client.CreateConsent(context.Background(), validRequest(), "s-9", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cc.SCAHref, "code_challenge") {
		t.Fatalf("challenge added without one: %s", cc.SCAHref)
	}
	q := e.browse(cc.SCAHref, "decline")
	if q.Get("error") != "access_denied" || q.Get("state") != "s-9" {
		t.Fatalf("decline = %v", q)
	}
	st, err := e.client.ConsentStatus(context.Background(), cc.ConsentID)
	if err != nil || st[0].Mapped() != garanti.StatusRejected {
		t.Fatalf("status = %+v %v", st, err)
	}
	var ge *garanti.Error
	_, err = e.client.ExchangeCode(context.Background(), "made-up", "")
	if !errors.As(err, &ge) || ge.Status != 400 || ge.Code != "invalid_grant" || ge.RequestID == "" {
		t.Fatalf("exchange of a made-up code: %#v", err)
	}
}
