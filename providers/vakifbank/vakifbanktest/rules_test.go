package vakifbanktest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kasa/providers/vakifbank/vakifbanktest"
)

func TestTokenGrant(t *testing.T) {
	f := newFixture(t, false)
	status, body := f.postForm(t, sandboxForm())
	if status != http.StatusOK {
		t.Fatalf("status %d, body %v", status, body)
	}
	if body["token_type"] != "Bearer" || body["scope"] != "account" || body["expires_in"].(interface{ String() string }).String() != "3600" {
		t.Errorf("token answer = %v", body)
	}
	if tok, _ := body["access_token"].(string); len(tok) < 32 {
		t.Errorf("access_token %q is too short to be unguessable", tok)
	}

	f.postForm(t, sandboxForm())
	if n := f.fake.TokensIssued(); n != 2 {
		t.Errorf("TokensIssued = %d after two grants", n)
	}
	f.clock.Advance(time.Hour)
	if n := f.fake.TokensIssued(); n != 0 {
		t.Errorf("TokensIssued = %d after an hour", n)
	}

	f.fake.SetQuirks(vakifbanktest.Quirks{ExpiresInString: true})
	_, body = f.postForm(t, sandboxForm())
	if body["expires_in"] != "3600" {
		t.Errorf("with ExpiresInString, expires_in = %#v, want \"3600\"", body["expires_in"])
	}
}

func TestTokenErrors(t *testing.T) {
	f := newFixture(t, false)
	tests := []struct {
		name       string
		key, value string // form field to change; value "" deletes it
		status     int
		code       string
	}{
		{"no grant type", "grant_type", "", 400, "invalid_request"},
		{"client credentials grant", "grant_type", "client_credentials", 400, "unsupported_grant_type"},
		{"wrong client id", "client_id", "someone-else", 401, "invalid_client"},
		{"wrong secret", "client_secret", "guess", 401, "invalid_client"},
		{"no secret", "client_secret", "", 401, "invalid_client"},
		{"wrong scope", "scope", "payment", 400, "invalid_scope"},
		{"no scope", "scope", "", 400, "invalid_scope"},
		{"no consent", "consentId", "", 400, "invalid_request"},
		{"unknown consent", "consentId", "b2b-consent-9999", 400, "invalid_grant"},
		{"unknown resource", "resource", "test", 400, "invalid_request"},
		{"no resource", "resource", "", 400, "invalid_request"},
		{"production on the sandbox", "resource", "production", 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := sandboxForm()
			if tt.value == "" {
				form.Del(tt.key)
			} else {
				form.Set(tt.key, tt.value)
			}
			status, body := f.postForm(t, form)
			if status != tt.status || body["error"] != tt.code {
				t.Errorf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
			if d, _ := body["error_description"].(string); d == "" {
				t.Errorf("no error_description in %v", body)
			}
			if _, leaked := body["access_token"]; leaked {
				t.Errorf("an error answer carries a token: %v", body)
			}
		})
	}

	t.Run("json body", func(t *testing.T) {
		resp, err := http.Post(f.srv.URL+"/auth/oauth/v2/token", "application/json", strings.NewReader(`{"grant_type":"b2b_credentials"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer closeOrFail(t, resp.Body)
		if body := decode(t, resp); resp.StatusCode != 400 || body["error"] != "invalid_request" {
			t.Errorf("got %d %v, want 400 invalid_request", resp.StatusCode, body)
		}
	})
}

func TestBearerToken(t *testing.T) {
	f := newFixture(t, true)
	body := reqBody(vakifbanktest.SandboxAccountTRY, "2026-03-02T00:00:00", "2026-03-02T23:59:59")
	check := func(t *testing.T, token, wantCode string) {
		t.Helper()
		resp, got := f.query(t, token, body)
		if resp.StatusCode != 401 || got["error"] != wantCode {
			t.Errorf("got %d %v, want 401 %s", resp.StatusCode, got, wantCode)
		}
		if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
		}
	}
	t.Run("missing", func(t *testing.T) { check(t, "", "invalid_request") })
	t.Run("unknown", func(t *testing.T) { check(t, "not-a-token", "invalid_token") })

	tok := f.token(t)
	if resp, _ := f.query(t, tok, body); resp.StatusCode != 200 {
		t.Fatalf("fresh token: status %d", resp.StatusCode)
	}
	t.Run("expired", func(t *testing.T) {
		f.clock.Advance(59 * time.Minute)
		if resp, _ := f.query(t, tok, body); resp.StatusCode != 200 {
			t.Fatalf("token one minute before expiry: status %d", resp.StatusCode)
		}
		f.clock.Advance(time.Minute)
		check(t, tok, "invalid_token")
	})
	t.Run("revoked", func(t *testing.T) {
		tok := f.token(t)
		f.fake.RevokeTokens()
		check(t, tok, "invalid_token")
	})
}

func TestTransactionRules(t *testing.T) {
	f := newFixture(t, true)
	tok := f.token(t)
	const try = vakifbanktest.SandboxAccountTRY
	const day = "2026-03-02T00:00:00"
	const dayEnd = "2026-03-02T23:59:59"
	tests := []struct {
		name        string
		body        string
		status      int
		code        string
		wantNonZero bool
	}{
		{"empty account", reqBody("", day, dayEnd), 400, "ACBH000034", false},
		{"blank account", reqBody("   ", day, dayEnd), 400, "ACBH000034", false},
		{"missing account", `{"StartDate":"` + day + `","EndDate":"` + dayEnd + `"}`, 400, "ACBH000034", false},
		{"short account", reqBody("158000000000001", day, dayEnd), 400, "ACBH000035", false},
		{"long account", reqBody("001580000000000010", day, dayEnd), 400, "ACBH000035", false},
		{"letter in account", reqBody("0015800000000000A", day, dayEnd), 400, "ACBH000035", false},
		{"padded account", reqBody(" 00158000000000001", day, dayEnd), 400, "ACBH000035", false},
		{"start date only", reqBody(try, "2026-03-02", dayEnd), 400, "ACBH000025", false},
		{"start Turkish format", reqBody(try, "02.03.2026 00:00:00", dayEnd), 400, "ACBH000025", false},
		{"start fraction", reqBody(try, "2026-03-02T00:00:00.000", dayEnd), 400, "ACBH000025", false},
		{"start month 13", reqBody(try, "2026-13-02T00:00:00", dayEnd), 400, "ACBH000025", false},
		{"start empty", reqBody(try, "", dayEnd), 400, "ACBH000025", false},
		{"start offset without colon", reqBody(try, "2026-03-02T00:00:00+0300", dayEnd), 400, "ACBH000025", false},
		{"both dates bad: start first", reqBody(try, "x", "y"), 400, "ACBH000025", false},
		{"end bad", reqBody(try, day, "2026-03-02 23:59:59"), 400, "ACBH000026", false},
		{"end missing", `{"AccountNumber":"` + try + `","StartDate":"` + day + `"}`, 400, "ACBH000026", false},
		{"end before start", reqBody(try, dayEnd, day), 400, "ACBH000134", false},
		{"one year exactly", reqBody(try, "2025-03-01T00:00:00", "2026-03-01T00:00:00"), 200, "APIGW000000", true},
		{"one year and a second", reqBody(try, "2025-03-01T00:00:00", "2026-03-01T00:00:01"), 400, "ACBH000134", false},
		{"one year across offsets", reqBody(try, "2025-03-01T00:00:00+03:00", "2026-02-28T21:00:00Z"), 200, "APIGW000000", true},
		{"one year across offsets and a second", reqBody(try, "2025-03-01T00:00:00+03:00", "2026-02-28T21:00:01Z"), 400, "ACBH000134", false},
		{"two years", reqBody(try, "2024-03-01T00:00:00", "2026-03-01T00:00:00"), 400, "ACBH000134", false},
		{"from 29 February", reqBody(try, "2024-02-29T00:00:00", "2025-03-01T00:00:00"), 200, "APIGW000000", true},
		{"from 29 February and a second", reqBody(try, "2024-02-29T00:00:00", "2025-03-01T00:00:01"), 400, "ACBH000134", false},
		{"another customer's account", reqBody(vakifbanktest.OtherAccount, day, dayEnd), 403, "ACBH000104", false},
		{"unknown account", reqBody("00158000000000777", day, dayEnd), 403, "ACBH000104", false},
		{"no movements", reqBody(try, "2020-01-01T00:00:00", "2020-12-31T23:59:59"), 404, "ACBH000202", false},
		{"sunday night", reqBody(try, "2026-03-01T22:00:00", "2026-03-01T23:59:59"), 404, "ACBH000202", false},
		{"a weekday", reqBody(try, day, dayEnd), 200, "APIGW000000", true},
	}
	texts := map[string]string{
		"APIGW000000": "Completed",
		"ACBH000025":  "Başlangıç tarihi formatı hatalıdır.",
		"ACBH000026":  "Bitiş tarihi formatı hatalıdır.",
		"ACBH000034":  "Hesap numarası boş olamaz.",
		"ACBH000035":  "Hesap numarası uygun formatta girilmelidir.",
		"ACBH000104":  "İşlem yapmak istediğiniz hesap oturumdaki müşteri numarasına ait değildir.",
		"ACBH000134":  "Tarih aralığı maksimum 1 yıl olmalıdır.",
		"ACBH000202":  "Seçilen tarih aralığında hesap hareketi bulunmamaktadır.",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.query(t, tok, tt.body)
			code, desc := headerOf(t, body)
			if resp.StatusCode != tt.status || code != tt.code {
				t.Fatalf("got %d %s %q, want %d %s", resp.StatusCode, code, desc, tt.status, tt.code)
			}
			if desc != texts[code] {
				t.Errorf("StatusDescription = %q, want %q", desc, texts[code])
			}
			if _, err := uuid.Parse(body["Header"].(map[string]any)["ObjectID"].(string)); err != nil {
				t.Errorf("ObjectID: %v", err)
			}
			if tt.wantNonZero && len(rowsOf(t, body)) == 0 {
				t.Errorf("no movements")
			}
			if code == "ACBH000202" && len(rowsOf(t, body)) != 0 {
				t.Errorf("ACBH000202 with movements")
			}
		})
	}

	t.Run("undecodable body", func(t *testing.T) {
		resp, body := f.query(t, tok, `{"AccountNumber": 158000000000001}`)
		if resp.StatusCode != 400 || body["title"] == nil {
			t.Errorf("got %d %v, want 400 validation problem", resp.StatusCode, body)
		}
	})
	t.Run("request id echoed", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/accountTransactions", strings.NewReader(reqBody(try, day, dayEnd)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Request-ID", "rid-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		closeOrFail(t, resp.Body)
		if got := resp.Header.Get("X-Request-ID"); got != "rid-1" {
			t.Errorf("X-Request-ID = %q", got)
		}
	})
}
