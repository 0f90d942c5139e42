package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"kasa/providers/finrota/finrotatest"
	"kasa/providers/garanti/garantitest"
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
	// Moved lists the fakes that could not have their stable port because
	// it was taken, and listen on a random one instead, for the log.
	Moved     []string
	servers   []*http.Server
	listeners []net.Listener
}

// Options configure StartFakes and Start.
type Options struct {
	// BasePort is the first of three consecutive loopback ports for the
	// fakes: Finrota on BasePort, Garanti BBVA on BasePort+1, VakıfBank on
	// BasePort+2. Stable ports keep the fakes' pages (fault switches, the
	// bank's login page) bookmarkable across restarts. 0 picks random ports.
	BasePort int
}

// Link is a fake's own page, for the sandbox banner; the banner shows the
// catalogue's "sandbox.link.<Key>" text, Label is for logs.
type Link struct{ Key, Label, URL string }

// StartFakes starts the three fakes with their seeded data, without
// pointing the product at them (Start does both). The fake bank's login
// page shows its test credentials, since only a person trying the sandbox
// sees it.
func StartFakes(opts Options) (*Sandbox, error) {
	s := &Sandbox{
		Finrota:   finrotatest.New(finrotatest.Options{Seed: true}),
		Garanti:   garantitest.New(garantitest.Options{Seed: true, ShowCredentials: true}),
		VakifBank: vakifbanktest.New(vakifbanktest.Options{Seed: true}),
	}
	port := func(i int) int {
		if opts.BasePort <= 0 {
			return 0
		}
		return opts.BasePort + i
	}
	var err error
	if s.FinrotaURL, err = s.serve("Finrota", s.Finrota, port(0)); err != nil {
		return nil, err
	}
	if s.GarantiURL, err = s.serve("Garanti BBVA", s.Garanti, port(1)); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if s.VakifBankURL, err = s.serve("VakıfBank", s.VakifBank, port(2)); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// serve serves h on 127.0.0.1:port, or on a random port when port is 0 or
// taken (another program, or a second instance of the product).
func (s *Sandbox) serve(name string, h http.Handler, port int) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil && port != 0 {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			s.Moved = append(s.Moved, fmt.Sprintf("%s: port %d is taken, using %s", name, port, ln.Addr()))
		}
	}
	if err != nil {
		return "", fmt.Errorf("sandbox: listen for %s: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	s.listeners = append(s.listeners, ln)
	go func() {
		// Serve returns http.ErrServerClosed once Close shuts it down; any
		// other end shows in the product as the provider being unreachable,
		// the very fault the fakes exist to let a person see.
		_ = srv.Serve(ln)
	}()
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

// Close stops the fakes. Their ports are free when it returns, so that a
// restart gets them again. The error names what did not stop cleanly.
func (s *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sandbox: shut down: %w", err))
		}
	}
	// Serve may not have taken its listener yet when Shutdown runs; closing
	// it here frees the port now rather than whenever that goroutine runs.
	// One that Serve took is closed already, which is fine.
	for _, ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("sandbox: close listener: %w", err))
		}
	}
	return errors.Join(errs...)
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
