// Package connect turns the provider settings an admin stored into API
// clients, so that handlers and jobs reach a provider the same way and pick
// up changed settings at once. In sandbox mode the same settings point at
// the local fakes; connect cannot tell.
package connect

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"kasa/providers/finrota"
	"kasa/providers/garanti"
	"kasa/providers/vakifbank"
	"kasa/store"
)

// ErrNotConfigured means the provider's base URL or credentials are missing.
var ErrNotConfigured = errors.New("connect: provider not configured")

// Connector builds provider clients.
type Connector struct {
	store     *store.Store
	http      *http.Client
	publicURL string
}

// New returns a Connector. hc carries the recording transport; publicURL
// is the product's external base URL.
func New(st *store.Store, hc *http.Client, publicURL string) *Connector {
	return &Connector{store: st, http: hc, publicURL: publicURL}
}

// GarantiRedirectURI is where the bank sends the browser back.
func (c *Connector) GarantiRedirectURI() string { return c.publicURL + "/oauth/garanti/callback" }

// Finrota returns a Finrota client from the current settings.
func (c *Connector) Finrota(ctx context.Context) (*finrota.Client, error) {
	s, err := c.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	base, creds := s["finrota.base_url"], finrota.Credentials{APIKey: s["finrota.api_key"], SecretKey: s["finrota.secret_key"]}
	if base == "" || creds.APIKey == "" || creds.SecretKey == "" {
		return nil, fmt.Errorf("finrota: %w", ErrNotConfigured)
	}
	return finrota.New(base, c.http, creds, c.store), nil
}

// Garanti returns a Garanti client from the current settings, and the
// application credentials it uses. Before the application is registered the
// credentials are empty and only Register works.
func (c *Connector) Garanti(ctx context.Context) (*garanti.Client, garanti.AppCredentials, error) {
	s, err := c.store.Settings(ctx)
	if err != nil {
		return nil, garanti.AppCredentials{}, err
	}
	base := s["garanti.base_url"]
	if base == "" {
		return nil, garanti.AppCredentials{}, fmt.Errorf("garanti: %w", ErrNotConfigured)
	}
	app := garanti.AppCredentials{
		ClientID:       s["garanti.client_id"],
		ClientSecret:   s["garanti.client_secret"],
		ClientIDPortal: s["garanti.client_id_portal"],
		TPPID:          s["garanti.tpp_id"],
		TPPName:        s["garanti.tpp_name"],
		RedirectURI:    c.GarantiRedirectURI(),
	}
	return garanti.New(base, c.http, app), app, nil
}

// VakifBank returns a VakıfBank client from the current settings.
func (c *Connector) VakifBank(ctx context.Context) (*vakifbank.Client, error) {
	s, err := c.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	base := s["vakifbank.base_url"]
	creds := vakifbank.Credentials{
		ClientID: s["vakifbank.client_id"], ClientSecret: s["vakifbank.client_secret"],
		ConsentID: s["vakifbank.consent_id"], Resource: s["vakifbank.resource"],
	}
	if creds.Resource == "" {
		creds.Resource = "production"
	}
	if base == "" || creds.ClientID == "" || creds.ClientSecret == "" || creds.ConsentID == "" {
		return nil, fmt.Errorf("vakifbank: %w", ErrNotConfigured)
	}
	return vakifbank.New(base, c.http, creds, c.store), nil
}
