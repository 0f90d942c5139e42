package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// HGSPageQuery is what the HGS page asks for.
type HGSPageQuery struct {
	Filter        HGSFilter
	Limit, Offset int
	Now           time.Time // its Istanbul day is the one the consents' calls are counted for
	SyncKind      string    // the River job kind of the HGS sync (hgs.SyncArgs)
}

// HGSPage is what the HGS page shows.
type HGSPage struct {
	Vehicles   []HGSVehicle     // every tag, as HGSVehicles(ctx, 0)
	Txns       []HGSTransaction // the page of movements, newest first
	Total      int              // how many movements match in all
	PerVehicle []HGSTotal       // as HGSTotals
	PerMonth   []HGSTotal
	// Active are the active consents, newest first, with today's calls.
	Active []GarantiConsentUse
	// Syncing reports whether an HGS sync job is running or due now (not one
	// waiting for tomorrow's quota).
	Syncing bool
	// LastRun is what the latest sync did, scheduled or manual (nil before
	// the first).
	LastRun *HGSSyncRun
}

// HGSPageView reads the HGS page with a few plain queries, none repeated per
// row: the tags, the page of movements the filter selects and how many
// there are, their totals per tag and per month, the active consents with
// their calls on q.Now's Istanbul day, whether a sync is under way and what
// the latest did. As on the page, a filter naming a tag the product does
// not know is not applied at all.
func (s *Store) HGSPageView(ctx context.Context, q HGSPageQuery) (HGSPage, error) {
	var p HGSPage
	var err error
	if p.Vehicles, err = s.hgsVehicles(ctx, 0, q.Now); err != nil {
		return HGSPage{}, fmt.Errorf("store: hgs view: %w", err)
	}
	f := q.Filter
	if f.ProductID != "" && !hgsKnownTag(p.Vehicles, f.ProductID) {
		f = HGSFilter{}
	}
	if p.Txns, p.Total, err = s.HGSTransactions(ctx, f, q.Limit, q.Offset); err != nil {
		return HGSPage{}, fmt.Errorf("store: hgs view: %w", err)
	}
	if p.PerVehicle, p.PerMonth, err = s.HGSTotals(ctx, f); err != nil {
		return HGSPage{}, fmt.Errorf("store: hgs view: %w", err)
	}
	if p.Active, err = s.garantiConsentUses(ctx, q.Now, GarantiActive); err != nil {
		return HGSPage{}, fmt.Errorf("store: hgs view: %w", err)
	}
	if err = s.db.GetContext(ctx, &p.Syncing, `SELECT EXISTS (SELECT 1 FROM river_job WHERE kind = $1
		AND (state = 'running' OR (state IN ('available', 'retryable', 'scheduled') AND scheduled_at <= now())))`, q.SyncKind); err != nil {
		return HGSPage{}, fmt.Errorf("store: hgs view: syncing: %w", err)
	}
	var run HGSSyncRun
	err = s.db.GetContext(ctx, &run, `SELECT `+hgsRunColumns+` FROM hgs_sync_runs ORDER BY finished_at DESC, id DESC LIMIT 1`)
	switch err = notFound(err); {
	case err == nil:
		p.LastRun = &run
	case !errors.Is(err, ErrNotFound):
		return HGSPage{}, fmt.Errorf("store: hgs view: last run: %w", err)
	}
	return p, nil
}

// hgsKnownTag reports whether productID is one of the tags.
func hgsKnownTag(vehicles []HGSVehicle, productID string) bool {
	for _, v := range vehicles {
		if v.ProductID == productID {
			return true
		}
	}
	return false
}
