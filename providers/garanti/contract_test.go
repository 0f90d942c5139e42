package garanti_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kasa/providers/garanti"
)

// TestRefreshSendsTheTokenUnderBothNames: the seed's table calls the refresh
// token "Token" and its sample sends it as "code"; OAuth calls it
// refresh_token. The client sends it under both, so either reading of the
// document works at the bank.
func TestRefreshSendsTheTokenUnderBothNames(t *testing.T) {
	e := newEnv(t)
	_, tok := e.connect(validRequest())
	e.reset()
	if _, err := e.client.Refresh(context.Background(), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	reqs := e.requests()
	if len(reqs) != 1 || reqs[0].path != garanti.RefreshTokenPath {
		t.Fatalf("requests = %+v", reqs)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[0].body, &body); err != nil {
		t.Fatalf("refresh body is not JSON: %s", reqs[0].body)
	}
	if body["refresh_token"] != tok.RefreshToken || body["code"] != tok.RefreshToken || body["grant_type"] != "refresh_token" {
		t.Fatalf("refresh body = %s", reqs[0].body)
	}
}

// TestCreateConsentAcceptsOKAndCreated: the seed lists 200 for success and
// the fake answers so; a gateway answering 201 Created is just as good.
func TestCreateConsentAcceptsOKAndCreated(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusCreated} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newEnv(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && r.URL.Path == garanti.ConsentsPath {
					w = statusAs{w, status}
				}
				e.srv.Config.Handler.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			cl := garanti.New(srv.URL, e.hc, e.app)
			cc, err := cl.CreateConsent(context.Background(), validRequest(), "st", "")
			if err != nil || cc.ConsentID == "" || cc.SCAHref == "" {
				t.Fatalf("create consent answered %d: %+v, %v", status, cc, err)
			}
			if calls := e.recorded(); calls[len(calls)-1].Status != status {
				t.Fatalf("recorded %+v, want status %d", calls[len(calls)-1], status)
			}
		})
	}
}

// statusAs answers a success with status instead.
type statusAs struct {
	http.ResponseWriter
	status int
}

func (s statusAs) WriteHeader(code int) {
	if code >= 200 && code <= 299 {
		code = s.status
	}
	s.ResponseWriter.WriteHeader(code)
}

// TestAppCredentialLimitsAgreeWithTheBank: ValidateAppCredentials refuses
// exactly what the bank refuses with E014–E017, counting characters (a
// Turkish company name has letters of two bytes).
func TestAppCredentialLimitsAgreeWithTheBank(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		field string
		set   func(*garanti.AppCredentials, string)
		unit  string
	}{
		{"ClientIDPortal", func(a *garanti.AppCredentials, v string) { a.ClientIDPortal = v }, "p"},
		{"TPPID", func(a *garanti.AppCredentials, v string) { a.TPPID = v }, "t"},
		{"TPPName", func(a *garanti.AppCredentials, v string) { a.TPPName = v }, "Ş"},
		{"ClientID", func(a *garanti.AppCredentials, v string) { a.ClientID = v }, "c"},
	} {
		limit := garanti.AppFieldLimits[c.field]
		for _, n := range []int{limit.Max, limit.Max + 1} {
			app := e.app
			c.set(&app, strings.Repeat(c.unit, n))
			errs := garanti.ValidateAppCredentials(app)
			var err error
			if c.field == "ClientID" {
				// A Client-ID the bank never issued fails at the token
				// endpoint; the status call checks the header first.
				_, err = e.newClient(app).ConsentStatus(ctx, strings.Repeat("0", 36))
			} else {
				_, err = e.newClient(app).CreateConsent(ctx, validRequest(), "st", "")
			}
			switch {
			case n > limit.Max:
				if len(errs) != 1 || errs[0].Field != c.field || errs[0].Code != limit.Code || !garanti.IsCode(err, limit.Code) {
					t.Errorf("%s of %d: validation %+v, bank %v; want %s from both", c.field, n, errs, err, limit.Code)
				}
			case c.field == "ClientID":
				if len(errs) != 0 || garanti.IsCode(err, limit.Code) {
					t.Errorf("%s of %d: validation %+v, bank %v; want both to take it", c.field, n, errs, err)
				}
			case len(errs) != 0 || err != nil:
				t.Errorf("%s of %d: validation %+v, bank %v; want both to take it", c.field, n, errs, err)
			}
		}
	}
}
