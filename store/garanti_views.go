package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// The Garanti area's pages read what they show with a few plain queries
// each, none of which repeats per row: a page costs the same number of
// statements whatever it lists.

// GarantiConsentUse is a consent with the data calls it made on the
// Istanbul day the view was read for.
type GarantiConsentUse struct {
	Consent GarantiConsent
	Used    int
}

// NextCall is when the next data call under the consent is allowed, given
// the calls it made on now's Istanbul day: now while under frequencyPerDay,
// else the next Istanbul midnight (the rule of consents.Service.NextCall).
func (c GarantiConsent) NextCall(used int, now time.Time) time.Time {
	if used < c.FrequencyPerDay {
		return now
	}
	return GarantiDay(now).AddDate(0, 0, 1)
}

// garantiConsentUses lists the consents (with statuses, only those), newest
// first, each with its data calls on now's Istanbul day.
func (s *Store) garantiConsentUses(ctx context.Context, now time.Time, statuses ...string) ([]GarantiConsentUse, error) {
	cs, err := s.GarantiConsents(ctx, statuses...)
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
	if err := s.db.SelectContext(ctx, &usage, `SELECT consent_id, calls FROM garanti_usage WHERE consent_id = ANY($1) AND day = $2`,
		pq.Array(ids), garantiDateParam(GarantiDay(now))); err != nil {
		return nil, fmt.Errorf("store: garanti usage of the day: %w", err)
	}
	used := make(map[int64]int, len(usage))
	for _, u := range usage {
		used[u.ConsentID] = u.Calls
	}
	out := make([]GarantiConsentUse, len(cs))
	for i, c := range cs {
		out[i] = GarantiConsentUse{Consent: c, Used: used[c.ID]}
	}
	return out, nil
}

// GarantiConsentsPage is what the consents page shows.
type GarantiConsentsPage struct {
	Consents []GarantiConsentUse // newest first
	// Settings are the garanti.* settings, decrypted: whether consents can
	// be created depends on the application's credentials.
	Settings map[string]string
}

// GarantiConsentsView reads the consents page: every consent with its
// calls on now's Istanbul day, and the application's settings.
func (s *Store) GarantiConsentsView(ctx context.Context, now time.Time) (GarantiConsentsPage, error) {
	var p GarantiConsentsPage
	var err error
	if p.Consents, err = s.garantiConsentUses(ctx, now); err != nil {
		return GarantiConsentsPage{}, fmt.Errorf("store: consents view: %w", err)
	}
	if p.Settings, err = s.garantiSettings(ctx); err != nil {
		return GarantiConsentsPage{}, fmt.Errorf("store: consents view: %w", err)
	}
	return p, nil
}

// garantiSettings returns the garanti.* settings, decrypted, by key.
func (s *Store) garantiSettings(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Key   string `db:"key"`
		Value []byte `db:"value_enc"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT key, value_enc FROM settings WHERE key LIKE 'garanti.%'`); err != nil {
		return nil, fmt.Errorf("store: garanti settings: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		pt, err := s.keys.Decrypt(r.Value)
		if err != nil {
			return nil, fmt.Errorf("store: setting %s: %w", r.Key, err)
		}
		out[r.Key] = string(pt)
	}
	return out, nil
}

// GarantiConsentPage is what a consent's page (and its revoke confirmation)
// shows.
type GarantiConsentPage struct {
	Consent     GarantiConsent
	Used        int // data calls on the Istanbul day of the view
	Products    []GarantiConsentProduct
	Revocations []GarantiRevocationRequest // the latest 20, newest first
	Trail       []AuditEntry               // newest first
}

// GarantiConsentView reads a consent's page: the consent with its calls on
// now's Istanbul day, what it grants, its withdrawals and the latest trail
// entries about it. ErrNotFound when there is no such consent.
func (s *Store) GarantiConsentView(ctx context.Context, id int64, now time.Time, trail int) (GarantiConsentPage, error) {
	var p GarantiConsentPage
	var err error
	if p.Consent, err = s.GarantiConsent(ctx, id); err != nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: %w", id, err)
	}
	if p.Used, err = s.GarantiUsage(ctx, id, now); err != nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: %w", id, err)
	}
	if p.Products, err = s.GarantiConsentProducts(ctx, id); err != nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: %w", id, err)
	}
	if p.Revocations, err = s.GarantiRevocations(ctx, id); err != nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: %w", id, err)
	}
	if p.Trail, err = s.AuditTrail(ctx, GarantiSubject(id), trail); err != nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: audit trail: %w", id, err)
	}
	return p, nil
}
