package garantitest

import (
	"net/url"
	"testing"
)

// TestRefreshNeedsTheTokenUnderOneOfItsNames: the seed's table calls the
// refresh token "Token" and its sample sends it as "code"; OAuth names it
// refresh_token. The fake takes either (or both) and refuses a refresh that
// carries neither.
func TestRefreshNeedsTheTokenUnderOneOfItsNames(t *testing.T) {
	e := newEnv(t)
	_, _, refresh := e.active(consentJSON(nil))
	refreshWith := func(extra url.Values) reply {
		v := url.Values{"grant_type": {"refresh_token"}, "client_id": {e.clientID}, "client_secret": {e.secret}}
		for k, vs := range extra {
			v[k] = vs
		}
		return e.form("/cards/service/refreshtoken/v0", v)
	}
	r := refreshWith(nil)
	wantCode(t, r, 400, "invalid_request")
	if m := r.json(t); m["error_description"] == "" {
		t.Fatalf("refusal without a reason: %s", r.body)
	}
	r = refreshWith(url.Values{"refresh_token": {refresh}, "code": {refresh}})
	if r.status != 200 {
		t.Fatalf("refresh under both names: %d %s", r.status, r.body)
	}
	next := r.json(t)["refresh_token"].(string)
	if r := refreshWith(url.Values{"code": {next}}); r.status != 200 {
		t.Fatalf("refresh as code: %d %s", r.status, r.body)
	}
}

// TestAnswersAsTheSeedLists: a created consent is answered 200 (the seed's
// only success code), and the client-credentials token answer carries every
// field the seed lists: access_token, refresh_token, expires_in, scope.
func TestAnswersAsTheSeedLists(t *testing.T) {
	e := newEnv(t)
	r := e.form("/auth/oauth/v2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.clientID},
		"client_secret": {e.secret}, "redirect_uri": {redirectURI}})
	m := r.json(t)
	for _, k := range []string{"access_token", "refresh_token", "expires_in", "scope"} {
		if v, ok := m[k]; !ok || v == "" {
			t.Errorf("client token answer lacks %s: %s", k, r.body)
		}
	}
	if m["refresh_token"] == m["access_token"] {
		t.Errorf("refresh_token equals access_token: %s", r.body)
	}
	// The refresh token buys one more single-use token, once.
	refreshWith := func(tok string) reply {
		return e.form("/cards/service/refreshtoken/v0", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok},
			"client_id": {e.clientID}, "client_secret": {e.secret}})
	}
	r = refreshWith(m["refresh_token"].(string))
	if r.status != 200 {
		t.Fatalf("client token refresh: %d %s", r.status, r.body)
	}
	fresh := r.json(t)["access_token"].(string)
	if r := e.do("POST", ConsentsPath, e.createHeaders(fresh), consentJSON(nil), "application/json"); r.status != 200 {
		t.Fatalf("create with the refreshed token: %d %s", r.status, r.body)
	}
	wantCode(t, refreshWith(m["refresh_token"].(string)), 400, "invalid_grant")
	if r := e.create(consentJSON(nil)); r.status != 200 || r.header.Get("Location") == "" || r.header.Get("ASPSP-SCA-Approach") != "REDIRECT" {
		t.Fatalf("create consent: %d %v %s", r.status, r.header, r.body)
	}
}
