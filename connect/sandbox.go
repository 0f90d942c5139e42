package connect

import (
	"context"
	"net"
	"net/http"
	"time"

	"kasa/providers/finrota"
	"kasa/providers/finrota/finrotatest"
	"kasa/providers/garanti/garantitest"
	"kasa/providers/vakifbank"
	"kasa/providers/vakifbank/vakifbanktest"
)

// Sandbox runs the provider fakes on loopback ports for sandbox mode.
type Sandbox struct {
	Finrota      *finrotatest.Server
	Garanti      *garantitest.Server
	VakifBank    *vakifbanktest.Server
	FinrotaURL   string
	GarantiURL   string
	VakifBankURL string
	servers      []*http.Server
}

// Link is a fake's own page, for the sandbox banner; the banner shows the
// catalogue's "sandbox.link.<Key>" text, Label is for logs.
type Link struct{ Key, Label, URL string }

// StartSandbox starts the three fakes with their seeded data.
func StartSandbox() (*Sandbox, error) {
	s := &Sandbox{
		Finrota:   finrotatest.New(finrotatest.Options{Seed: true}),
		Garanti:   garantitest.New(garantitest.Options{Seed: true}),
		VakifBank: vakifbanktest.New(vakifbanktest.Options{Seed: true}),
	}
	var err error
	if s.FinrotaURL, err = s.serve(s.Finrota); err != nil {
		return nil, err
	}
	if s.GarantiURL, err = s.serve(s.Garanti); err != nil {
		s.Close()
		return nil, err
	}
	if s.VakifBankURL, err = s.serve(s.VakifBank); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// Links lists the fakes' own pages.
func (s *Sandbox) Links() []Link {
	return []Link{
		{"finrota-notifications", "Finrota: notifications", s.FinrotaURL + "/_fake/notifications"},
		{"finrota-faults", "Finrota: faults", s.FinrotaURL + "/_fake/faults"},
		{"garanti-faults", "Garanti: faults", s.GarantiURL + "/_fake/faults"},
		{"vakifbank-faults", "VakıfBank: faults", s.VakifBankURL + "/_fake/faults"},
		{"vakifbank-quirks", "VakıfBank: answer shapes", s.VakifBankURL + "/_fake/quirks"},
	}
}

// Close stops the fakes.
func (s *Sandbox) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		srv.Shutdown(ctx)
	}
}

func (s *Sandbox) finrotaCreds() finrota.Credentials {
	return finrota.Credentials{APIKey: finrotatest.SandboxAPIKey, SecretKey: finrotatest.SandboxSecretKey}
}

func (s *Sandbox) vakifbankCreds() vakifbank.Credentials {
	return vakifbank.Credentials{
		ClientID: vakifbanktest.SandboxClientID, ClientSecret: vakifbanktest.SandboxClientSecret,
		ConsentID: vakifbanktest.SandboxConsentID, Resource: vakifbanktest.SandboxResource,
	}
}

// VakifBankAccounts lists the accounts the fake bank holds for the sandbox
// consent ("number (currency)"), so the account form can name them.
func (s *Sandbox) VakifBankAccounts() []string {
	var out []string
	for _, a := range s.VakifBank.Accounts() {
		if a.Owner == vakifbanktest.SandboxCustomer {
			out = append(out, a.Number+" ("+a.Currency+")")
		}
	}
	return out
}
