package garantitest

import (
	"strings"
	"testing"
)

// In the sandbox the bank's login page says which credentials work; a fake
// serving tests keeps them to itself.
func TestLoginPageShowsTheCredentialsInTheSandboxOnly(t *testing.T) {
	t.Parallel()
	for _, show := range []bool{true, false} {
		e := newEnvWith(t, Options{Seed: true, RandSeed: 7, ShowCredentials: show})
		_, href := e.createOK(consentJSON(nil))
		page := e.do("GET", href, nil, "", "")
		if page.status != 200 {
			t.Fatalf("login page: %d %s", page.status, page.body)
		}
		body := string(page.body)
		has := strings.Contains(body, `data-testid="sandbox-credentials"`)
		for _, v := range []string{SandboxCustomerNo, SandboxPassword, SandboxOTP} {
			if has && !strings.Contains(body, "<code>"+v+"</code>") {
				t.Errorf("the credentials box lacks %s", v)
			}
		}
		if has != show {
			t.Errorf("ShowCredentials=%v: credentials shown = %v\n%s", show, has, body)
		}
	}
}
