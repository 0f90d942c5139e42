package consents

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"kasa/store"
	"kasa/tz"
)

// The consent pages read what they show with a few plain queries
// each, none of which repeats per row: a page costs the same number of
// statements whatever it lists.

// Use is a consent with the data calls it made on the
// Istanbul day the view was read for.
type Use struct {
	Consent Consent
	Used    int
}

// NextCall is when the next data call under the consent is allowed, given
// the calls it made on now's Istanbul day: now while under frequencyPerDay,
// else the next Istanbul midnight (the rule of Service.NextCall).
func (c Consent) NextCall(used int, now time.Time) time.Time {
	if used < c.FrequencyPerDay {
		return now
	}
	return tz.Day(now).AddDate(0, 0, 1)
}

// Uses lists the consents (with statuses, only those), newest first, each
// with its data calls on now's Istanbul day.
func (s *Service) Uses(ctx context.Context, now time.Time, statuses ...string) ([]Use, error) {
	cs, err := s.Consents(ctx, statuses...)
	if err != nil {
		return nil, err
	}
	var usage []struct {
		ConsentID int64 `db:"consent_id"`
		Calls     int   `db:"calls"`
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	if err := s.store.DB().SelectContext(ctx, &usage, `SELECT consent_id, calls FROM garanti_usage WHERE consent_id = ANY($1) AND day = $2`,
		pq.Array(ids), dateParam(tz.Day(now))); err != nil {
		return nil, fmt.Errorf("consents: garanti usage of the day: %w", err)
	}
	used := make(map[int64]int, len(usage))
	for _, u := range usage {
		used[u.ConsentID] = u.Calls
	}
	out := make([]Use, len(cs))
	for i, c := range cs {
		out[i] = Use{Consent: c, Used: used[c.ID]}
	}
	return out, nil
}

// ListPage is what the consents page shows.
type ListPage struct {
	Consents []Use // newest first
	// Settings are the garanti.* settings, decrypted: whether consents can
	// be created depends on the application's credentials.
	Settings map[string]string
}

// ListView reads the consents page: every consent with its calls on now's
// Istanbul day, and the application's settings.
func (s *Service) ListView(ctx context.Context, now time.Time) (ListPage, error) {
	var p ListPage
	var err error
	if p.Consents, err = s.Uses(ctx, now); err != nil {
		return ListPage{}, fmt.Errorf("consents: consents view: %w", err)
	}
	if p.Settings, err = s.garantiSettings(ctx); err != nil {
		return ListPage{}, fmt.Errorf("consents: consents view: %w", err)
	}
	return p, nil
}

// garantiSettings returns the garanti.* settings, decrypted, by key.
func (s *Service) garantiSettings(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Key   string `db:"key"`
		Value []byte `db:"value_enc"`
	}
	if err := s.store.DB().SelectContext(ctx, &rows, `SELECT key, value_enc FROM settings WHERE key LIKE 'garanti.%'`); err != nil {
		return nil, fmt.Errorf("consents: garanti settings: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		pt, err := s.store.Keys().Decrypt(r.Value)
		if err != nil {
			return nil, fmt.Errorf("consents: setting %s: %w", r.Key, err)
		}
		out[r.Key] = string(pt)
	}
	return out, nil
}

// Page is what a consent's page (and its revoke confirmation)
// shows.
type Page struct {
	Consent     Consent
	Used        int // data calls on the Istanbul day of the view
	Products    []Product
	Revocations []RevocationRequest // the latest 20, newest first
	Trail       []store.AuditEntry  // newest first
}

// View reads a consent's page: the consent with its calls on
// now's Istanbul day, what it grants, its withdrawals and the latest trail
// entries about it. store.ErrNotFound when there is no such consent.
func (s *Service) View(ctx context.Context, id int64, now time.Time, trail int) (Page, error) {
	var p Page
	var err error
	if p.Consent, err = getConsent(ctx, s.store.DB(), id); err != nil {
		return Page{}, fmt.Errorf("consents: consent view %d: %w", id, err)
	}
	if p.Used, err = s.Usage(ctx, id, now); err != nil {
		return Page{}, fmt.Errorf("consents: consent view %d: %w", id, err)
	}
	if p.Products, err = s.Products(ctx, id); err != nil {
		return Page{}, fmt.Errorf("consents: consent view %d: %w", id, err)
	}
	if p.Revocations, err = s.Revocations(ctx, id); err != nil {
		return Page{}, fmt.Errorf("consents: consent view %d: %w", id, err)
	}
	if p.Trail, err = s.store.AuditTrail(ctx, Subject(id), trail); err != nil {
		return Page{}, fmt.Errorf("consents: consent view %d: audit trail: %w", id, err)
	}
	return p, nil
}
