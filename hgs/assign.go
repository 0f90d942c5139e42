package hgs

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/tz"
)

// usable is the condition, over a consent aliased c, that data calls may
// be made under it on the Istanbul day given as a parameter (the rule of
// consents.Consent.Usable and PastValidation).
func usable(day string) string {
	return `(c.status = 'active' AND NOT c.needs_reauth AND c.superseded_by IS NULL AND c.validation_date >= ` + day + `::date)`
}

// covered is the condition, over a vehicle aliased v, that a usable consent
// (as of the day parameter) holds a grant in force for it.
func covered(day string) string {
	return `EXISTS (SELECT 1 FROM garanti_consent_products p JOIN garanti_consents c ON c.id = p.consent_id
		WHERE p.product_id = v.product_id AND p.flag AND p.revoked_at IS NULL AND ` + usable(day) + `)`
}

// assign makes every vehicle sync under a consent that can be
// used on now's Istanbul day and covers it (holds a grant in force for
// it): a vehicle whose consent no longer does moves to the newest one that
// does, starting its synced range afresh (the new consent's range may
// differ), as on activation. It returns the vehicles no usable consent
// covers, which stay where they are until one does.
func (s *Service) assign(ctx context.Context, now time.Time) (uncovered []string, err error) {
	day := dateParam(tz.Day(now))
	err = s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		// cover: for each product, the newest usable consent with a grant in
		// force; a vehicle moves only when its own consent does not cover it.
		_, err := tx.ExecContext(ctx, `UPDATE hgs_vehicles v SET consent_id = x.consent_id, synced_from = NULL, synced_to = NULL,
				last_error_code = '', last_error = '', last_error_at = NULL, updated_at = $2
			FROM (SELECT DISTINCT ON (p.product_id) p.product_id, c.id AS consent_id
				FROM garanti_consent_products p JOIN garanti_consents c ON c.id = p.consent_id
				WHERE p.flag AND p.revoked_at IS NULL AND `+usable("$1")+`
				ORDER BY p.product_id, c.created_at DESC, c.id DESC) x
			WHERE x.product_id = v.product_id AND v.consent_id IS DISTINCT FROM x.consent_id
				AND NOT EXISTS (SELECT 1 FROM garanti_consent_products p JOIN garanti_consents c ON c.id = p.consent_id
					WHERE c.id = v.consent_id AND p.product_id = v.product_id AND p.flag AND p.revoked_at IS NULL AND `+usable("$1")+`)`,
			day, s.now())
		if err != nil {
			return err
		}
		return tx.SelectContext(ctx, &uncovered, `SELECT v.product_id FROM hgs_vehicles v WHERE NOT `+covered("$1")+`
			ORDER BY v.plate = '', v.plate, v.product_id`, day)
	})
	if err != nil {
		return nil, fmt.Errorf("hgs: assign vehicles: %w", err)
	}
	return uncovered, nil
}
