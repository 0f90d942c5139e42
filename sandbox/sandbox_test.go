package sandbox

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"kasa/connect"
	"kasa/debts"
	"kasa/providers/finrota/finrotatest"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
	"kasa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func start(t *testing.T, st *store.Store) *Sandbox {
	t.Helper()
	sb, err := Start(context.Background(), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	return sb
}

// TestStartPointsTheSettingsAtTheFakes: after Start, the ordinary provider
// settings name the fakes, and clients built from settings alone reach them.
func TestStartPointsTheSettingsAtTheFakes(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	sb := start(t, st)
	s, err := st.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"finrota.base_url": sb.FinrotaURL, "finrota.api_key": finrotatest.SandboxAPIKey, "finrota.secret_key": finrotatest.SandboxSecretKey,
		"garanti.base_url": sb.GarantiURL, "vakifbank.base_url": sb.VakifBankURL, "vakifbank.client_id": vakifbanktest.SandboxClientID,
		"vakifbank.client_secret": vakifbanktest.SandboxClientSecret, "vakifbank.consent_id": vakifbanktest.SandboxConsentID,
		"vakifbank.resource": vakifbanktest.SandboxResource,
	} {
		if s[k] != want {
			t.Errorf("%s = %q, want %q", k, s[k], want)
		}
	}
	// Secrets are stored encrypted, as the Settings page stores them.
	var raw []byte
	if err := st.DB().Get(&raw, `SELECT value_enc FROM settings WHERE key = 'finrota.secret_key'`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), finrotatest.SandboxSecretKey) {
		t.Error("the Finrota secret is stored in clear")
	}
	if !strings.Contains(s[KnownAccountsKey], vakifbanktest.SandboxAccountTRY+" (TL)") || strings.Contains(s[KnownAccountsKey], vakifbanktest.OtherAccount) {
		t.Errorf("known accounts %q", s[KnownAccountsKey])
	}

	conn := connect.New(st, http.DefaultClient, "http://kasa.test")
	fc, err := conn.Finrota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pg, err := fc.List(ctx, 1, 10); err != nil || len(pg.Items) == 0 || pg.TotalCount == 0 {
		t.Fatalf("Finrota through the settings: %d items of %d, %v", len(pg.Items), pg.TotalCount, err)
	}
	vc, err := conn.VakifBank(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Transactions(ctx, vakifbanktest.SandboxAccountTRY, time.Now().Add(-24*time.Hour), time.Now()); err != nil {
		t.Fatalf("VakıfBank through the settings: %v", err)
	}
}

// TestStartSeedsTheFormChoices: the fake portal's agents, current accounts
// and currencies are in the reference table before any sync, as an
// authoritative list with names and activity.
func TestStartSeedsTheFormChoices(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	sb := start(t, st)
	agents, err := debts.New(debts.Deps{Store: st}).DebtRefs(ctx, debts.RefAgent)
	if err != nil {
		t.Fatal(err)
	}
	want := sb.Finrota.Agents()
	if len(agents) != len(want) || len(want) == 0 {
		t.Fatalf("%d agents, the fake has %d", len(agents), len(want))
	}
	byCode := map[string]debts.DebtRef{}
	for _, a := range agents {
		byCode[a.Code] = a
	}
	for _, a := range want {
		if got := byCode[a.Code]; !got.Listed() || got.Name != a.Name || got.Active != a.Active {
			t.Errorf("agent %s: %+v, fake %+v", a.Code, got, a)
		}
	}
	for kind, n := range map[string]int{debts.RefAccount: len(sb.Finrota.CurrentAccounts()), debts.RefCurrency: len(sb.Finrota.Currencies())} {
		refs, err := debts.New(debts.Deps{Store: st}).DebtRefs(ctx, kind)
		if err != nil || len(refs) != n || n == 0 {
			t.Errorf("%s: %d refs (%v), the fake has %d", kind, len(refs), err, n)
		}
	}
}

// TestRestartKeepsTheRegistrationAndOwnsItsSettings: a second start over
// the same database (the product restarted) takes its own settings back,
// and its fake bank knows the Garanti client the product registered.
func TestRestartKeepsTheRegistrationAndOwnsItsSettings(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	first := start(t, st)
	conn := connect.New(st, http.DefaultClient, "http://kasa.test")
	gc, _, err := conn.Garanti(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := gc.Register(ctx, []string{conn.GarantiRedirectURI()}, "Kasa A.Ş.")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSettings(ctx, 0, map[string]string{"garanti.client_id": id, "garanti.client_secret": secret,
		"garanti.company_name": "Kasa A.Ş.", "garanti.registered_redirect_uri": conn.GarantiRedirectURI()}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Settings(ctx)
	if RealProviders(s) {
		t.Fatal("the sandbox's own settings count as a real provider")
	}
	again := start(t, st)
	regs := again.Garanti.Registrations()
	if len(regs) != 1 || regs[0].ClientID != id || regs[0].ClientSecret != secret ||
		len(regs[0].RedirectURIs) != 1 || regs[0].RedirectURIs[0] != conn.GarantiRedirectURI() {
		t.Fatalf("the restarted bank knows %+v", regs)
	}
}

// TestStartLeavesARealProviderAlone: settings an admin gave a real
// provider are never overwritten; SANDBOX=auto then stays off.
func TestStartLeavesARealProviderAlone(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	real := map[string]string{"vakifbank.base_url": "https://apigw.vakifbank.com.tr:8443", "vakifbank.client_secret": "REAL"}
	if err := st.PutSettings(ctx, 0, real); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Settings(ctx)
	if !RealProviders(s) {
		t.Fatal("a real base URL is not seen")
	}
	if sb, err := Start(ctx, st, Options{}); !errors.Is(err, ErrRealProviders) {
		if sb != nil {
			_ = sb.Close()
		}
		t.Fatalf("start over a real provider: %v", err)
	}
	s, _ = st.Settings(ctx)
	if s["vakifbank.client_secret"] != "REAL" || s["finrota.base_url"] != "" {
		t.Fatalf("settings changed: %v", s)
	}
}
