package consents_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"kasa/app"
	"kasa/connect"
	"kasa/consents"
	"kasa/providers/garanti"
	"kasa/providers/garanti/garantitest"
	"kasa/queue"
	"kasa/sandbox"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/tz"
)

// fixture is the product over a test database with the fake bank, its
// application registered and its River workers running.
type fixture struct {
	st  *store.Store
	sb  *sandbox.Sandbox
	cl  *garanti.Client
	app *app.App
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	url := storetest.URL(t)
	st := storetest.Open(t, url)
	sb, err := sandbox.Start(ctx, st, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	conn := connect.New(st, http.DefaultClient, "http://127.0.0.1:9")
	cl, _, err := conn.Garanti(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clientID, secret, err := cl.Register(ctx, []string{conn.GarantiRedirectURI()}, "Kasa")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSettings(ctx, 0, map[string]string{"garanti.client_id": clientID, "garanti.client_secret": secret,
		"garanti.client_id_portal": clientID, "garanti.tpp_id": clientID, "garanti.tpp_name": "Kasa"}); err != nil {
		t.Fatal(err)
	}
	if cl, _, err = conn.Garanti(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Deps{Store: st, Connect: conn, APILogRetention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	work, err := a.Start(ctx, app.WorkOptions{Options: queue.Options{Workers: 2, ListenURL: url, PollInterval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := work.Stop(ctx); err != nil {
			t.Errorf("stop jobs: %v", err)
		}
	})
	return &fixture{st: st, sb: sb, cl: cl, app: a}
}

var requestIDField = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

// approvedAtBank creates a consent at the fake bank, has the customer
// approve it there and exchanges the code: the bank holds it as authorised
// and the tokens are the customer's. It returns the bank's consent id, the
// tokens and the product's record of the consent (awaiting approval).
func (f *fixture) approvedAtBank(t *testing.T) (consents.Consent, garanti.Token) {
	t.Helper()
	ctx := context.Background()
	day := tz.Day(time.Now())
	req := garanti.ConsentRequest{Recurring: true, ValidationDate: day.AddDate(0, 0, 30), FrequencyPerDay: 5,
		TranBeginDate: day.AddDate(-1, 0, 0), TranEndDate: day,
		Authorities: []garanti.Authority{{ID: garanti.AuthorityProductInfo}, {ID: garanti.AuthorityTransactionInfo}}}
	verifier, challenge := garanti.NewPKCE()
	state := garanti.NewState()
	cc, err := f.cl.CreateConsent(ctx, req, state, challenge)
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.app.Consents.Insert(ctx, consents.NewConsent{ConsentID: cc.ConsentID, RawStatus: cc.Status,
		Status: string(garanti.MapStatus(cc.Status)), Recurring: true, ValidationDate: req.ValidationDate, FrequencyPerDay: 5,
		TranBegin: req.TranBeginDate, TranEnd: req.TranEndDate,
		Authorities: []consents.Authority{{ID: garanti.AuthorityProductInfo}, {ID: garanti.AuthorityTransactionInfo}},
		State:       state, Binding: "b", Verifier: verifier, StateExpires: time.Now().Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}

	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	read := func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := resp.Body.Close(); err != nil {
				t.Error(err)
			}
		}()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	_, page := read(hc.Get(cc.SCAHref))
	m := requestIDField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no login form at the bank: %s", page)
	}
	read(hc.PostForm(f.sb.GarantiURL+garantitest.LoginPath, url.Values{"request_id": {m[1]},
		"customer_no": {garantitest.SandboxCustomerNo}, "password": {garantitest.SandboxPassword}, "otp": {garantitest.SandboxOTP}}))
	v := url.Values{"request_id": {m[1]}, "action": {"approve"}, "authority": {garanti.AuthorityProductInfo, garanti.AuthorityTransactionInfo}}
	for _, p := range f.sb.Garanti.Products(garantitest.SandboxCustomerNo) {
		v.Add("product", p.ProductID)
	}
	resp, _ := read(hc.PostForm(f.sb.GarantiURL+garantitest.ApprovePath, v))
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("bank answered %d, redirect %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := f.cl.ExchangeCode(ctx, loc.Query().Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.app.Consents.Consent(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c, tok
}

// run inserts a job and waits until the workers finished it; the test
// fails unless it completed.
func (f *fixture) run(t *testing.T, args river.JobArgs) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := f.app.Jobs.Insert(ctx, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := queue.Wait(ctx, f.app.Jobs, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != rivertype.JobStateCompleted {
		t.Fatalf("job %s ended %s: %v", args.Kind(), j.State, j.Errors)
	}
}

// TestStatusWorkerActivatesAConsentTheBankApproved: the product's record
// says awaiting approval (the return from the bank was lost after the
// consent became active there); the status worker reads the bank's status
// and the consent becomes active, each authority with it.
func TestStatusWorkerActivatesAConsentTheBankApproved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c, tok := f.approvedAtBank(t)
	if c.Status != consents.Awaiting {
		t.Fatalf("consent before = %+v", c)
	}
	// The product list call makes the consent active at the bank.
	if _, err := f.cl.ConsentProducts(ctx, c.ConsentID, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	f.run(t, consents.StatusArgs{})
	got, err := f.app.Consents.Consent(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != consents.Active || got.RawStatus != "A" || got.StatusCheckedAt == nil || len(got.AuthorityStatus) != 2 {
		t.Fatalf("consent after the status worker = %+v", got)
	}
	for _, a := range got.AuthorityStatus {
		if a.Status != consents.Active {
			t.Errorf("authority %+v", a)
		}
	}
}

// TestActivateRecordsTheGrantsAndStartsTheSync: a consent whose tokens
// were obtained but whose product list call failed is activated on a
// retry: what was granted is recorded, its tags become vehicles, and the
// first sync of them is queued through the hgs area.
func TestActivateRecordsTheGrantsAndStartsTheSync(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c, tok := f.approvedAtBank(t)
	if err := f.app.Consents.SaveTokens(ctx, c.ID, consents.Token{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry}); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Consents.Activate(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := f.app.Consents.Consent(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != consents.Active || got.ActivatedAt == nil || !got.Usable() {
		t.Fatalf("consent after activation = %+v", got)
	}
	vs, err := f.app.HGS.Vehicles(ctx, c.ID)
	if err != nil || len(vs) != len(f.sb.Garanti.Products(garantitest.SandboxCustomerNo)) {
		t.Fatalf("vehicles %+v, %v", vs, err)
	}
	var syncs int
	if err := f.st.DB().Get(&syncs, `SELECT count(*) FROM river_job WHERE kind = 'garanti.hgs_sync'
		AND (args->>'consent_id')::bigint = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if syncs != 1 {
		t.Fatalf("%d syncs queued for the new consent, want 1", syncs)
	}
}

// TestTokenWorkerRenewsATokenNearExpiry: an active consent's access token
// that expires within the renewal margin is renewed by the worker with the
// refresh token; the new pair is stored encrypted, never as plain text.
func TestTokenWorkerRenewsATokenNearExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c, tok := f.approvedAtBank(t)
	if _, err := f.cl.ConsentProducts(ctx, c.ConsentID, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Consents.SaveActivation(ctx, c.ID, "A", nil); err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(5 * time.Minute)
	if err := f.app.Consents.SaveTokens(ctx, c.ID, consents.Token{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: soon}); err != nil {
		t.Fatal(err)
	}
	f.run(t, consents.TokensArgs{})
	got, err := f.app.Consents.Tokens(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Access == "" || got.Access == tok.AccessToken || !got.Expiry.After(soon.Add(30*time.Minute)) {
		t.Fatalf("token after the worker: expiry %s, renewed %v", got.Expiry, got.Access != tok.AccessToken)
	}
	var accessEnc, refreshEnc []byte
	if err := f.st.DB().QueryRow(`SELECT access_enc, refresh_enc FROM garanti_tokens WHERE consent_id = $1`, c.ID).Scan(&accessEnc, &refreshEnc); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(accessEnc, []byte(got.Access)) || bytes.Contains(refreshEnc, []byte(got.Refresh)) {
		t.Fatal("the renewed tokens are stored in plain text")
	}
	// The renewed token works at the bank.
	if _, err := f.cl.ReadConsent(ctx, c.ConsentID, got.Access); err != nil {
		t.Fatalf("renewed token refused: %v", err)
	}
	// A token far from expiry is left alone.
	f.run(t, consents.TokensArgs{})
	again, err := f.app.Consents.Tokens(ctx, c.ID)
	if err != nil || again.Access != got.Access {
		t.Fatalf("a fresh token was renewed again: %v", err)
	}
}
