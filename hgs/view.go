package hgs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kasa/consents"
	"kasa/store"
)

// PageQuery is what the HGS page asks for.
type PageQuery struct {
	Filter        Filter
	Limit, Offset int
	Now           time.Time // its Istanbul day is the one the consents' calls are counted for
	SyncKind      string    // the River job kind of the HGS sync (hgs.SyncArgs)
}

// Page is what the HGS page shows.
type Page struct {
	Vehicles   []Vehicle     // every tag, as Vehicles(ctx, 0)
	Txns       []Transaction // the page of movements, newest first
	Total      int           // how many movements match in all
	PerVehicle []Total       // as Totals
	PerMonth   []Total
	// Active are the active consents, newest first, with today's calls.
	Active []consents.Use
	// Syncing reports whether an HGS sync job is running or due now (not one
	// waiting for tomorrow's quota).
	Syncing bool
	// LastRun is what the latest sync did, scheduled or manual (nil before
	// the first).
	LastRun *SyncRun
}

// View reads the HGS page with a few plain queries, none repeated per
// row: the tags, the page of movements the filter selects and how many
// there are, their totals per tag and per month, the active consents with
// their calls on q.Now's Istanbul day, whether a sync is under way and what
// the latest did. As on the page, a filter naming a tag the product does
// not know is not applied at all.
func (s *Service) View(ctx context.Context, q PageQuery) (Page, error) {
	var p Page
	var err error
	if p.Vehicles, err = s.vehicles(ctx, 0, q.Now); err != nil {
		return Page{}, fmt.Errorf("hgs: view: %w", err)
	}
	f := q.Filter
	if f.ProductID != "" && !knownTag(p.Vehicles, f.ProductID) {
		f = Filter{}
	}
	if p.Txns, p.Total, err = s.Transactions(ctx, f, q.Limit, q.Offset); err != nil {
		return Page{}, fmt.Errorf("hgs: view: %w", err)
	}
	if p.PerVehicle, p.PerMonth, err = s.Totals(ctx, f); err != nil {
		return Page{}, fmt.Errorf("hgs: view: %w", err)
	}
	if p.Active, err = s.consents.Uses(ctx, q.Now, consents.Active); err != nil {
		return Page{}, fmt.Errorf("hgs: view: %w", err)
	}
	if err = s.store.DB().GetContext(ctx, &p.Syncing, `SELECT EXISTS (SELECT 1 FROM river_job WHERE kind = $1
		AND (state = 'running' OR (state IN ('available', 'retryable', 'scheduled') AND scheduled_at <= now())))`, q.SyncKind); err != nil {
		return Page{}, fmt.Errorf("hgs: view: syncing: %w", err)
	}
	var run SyncRun
	err = s.store.DB().GetContext(ctx, &run, `SELECT `+runColumns+` FROM hgs_sync_runs ORDER BY finished_at DESC, id DESC LIMIT 1`)
	switch err = store.NotFound(err); {
	case err == nil:
		p.LastRun = &run
	case !errors.Is(err, store.ErrNotFound):
		return Page{}, fmt.Errorf("hgs: view: last run: %w", err)
	}
	return p, nil
}

// knownTag reports whether productID is one of the tags.
func knownTag(vehicles []Vehicle, productID string) bool {
	for _, v := range vehicles {
		if v.ProductID == productID {
			return true
		}
	}
	return false
}
