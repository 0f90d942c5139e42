package consents

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"kasa/store"
	"kasa/tz"
)

// Consent statuses as the product reads them (the values of
// garanti.Status, under the product's names).
const (
	Awaiting   = "awaiting_authorisation"
	Authorised = "authorised"
	Active     = "active"
	Expired    = "expired"
	Revoked    = "revoked"
	Rejected   = "rejected"
	// Abandoned is the product's own status for a consent the
	// customer never approved before its one-time approval state expired:
	// it can never be completed (the bank lets it lapse on its side).
	Abandoned = "abandoned"
)

// Authority is one permission a consent asks for.
type Authority struct {
	ID            string `json:"id"`
	AttributeName string `json:"attributeName,omitempty"`
	Attribute     string `json:"attribute,omitempty"`
}

// AuthorityStatus is the bank's status of one authority of a consent.
type AuthorityStatus struct {
	AuthorityID string `json:"authorityId"`
	Raw         string `json:"raw"`
	Status      string `json:"status"`
}

// Consent is a consent as the product manages it.
type Consent struct {
	ID              int64
	ConsentID       string // the bank's id
	Status          string // mapped: Active…
	RawStatus       string // the bank's value
	Recurring       bool
	ValidationDate  time.Time // Istanbul calendar day
	FrequencyPerDay int
	TranBegin       time.Time
	TranEnd         time.Time
	Authorities     []Authority
	AuthorityStatus []AuthorityStatus
	RenewsID        *int64
	SupersededBy    *int64
	NeedsReauth     bool
	ReauthReason    string
	LastErrorCode   string
	LastError       string
	CreationEndTime *time.Time
	CreatedBy       *int64
	CreatedAt       time.Time
	ActivatedAt     *time.Time
	RevokedAt       *time.Time
	StatusCheckedAt *time.Time
	HasTokens       bool
}

// Final reports whether the consent can never be used again.
func (c Consent) Final() bool {
	return c.Status == Expired || c.Status == Revoked || c.Status == Rejected || c.Status == Abandoned
}

// Usable reports whether data calls may be made under the consent.
func (c Consent) Usable() bool {
	return c.Status == Active && !c.NeedsReauth && c.SupersededBy == nil
}

// DaysLeft is how many Istanbul calendar days the consent remains valid
// after today: 0 on its last day, -1 the day after, and so on.
func (c Consent) DaysLeft(now time.Time) int {
	return calendarDays(tz.Day(now), c.ValidationDate)
}

// PastValidation reports whether now's Istanbul day is after the consent's
// validation date: the bank no longer answers data calls under it.
func (c Consent) PastValidation(now time.Time) bool { return c.DaysLeft(now) < 0 }

// CancelledLocally reports whether the consent was withdrawn in the product
// before the customer approved it (the bank cannot delete such a consent;
// it lapses at its approval deadline).
func (c Consent) CancelledLocally() bool {
	return c.Status == Revoked && c.ActivatedAt == nil && !c.HasTokens
}

// calendarDays counts the calendar days from a to b (b's date minus a's),
// whatever the clock times and locations: dates compared as dates.
func calendarDays(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return int(time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

type consentRow struct {
	ID              int64         `db:"id"`
	ConsentID       string        `db:"consent_id"`
	Status          string        `db:"status"`
	RawStatus       string        `db:"raw_status"`
	Recurring       bool          `db:"recurring"`
	ValidationDate  time.Time     `db:"validation_date"`
	FrequencyPerDay int           `db:"frequency_per_day"`
	TranBegin       time.Time     `db:"tran_begin"`
	TranEnd         time.Time     `db:"tran_end"`
	Authorities     []byte        `db:"authorities"`
	AuthorityStatus []byte        `db:"authority_status"`
	RenewsID        sql.NullInt64 `db:"renews_id"`
	SupersededBy    sql.NullInt64 `db:"superseded_by"`
	NeedsReauth     bool          `db:"needs_reauth"`
	ReauthReason    string        `db:"reauth_reason"`
	LastErrorCode   string        `db:"last_error_code"`
	LastError       string        `db:"last_error"`
	CreationEndTime sql.NullTime  `db:"creation_end_time"`
	CreatedBy       sql.NullInt64 `db:"created_by"`
	CreatedAt       time.Time     `db:"created_at"`
	ActivatedAt     sql.NullTime  `db:"activated_at"`
	RevokedAt       sql.NullTime  `db:"revoked_at"`
	StatusCheckedAt sql.NullTime  `db:"status_checked_at"`
	HasTokens       bool          `db:"has_tokens"`
}

const consentColumns = `c.id, c.consent_id, c.status, c.raw_status, c.recurring, c.validation_date, c.frequency_per_day,
	c.tran_begin, c.tran_end, c.authorities, c.authority_status, c.renews_id, c.superseded_by, c.needs_reauth,
	c.reauth_reason, c.last_error_code, c.last_error, c.creation_end_time, c.created_by, c.created_at,
	c.activated_at, c.revoked_at, c.status_checked_at,
	EXISTS (SELECT 1 FROM garanti_tokens t WHERE t.consent_id = c.id) AS has_tokens`

func (r consentRow) consent() Consent {
	c := Consent{ID: r.ID, ConsentID: r.ConsentID, Status: r.Status, RawStatus: r.RawStatus, Recurring: r.Recurring,
		ValidationDate: date(r.ValidationDate), FrequencyPerDay: r.FrequencyPerDay, TranBegin: date(r.TranBegin),
		TranEnd: date(r.TranEnd), RenewsID: nullID(r.RenewsID), SupersededBy: nullID(r.SupersededBy),
		NeedsReauth: r.NeedsReauth, ReauthReason: r.ReauthReason, LastErrorCode: r.LastErrorCode, LastError: r.LastError,
		CreationEndTime: nullTime(r.CreationEndTime), CreatedBy: nullID(r.CreatedBy), CreatedAt: r.CreatedAt,
		ActivatedAt: nullTime(r.ActivatedAt), RevokedAt: nullTime(r.RevokedAt), StatusCheckedAt: nullTime(r.StatusCheckedAt),
		HasTokens: r.HasTokens}
	_ = json.Unmarshal(r.Authorities, &c.Authorities)
	_ = json.Unmarshal(r.AuthorityStatus, &c.AuthorityStatus)
	return c
}

// NewConsent is a consent the bank has just created, awaiting the
// customer, with the one-time state of the redirect that will approve it.
type NewConsent struct {
	ConsentID       string
	RawStatus       string
	Status          string
	Recurring       bool
	ValidationDate  time.Time
	FrequencyPerDay int
	TranBegin       time.Time
	TranEnd         time.Time
	Authorities     []Authority
	RenewsID        int64 // 0 unless it renews that consent
	CreationEndTime time.Time
	CreatedBy       int64
	// The redirect's state, the session binding and the PKCE verifier; only
	// hashes of the first two are stored and the verifier is encrypted.
	State, Binding, Verifier string
	StateExpires             time.Time
}

// Insert stores a new consent and its one-time OAuth state in one
// transaction, with an audit record; unlike Create it queues no status
// check.
func (s *Service) Insert(ctx context.Context, n NewConsent) (int64, error) {
	var id int64
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		id, err = s.insert(ctx, tx, n)
		return err
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// insert is Insert in the caller's transaction, so Create commits the job
// that checks on the consent with it.
func (s *Service) insert(ctx context.Context, tx sqlx.ExtContext, n NewConsent) (int64, error) {
	auths, err := json.Marshal(n.Authorities)
	if err != nil {
		return 0, fmt.Errorf("consents: create consent: %w", err)
	}
	now := s.now()
	var id int64
	err = sqlx.GetContext(ctx, tx, &id, `INSERT INTO garanti_consents (consent_id, status, raw_status, recurring, validation_date,
		frequency_per_day, tran_begin, tran_end, authorities, renews_id, creation_end_time, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
		n.ConsentID, n.Status, n.RawStatus, n.Recurring, dateParam(n.ValidationDate), n.FrequencyPerDay,
		dateParam(n.TranBegin), dateParam(n.TranEnd), string(auths), sql.NullInt64{Int64: n.RenewsID, Valid: n.RenewsID != 0},
		sql.NullTime{Time: n.CreationEndTime, Valid: !n.CreationEndTime.IsZero()}, sql.NullInt64{Int64: n.CreatedBy, Valid: n.CreatedBy != 0},
		now)
	if store.IsUniqueViolation(err) {
		err = store.ErrConflict
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO garanti_oauth_states (state_hash, binding_hash, consent_id, verifier_enc, user_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, store.HashID(n.State), store.HashID(n.Binding), id, s.store.Keys().Encrypt([]byte(n.Verifier)),
			sql.NullInt64{Int64: n.CreatedBy, Valid: n.CreatedBy != 0}, now, n.StateExpires)
	}
	if err == nil {
		err = store.Audit(ctx, tx, n.CreatedBy, "garanti.consent.create", Subject(id), map[string]any{
			"consentId": n.ConsentID, "recurring": n.Recurring, "frequencyPerDay": n.FrequencyPerDay, "renews": n.RenewsID})
	}
	if err != nil {
		return 0, fmt.Errorf("consents: create consent: %w", err)
	}
	return id, nil
}

// Subject names a consent in the audit log.
func Subject(id int64) string { return fmt.Sprintf("garanti.consent:%d", id) }

// getConsent returns the consent with the product's id.
func getConsent(ctx context.Context, q sqlx.QueryerContext, id int64) (Consent, error) {
	var r consentRow
	if err := sqlx.GetContext(ctx, q, &r, `SELECT `+consentColumns+` FROM garanti_consents c WHERE c.id = $1`, id); err != nil {
		return Consent{}, fmt.Errorf("consents: consent %d: %w", id, store.NotFound(err))
	}
	return r.consent(), nil
}

// Consents lists consents, newest first; with statuses, only those.
func (s *Service) Consents(ctx context.Context, statuses ...string) ([]Consent, error) {
	var rows []consentRow
	q := `SELECT ` + consentColumns + ` FROM garanti_consents c`
	args := []any{}
	if len(statuses) > 0 {
		q += ` WHERE c.status = ANY($1)`
		args = append(args, pq.Array(statuses))
	}
	if err := s.store.DB().SelectContext(ctx, &rows, q+` ORDER BY c.created_at DESC, c.id DESC`, args...); err != nil {
		return nil, fmt.Errorf("consents: consents: %w", err)
	}
	out := make([]Consent, len(rows))
	for i, r := range rows {
		out[i] = r.consent()
	}
	return out, nil
}

// setError records (or, with code and msg empty, clears) the last failure
// of a step of the consent's flow.
func (s *Service) setError(ctx context.Context, id int64, code, msg string) error {
	return execOne(ctx, s.store.DB(), "set consent error", `UPDATE garanti_consents SET last_error_code = $2, last_error = $3, updated_at = $4 WHERE id = $1`,
		id, code, store.Truncate(msg, 500), s.now())
}

// MarkReauth flags a consent whose tokens can no longer be renewed: the
// customer has to approve a new consent.
func (s *Service) MarkReauth(ctx context.Context, id int64, reason string) error {
	return execOne(ctx, s.store.DB(), "mark reauth", `UPDATE garanti_consents SET needs_reauth = true, reauth_reason = $2, updated_at = $3 WHERE id = $1`,
		id, store.Truncate(reason, 500), s.now())
}

// Product is one product (HGS tag) and authority of a consent.
type Product struct {
	ProductID   string     `db:"product_id" json:"product_id"`
	AuthorityID string     `db:"authority_id" json:"authority_id"`
	Flag        bool       `db:"flag" json:"flag"`
	RevokedAt   *time.Time `db:"revoked_at" json:"revoked_at"`
	Plate       string     `db:"plate" json:"plate"`
}

// Live reports whether the authority is in force for the product.
func (p Product) Live() bool { return p.Flag && p.RevokedAt == nil }

// Products lists what a consent grants, by product and authority.
func (s *Service) Products(ctx context.Context, id int64) ([]Product, error) {
	var out []Product
	err := s.store.DB().SelectContext(ctx, &out, `SELECT p.product_id, p.authority_id, p.flag, p.revoked_at, COALESCE(v.plate, '') AS plate
		FROM garanti_consent_products p LEFT JOIN hgs_vehicles v ON v.product_id = p.product_id
		WHERE p.consent_id = $1 ORDER BY p.product_id, p.authority_id`, id)
	if err != nil {
		return nil, fmt.Errorf("consents: consent products: %w", err)
	}
	return out, nil
}

// SaveActivation records the products the customer granted and makes the
// consent active. Its tags become vehicles synced under it; a consent it
// renews is superseded, its vehicles moving over.
func (s *Service) SaveActivation(ctx context.Context, id int64, raw string, products []Product) error {
	now := s.now()
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var renews sql.NullInt64
		if err := tx.GetContext(ctx, &renews, `UPDATE garanti_consents SET status = 'active', raw_status = $2, activated_at = COALESCE(activated_at, $3),
			needs_reauth = false, reauth_reason = '', last_error_code = '', last_error = '', updated_at = $3
			WHERE id = $1 RETURNING renews_id`, id, raw, now); err != nil {
			return store.NotFound(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM garanti_consent_products WHERE consent_id = $1`, id); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, p := range products {
			if _, err := tx.ExecContext(ctx, `INSERT INTO garanti_consent_products (consent_id, product_id, authority_id, flag) VALUES ($1, $2, $3, $4)
				ON CONFLICT (consent_id, product_id, authority_id) DO UPDATE SET flag = EXCLUDED.flag`, id, p.ProductID, p.AuthorityID, p.Flag); err != nil {
				return err
			}
			if seen[p.ProductID] {
				continue
			}
			seen[p.ProductID] = true
			// A tag already synced under an older consent keeps its history
			// and starts afresh under this one (its range may differ).
			if _, err := tx.ExecContext(ctx, `INSERT INTO hgs_vehicles (product_id, consent_id) VALUES ($1, $2)
				ON CONFLICT (product_id) DO UPDATE SET consent_id = EXCLUDED.consent_id, synced_from = NULL, synced_to = NULL,
				last_error_code = '', last_error = '', updated_at = now()`, p.ProductID, id); err != nil {
				return err
			}
		}
		if renews.Valid {
			if _, err := tx.ExecContext(ctx, `UPDATE garanti_consents SET superseded_by = $2, updated_at = $3 WHERE id = $1`, renews.Int64, id, now); err != nil {
				return err
			}
		}
		return store.Audit(ctx, tx, 0, "garanti.consent.activate", Subject(id), map[string]any{"products": len(seen)})
	})
	if err != nil {
		return fmt.Errorf("consents: activate consent %d: %w", id, err)
	}
	return nil
}

// Revocation is what a delete withdrew: nothing named is the whole
// consent; an authority, a product, or both narrow it (the bank's four modes).
type Revocation struct {
	AuthorityID string
	ProductID   string
}
