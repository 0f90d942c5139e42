// Package sandbox runs the product against local fakes of its three
// providers, so that a person can click through every flow without a bank.
// It starts the fakes and points the product at them through the ordinary
// settings and tables — the same provider settings an admin saves on the
// Settings page, the same reference lists a Finrota sync fills — so that
// handlers, areas and workers never learn that they run in sandbox mode and
// sandbox mode exercises exactly the code production runs. Only cmd/web
// (and tests) import it.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"kasa/debts"
	"kasa/providers/finrota/finrotatest"
	"kasa/providers/garanti/garantitest"
	"kasa/providers/vakifbank/vakifbanktest"
	"kasa/store"
)

// KnownAccountsKey is the setting that lists the bank accounts the account
// form suggests ("number (currency)", comma separated). The sandbox fills
// it with the fake bank's test accounts; an admin may fill it too.
const KnownAccountsKey = "vakifbank.known_accounts"

// baseURLsKey records the base URLs the sandbox wrote last, so that a later
// start can tell them from a real provider's.
const baseURLsKey = "sandbox.base_urls"

// baseURLKeys are the provider settings that name where a provider is.
var baseURLKeys = []string{"finrota.base_url", "garanti.base_url", "vakifbank.base_url"}

// ErrRealProviders means a provider's base URL is one an admin set, not
// one the sandbox wrote: starting the sandbox would overwrite that
// provider's settings (its credentials included).
var ErrRealProviders = errors.New("sandbox: a real provider is configured; its settings would be overwritten")

// RealProviders reports whether settings name a provider base URL the
// sandbox did not write: then the product talks to a real provider, and
// SANDBOX=auto leaves sandbox mode off.
func RealProviders(settings map[string]string) bool {
	ours := strings.Fields(settings[baseURLsKey])
	for _, k := range baseURLKeys {
		if v := settings[k]; v != "" && !slices.Contains(ours, v) {
			return true
		}
	}
	return false
}

// Start starts the fakes and points the product at them: it writes the
// provider settings (secrets encrypted as the Settings page does), gives
// the fake bank back the Garanti registration the product stored before a
// restart, and seeds the reference data the forms offer. It refuses, with
// ErrRealProviders, to overwrite a real provider's settings. Close stops
// the fakes.
func Start(ctx context.Context, st *store.Store, opts Options) (*Sandbox, error) {
	current, err := st.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("sandbox: read settings: %w", err)
	}
	if RealProviders(current) {
		return nil, ErrRealProviders
	}
	s, err := StartFakes(opts)
	if err != nil {
		return nil, err
	}
	if err := s.configure(ctx, st, current); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Settings are the provider settings that point the product at the fakes.
func (s *Sandbox) Settings() map[string]string {
	return map[string]string{
		"finrota.base_url":        s.FinrotaURL,
		"finrota.api_key":         finrotatest.SandboxAPIKey,
		"finrota.secret_key":      finrotatest.SandboxSecretKey,
		"garanti.base_url":        s.GarantiURL,
		"vakifbank.base_url":      s.VakifBankURL,
		"vakifbank.client_id":     vakifbanktest.SandboxClientID,
		"vakifbank.client_secret": vakifbanktest.SandboxClientSecret,
		"vakifbank.consent_id":    vakifbanktest.SandboxConsentID,
		"vakifbank.resource":      vakifbanktest.SandboxResource,
		KnownAccountsKey:          strings.Join(s.VakifBankAccounts(), ", "),
	}
}

// configure writes the settings and seeds the tables; current are the
// settings before the start.
func (s *Sandbox) configure(ctx context.Context, st *store.Store, current map[string]string) error {
	values := s.Settings()
	values[baseURLsKey] = strings.Join([]string{s.FinrotaURL, s.GarantiURL, s.VakifBankURL}, " ")
	// Only what differs is written: as on the Settings page, a provider whose
	// settings change (the fakes of an earlier start had other addresses and
	// keys) loses the tokens issued under the old ones, and the change is
	// recorded in the audit trail, by no user.
	changed := map[string]string{}
	for k, v := range values {
		if current[k] != v {
			changed[k] = v
		}
	}
	if err := st.UpdateSettings(ctx, 0, changed); err != nil {
		return fmt.Errorf("sandbox: write settings: %w", err)
	}
	// The real bank keeps an application's registration across the
	// product's restarts; a fresh fake learns the one the product stored.
	company := current["garanti.company_name"]
	if company == "" {
		company = current["garanti.tpp_name"]
	}
	var redirects []string
	if u := current["garanti.registered_redirect_uri"]; u != "" {
		redirects = []string{u}
	}
	s.Garanti.AddRegistration(garantitest.Registration{ClientID: current["garanti.client_id"],
		ClientSecret: current["garanti.client_secret"], CompanyName: company, RedirectURIs: redirects})
	if err := debts.New(debts.Deps{Store: st}).PutDebtRefs(ctx, s.debtRefs()); err != nil {
		return fmt.Errorf("sandbox: seed debt references: %w", err)
	}
	return nil
}

// debtRefs are the fake portal's agents, current accounts and currencies,
// with names and activity: the choices the debt form offers. Finrota's API
// has no endpoint for them, so a real portal's come from the synced debts;
// the fake's list is complete, hence authoritative.
func (s *Sandbox) debtRefs() []debts.DebtRef {
	var refs []debts.DebtRef
	for _, a := range s.Finrota.Agents() {
		refs = append(refs, debts.DebtRef{Kind: debts.RefAgent, Code: a.Code, Name: a.Name, Active: a.Active})
	}
	for _, a := range s.Finrota.CurrentAccounts() {
		refs = append(refs, debts.DebtRef{Kind: debts.RefAccount, Code: a.ErpCode, Name: a.Name, Active: a.Active})
	}
	for _, c := range s.Finrota.Currencies() {
		refs = append(refs, debts.DebtRef{Kind: debts.RefCurrency, Code: c, Active: true})
	}
	return refs
}
