package hgs_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"kasa/connect"
	"kasa/consents"
	"kasa/hgs"
	"kasa/providers/garanti"
	"kasa/queue"
	"kasa/sandbox"
	"kasa/store"
	"kasa/store/storetest"
	"kasa/tz"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// services returns the consent and HGS areas over st and conn, on the
// real clock, inserting jobs without working them.
func services(t *testing.T, st *store.Store, conn *connect.Connector) (*consents.Service, *hgs.Service) {
	t.Helper()
	ins, err := queue.NewInserter(st.DB().DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := consents.New(consents.Deps{Store: st, Jobs: ins, Conn: conn, Now: time.Now})
	return cs, hgs.New(hgs.Deps{Store: st, Jobs: ins, Consents: cs, Now: time.Now})
}

func TestPlanCalls(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Time {
		t, _ := time.Parse("2006-01-02", s)
		return tz.Day(t.Add(12 * time.Hour))
	}
	p := func(s string) *time.Time { v := d(s); return &v }
	type win struct{ from, to string }
	cases := []struct {
		name              string
		from, to          *time.Time
		begin, end, today string
		want              []win
	}{
		{"fresh, one year", nil, nil, "2025-06-16", "2026-06-16", "2026-06-16", []win{{"2025-06-16", "2026-06-16"}}},
		{"fresh, range ends in the future", nil, nil, "2025-09-01", "2026-08-31", "2026-06-16", []win{{"2025-09-01", "2026-06-16"}}},
		{"fresh, more than a year: newest first", nil, nil, "2024-01-01", "2026-06-16", "2026-06-16",
			[]win{{"2025-06-16", "2026-06-16"}, {"2024-06-15", "2025-06-15"}, {"2024-01-01", "2024-06-14"}}},
		{"up to date today: today again", p("2025-06-16"), p("2026-06-16"), "2025-06-16", "2026-06-16", "2026-06-16",
			[]win{{"2026-06-16", "2026-06-16"}}},
		{"a week behind", p("2025-06-16"), p("2026-06-09"), "2025-06-16", "2026-06-16", "2026-06-16",
			[]win{{"2026-06-09", "2026-06-16"}}},
		{"history missing", p("2026-01-01"), p("2026-06-16"), "2025-06-16", "2026-06-16", "2026-06-16",
			[]win{{"2026-06-16", "2026-06-16"}, {"2025-06-16", "2025-12-31"}}},
		{"range over and fetched", p("2025-01-01"), p("2025-06-30"), "2025-01-01", "2025-06-30", "2026-06-16", nil},
		{"range not begun", nil, nil, "2026-07-01", "2026-08-01", "2026-06-16", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := hgs.PlanCalls(hgs.Vehicle{ProductID: "p", SyncedFrom: c.from, SyncedTo: c.to}, d(c.begin), d(c.end), d(c.today))
			if len(got) != len(c.want) {
				t.Fatalf("got %d calls %+v, want %v", len(got), got, c.want)
			}
			for i, w := range c.want {
				if !got[i].From.Equal(d(w.from)) || !got[i].To.Equal(d(w.to)) || got[i].ProductID != "p" {
					t.Errorf("call %d = %s…%s, want %s…%s", i, got[i].From.Format("2006-01-02"), got[i].To.Format("2006-01-02"), w.from, w.to)
				}
				if got[i].To.After(got[i].From.AddDate(1, 0, 0)) {
					t.Errorf("call %d spans more than a year", i)
				}
			}
		})
	}
}

func TestAccessTokenFlagsOnlyARefusedRefreshToken(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
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
	// The application is registered: its credentials are right.
	clientID, secret, err := cl.Register(ctx, []string{conn.GarantiRedirectURI()}, "Kasa")
	if err != nil {
		t.Fatal(err)
	}
	app := map[string]string{"garanti.client_id": clientID, "garanti.client_secret": secret, "garanti.client_id_portal": clientID,
		"garanti.tpp_id": clientID, "garanti.tpp_name": "Kasa"}
	if err := st.PutSettings(ctx, 0, app); err != nil {
		t.Fatal(err)
	}
	cs := consents.New(consents.Deps{Store: st})
	day := tz.Day(time.Now())
	id, err := cs.Insert(ctx, consents.NewConsent{ConsentID: "00000000-0000-0000-0000-000000000001", RawStatus: "A",
		Status: consents.Active, Recurring: true, ValidationDate: day.AddDate(0, 0, 30), FrequencyPerDay: 3, TranBegin: day.AddDate(-1, 0, 0),
		TranEnd: day, State: "s", Binding: "b", Verifier: "v", StateExpires: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SaveActivation(ctx, id, "A", []consents.Product{{ProductID: "7001000101",
		AuthorityID: garanti.AuthorityTransactionInfo, Flag: true}}); err != nil {
		t.Fatal(err)
	}
	if err := cs.SaveTokens(ctx, id, consents.Token{Access: "old", Refresh: "unknown-to-the-bank", Expiry: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	g, hg := services(t, st, conn)
	client := func() *garanti.Client {
		cl, _, err := conn.Garanti(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	c, _ := cs.Consent(ctx, id)

	// A passing failure of the bank is retried later, the consent untouched.
	sb.Garanti.Faults.FailNext(1, http.StatusServiceUnavailable)
	if _, err := g.AccessToken(ctx, client(), c, "", time.Minute); err == nil || errors.Is(err, consents.ErrReauth) {
		t.Fatalf("503: %v", err)
	}
	if c, _ = cs.Consent(ctx, id); c.NeedsReauth {
		t.Fatal("a 503 marked the consent for re-authorisation")
	}
	// The application's own secret is wrong: an admin's matter, not the
	// customer's. The consent is not flagged; it says what to fix.
	if err := st.PutSettings(ctx, 0, map[string]string{"garanti.client_secret": "wrong"}); err != nil {
		t.Fatal(err)
	}
	_, err = g.AccessToken(ctx, client(), c, "", time.Minute)
	if !errors.Is(err, consents.ErrCredentials) || errors.Is(err, consents.ErrReauth) {
		t.Fatalf("wrong client secret: %v", err)
	}
	if c, _ = cs.Consent(ctx, id); c.NeedsReauth || c.LastErrorCode != "invalid_client" || !c.Usable() {
		t.Fatalf("consent after invalid_client = %+v", c)
	}
	// The sync stops without retrying what cannot work until an admin acts.
	if _, err := hg.Sync(ctx, id, false); err == nil || !errors.Is(err, consents.ErrCredentials) {
		t.Fatalf("sync with wrong credentials: %v", err)
	}
	// With the secret fixed, the bank refuses the refresh token itself: only
	// now must the customer approve again.
	if err := st.PutSettings(ctx, 0, app); err != nil {
		t.Fatal(err)
	}
	if _, err := g.AccessToken(ctx, client(), c, "", time.Minute); !errors.Is(err, consents.ErrReauth) {
		t.Fatalf("refused refresh: %v", err)
	}
	c, _ = cs.Consent(ctx, id)
	if !c.NeedsReauth || c.ReauthReason != "invalid_grant" || c.Usable() {
		t.Fatalf("consent after a refused refresh = %+v", c)
	}
	// The sync leaves such a consent alone rather than failing.
	res, err := hg.Sync(ctx, id, false)
	if err != nil || res.Calls != 0 {
		t.Fatalf("sync of a consent needing reauth: %+v %v", res, err)
	}
}

func TestAccessTokenWithoutTokensIsNotReauth(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
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
	cs := consents.New(consents.Deps{Store: st})
	day := tz.Day(time.Now())
	id, err := cs.Insert(ctx, consents.NewConsent{ConsentID: "00000000-0000-0000-0000-000000000002", RawStatus: "B",
		Status: consents.Awaiting, Recurring: true, ValidationDate: day.AddDate(0, 0, 30), FrequencyPerDay: 3, TranBegin: day.AddDate(-1, 0, 0),
		TranEnd: day, State: "s2", Binding: "b", Verifier: "v", StateExpires: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	cl, _, err := conn.Garanti(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cs.Consent(ctx, id)
	g, _ := services(t, st, conn)
	if _, err := g.AccessToken(ctx, cl, c, "", 0); !errors.Is(err, consents.ErrNoTokens) || errors.Is(err, consents.ErrReauth) {
		t.Fatalf("no tokens: %v", err)
	}
	if c, _ = cs.Consent(ctx, id); c.NeedsReauth {
		t.Fatal("a consent awaiting approval was flagged for re-approval")
	}
}
