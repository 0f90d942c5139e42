package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The outcomes of an HGS sync, from the most to the least useful: what the
// page and the "Refresh now" flash say.
const (
	HGSOutcomeFetched   = "fetched"   // the bank answered every planned call
	HGSOutcomePartial   = "partial"   // some vehicles synced, some failed
	HGSOutcomeBusy      = "busy"      // the bank throttled (429): the rest waits for its Retry-After
	HGSOutcomeQuota     = "quota"     // the day's frequencyPerDay is spent: the rest waits for tomorrow
	HGSOutcomeFailed    = "failed"    // nothing synced: every call failed
	HGSOutcomeUncovered = "uncovered" // nothing synced: no active consent covers the vehicles
	HGSOutcomeNothing   = "nothing"   // nothing to sync: no vehicle yet
)

// HGSSyncRun is what one HGS sync did, kept so a person sees the outcome
// of the scheduled syncs as well as of their own "Refresh now".
type HGSSyncRun struct {
	ID         int64      `db:"id" json:"id"`
	JobID      *int64     `db:"job_id" json:"job_id"`
	Manual     bool       `db:"manual" json:"manual"`
	Outcome    string     `db:"outcome" json:"outcome"`
	Vehicles   int        `db:"vehicles" json:"vehicles"`
	Calls      int        `db:"calls" json:"calls"`
	NewRows    int        `db:"new_rows" json:"new_rows"`
	Failed     int        `db:"failed" json:"failed"`
	Deferred   int        `db:"deferred" json:"deferred"`
	Uncovered  int        `db:"uncovered" json:"uncovered"`
	ErrorCode  string     `db:"error_code" json:"error_code"`
	QuotaLimit int        `db:"quota_limit" json:"quota_limit"`
	RetryAt    *time.Time `db:"retry_at" json:"retry_at"`
	FinishedAt time.Time  `db:"finished_at" json:"finished_at"`
}

const hgsRunColumns = `id, job_id, manual, outcome, vehicles, calls, new_rows, failed, deferred, uncovered, error_code,
	quota_limit, retry_at, finished_at`

// garantiUsable is the condition, over a consent aliased c, that data calls
// may be made under it on the Istanbul day given as a parameter (the rule of
// GarantiConsent.Usable and PastValidation).
func garantiUsable(day string) string {
	return `(c.status = 'active' AND NOT c.needs_reauth AND c.superseded_by IS NULL AND c.validation_date >= ` + day + `::date)`
}

// hgsCovered is the condition, over a vehicle aliased v, that a usable
// consent (as of the day parameter) holds a grant in force for it.
func hgsCovered(day string) string {
	return `EXISTS (SELECT 1 FROM garanti_consent_products p JOIN garanti_consents c ON c.id = p.consent_id
		WHERE p.product_id = v.product_id AND p.flag AND p.revoked_at IS NULL AND ` + garantiUsable(day) + `)`
}

// AssignHGSVehicles makes every vehicle sync under a consent that can be
// used on now's Istanbul day and covers it (holds a grant in force for
// it): a vehicle whose consent no longer does moves to the newest one that
// does, starting its synced range afresh (the new consent's range may
// differ), as on activation. It returns the vehicles no usable consent
// covers, which stay where they are until one does.
func (s *Store) AssignHGSVehicles(ctx context.Context, now time.Time) (uncovered []string, err error) {
	day := garantiDateParam(GarantiDay(now))
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		// cover: for each product, the newest usable consent with a grant in
		// force; a vehicle moves only when its own consent does not cover it.
		_, err := tx.ExecContext(ctx, `UPDATE hgs_vehicles v SET consent_id = x.consent_id, synced_from = NULL, synced_to = NULL,
				last_error_code = '', last_error = '', last_error_at = NULL, updated_at = $2
			FROM (SELECT DISTINCT ON (p.product_id) p.product_id, c.id AS consent_id
				FROM garanti_consent_products p JOIN garanti_consents c ON c.id = p.consent_id
				WHERE p.flag AND p.revoked_at IS NULL AND `+garantiUsable("$1")+`
				ORDER BY p.product_id, c.created_at DESC, c.id DESC) x
			WHERE x.product_id = v.product_id AND v.consent_id IS DISTINCT FROM x.consent_id
				AND NOT EXISTS (SELECT 1 FROM garanti_consent_products p JOIN garanti_consents c ON c.id = p.consent_id
					WHERE c.id = v.consent_id AND p.product_id = v.product_id AND p.flag AND p.revoked_at IS NULL AND `+garantiUsable("$1")+`)`,
			day, s.now())
		if err != nil {
			return err
		}
		return tx.SelectContext(ctx, &uncovered, `SELECT v.product_id FROM hgs_vehicles v WHERE NOT `+hgsCovered("$1")+`
			ORDER BY v.plate = '', v.plate, v.product_id`, day)
	})
	if err != nil {
		return nil, fmt.Errorf("store: assign hgs vehicles: %w", err)
	}
	return uncovered, nil
}

// ReleaseGarantiCall gives back a call reserved with ReserveGarantiCall on
// the Istanbul day of at, when the bank did not accept it (throttled,
// refused, unreachable, or an answer that could not be read): only the
// calls the bank accepted count against frequencyPerDay, as the bank
// counts them.
func (s *Store) ReleaseGarantiCall(ctx context.Context, consentID int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE garanti_usage SET calls = calls - 1 WHERE consent_id = $1 AND day = $2 AND calls > 0`,
		consentID, garantiDateParam(GarantiDay(at)))
	if err != nil {
		return fmt.Errorf("store: release garanti call: %w", err)
	}
	return nil
}
