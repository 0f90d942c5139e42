package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The page views of the Garanti area read everything a page shows in one
// statement: the page's main record as columns and its lists as JSON
// (jsonb_agg), decoded here into the same types the single-purpose methods
// return. Amounts travel as text so they stay exact.

// GarantiConsentUse is a consent with the data calls it made on the
// Istanbul day the view was read for.
type GarantiConsentUse struct {
	Consent GarantiConsent
	Used    int
}

// NextCall is when the next data call under the consent is allowed, given
// the calls it made on now's Istanbul day: now while under frequencyPerDay,
// else the next Istanbul midnight (the rule of jobs.Garanti.NextCall).
func (c GarantiConsent) NextCall(used int, now time.Time) time.Time {
	if used < c.FrequencyPerDay {
		return now
	}
	return GarantiDay(now).AddDate(0, 0, 1)
}

// consentObject is the consent aliased c as one JSON object with the fields
// of consentColumns (to_jsonb names them after the columns) and today's
// calls, the Istanbul day being the parameter day.
func consentObject(day string) string {
	return `to_jsonb(c) || jsonb_build_object(
		'has_tokens', EXISTS (SELECT 1 FROM garanti_tokens t WHERE t.consent_id = c.id),
		'used', COALESCE((SELECT u.calls FROM garanti_usage u WHERE u.consent_id = c.id AND u.day = ` + day + `), 0))`
}

// consentList aggregates the consents aliased c that match where (a fixed
// condition), newest first, as consentObject.
func consentList(where, day string) string {
	return `(SELECT COALESCE(jsonb_agg(` + consentObject(day) + ` ORDER BY c.created_at DESC, c.id DESC), '[]')
		FROM garanti_consents c WHERE ` + where + `)`
}

// GarantiConsentsPage is what the consents page shows.
type GarantiConsentsPage struct {
	Consents []GarantiConsentUse // newest first
	// Settings are the garanti.* settings, decrypted: whether consents can
	// be created depends on the application's credentials.
	Settings map[string]string
}

// GarantiConsentsView reads the consents page in one statement: every
// consent with its calls on now's Istanbul day, and the application's
// settings.
func (s *Store) GarantiConsentsView(ctx context.Context, now time.Time) (GarantiConsentsPage, error) {
	var row struct {
		Consents []byte `db:"consents"`
		Settings []byte `db:"settings"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT
		-- consents: every consent, newest first, with today's calls
		`+consentList("true", "$1")+` AS consents,
		-- settings: the application's credentials, still encrypted (base64)
		(SELECT COALESCE(jsonb_object_agg(st.key, encode(st.value_enc, 'base64')), '{}')
			FROM settings st WHERE st.key LIKE 'garanti.%') AS settings`,
		garantiDateParam(GarantiDay(now)))
	if err != nil {
		return GarantiConsentsPage{}, fmt.Errorf("store: consents view: %w", err)
	}
	var p GarantiConsentsPage
	if p.Consents, err = decodeConsentUses(row.Consents); err != nil {
		return p, fmt.Errorf("store: consents view: %w", err)
	}
	if p.Settings, err = s.decryptSettings(row.Settings); err != nil {
		return p, fmt.Errorf("store: consents view: %w", err)
	}
	return p, nil
}

// decryptSettings decodes {"key": base64 ciphertext} and decrypts the values.
func (s *Store) decryptSettings(b []byte) (map[string]string, error) {
	var enc map[string][]byte // encoding/json reads base64 into []byte
	if err := json.Unmarshal(b, &enc); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(enc))
	for k, v := range enc {
		pt, err := s.keys.Decrypt(v)
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", k, err)
		}
		out[k] = string(pt)
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

// GarantiConsentView reads a consent's page in one statement: the consent
// with its calls on now's Istanbul day, what it grants (as
// GarantiConsentProducts), its withdrawals (as GarantiRevocations) and the
// latest trail entries about it (as AuditTrail). ErrNotFound when there is
// no such consent.
func (s *Store) GarantiConsentView(ctx context.Context, id int64, now time.Time, trail int) (GarantiConsentPage, error) {
	var row struct {
		Consent     []byte `db:"consent"`
		Products    []byte `db:"products"`
		Revocations []byte `db:"revocations"`
		Trail       []byte `db:"trail"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT
		-- consent: the consent with today's calls (NULL when there is none)
		(SELECT `+consentObject("$2")+` FROM garanti_consents c WHERE c.id = $1) AS consent,
		-- products: what it grants, by product and authority, with the tag's plate
		(SELECT COALESCE(jsonb_agg(to_jsonb(p) ORDER BY p.product_id, p.authority_id), '[]') FROM (
			SELECT p.product_id, p.authority_id, p.flag, p.revoked_at, COALESCE(v.plate, '') AS plate
			FROM garanti_consent_products p LEFT JOIN hgs_vehicles v ON v.product_id = p.product_id
			WHERE p.consent_id = $1) p) AS products,
		-- revocations: the latest withdrawals asked of the bank
		(SELECT COALESCE(jsonb_agg(to_jsonb(r) ORDER BY r.id DESC), '[]') FROM (
			SELECT `+revocationColumns+` FROM garanti_revocations WHERE consent_id = $1 ORDER BY id DESC LIMIT 20) r) AS revocations,
		-- trail: the latest audit entries about the consent, with who acted
		(SELECT COALESCE(jsonb_agg(to_jsonb(a) ORDER BY a.at DESC, a.id DESC), '[]') FROM (
			SELECT a.id, a.at, a.user_id, u.email AS user_email, a.action, a.subject, a.details
			FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
			WHERE a.subject = $3 ORDER BY a.at DESC, a.id DESC LIMIT $4) a) AS trail`,
		id, garantiDateParam(GarantiDay(now)), GarantiSubject(id), trail)
	if err != nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: %w", id, err)
	}
	if row.Consent == nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: %w", id, ErrNotFound)
	}
	var p GarantiConsentPage
	var c consentJSON
	var trailRows []auditJSON
	err = errors.Join(json.Unmarshal(row.Consent, &c), json.Unmarshal(row.Products, &p.Products),
		json.Unmarshal(row.Revocations, &p.Revocations), json.Unmarshal(row.Trail, &trailRows))
	if err != nil {
		return GarantiConsentPage{}, fmt.Errorf("store: consent view %d: %w", id, err)
	}
	p.Consent, p.Used = c.row().consent(), c.Used
	for _, a := range trailRows {
		p.Trail = append(p.Trail, a.entry())
	}
	return p, nil
}

// decodeConsentUses decodes a consentList.
func decodeConsentUses(b []byte) ([]GarantiConsentUse, error) {
	var cs []consentJSON
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, err
	}
	out := make([]GarantiConsentUse, len(cs))
	for i, c := range cs {
		out[i] = GarantiConsentUse{Consent: c.row().consent(), Used: c.Used}
	}
	return out, nil
}

// consentJSON is a consentObject: a consentRow as JSON, plus today's calls.
type consentJSON struct {
	ID              int64           `json:"id"`
	ConsentID       string          `json:"consent_id"`
	Status          string          `json:"status"`
	RawStatus       string          `json:"raw_status"`
	Recurring       bool            `json:"recurring"`
	ValidationDate  jsonDate        `json:"validation_date"`
	FrequencyPerDay int             `json:"frequency_per_day"`
	TranBegin       jsonDate        `json:"tran_begin"`
	TranEnd         jsonDate        `json:"tran_end"`
	Authorities     json.RawMessage `json:"authorities"`
	AuthorityStatus json.RawMessage `json:"authority_status"`
	RenewsID        *int64          `json:"renews_id"`
	SupersededBy    *int64          `json:"superseded_by"`
	NeedsReauth     bool            `json:"needs_reauth"`
	ReauthReason    string          `json:"reauth_reason"`
	LastErrorCode   string          `json:"last_error_code"`
	LastError       string          `json:"last_error"`
	CreationEndTime *time.Time      `json:"creation_end_time"`
	CreatedBy       *int64          `json:"created_by"`
	CreatedAt       time.Time       `json:"created_at"`
	ActivatedAt     *time.Time      `json:"activated_at"`
	RevokedAt       *time.Time      `json:"revoked_at"`
	StatusCheckedAt *time.Time      `json:"status_checked_at"`
	HasTokens       bool            `json:"has_tokens"`
	Used            int             `json:"used"`
}

// row turns it into the consentRow a scan would give, so both reads map a
// consent the same way.
func (c consentJSON) row() consentRow {
	return consentRow{ID: c.ID, ConsentID: c.ConsentID, Status: c.Status, RawStatus: c.RawStatus, Recurring: c.Recurring,
		ValidationDate: c.ValidationDate.Time, FrequencyPerDay: c.FrequencyPerDay, TranBegin: c.TranBegin.Time, TranEnd: c.TranEnd.Time,
		Authorities: c.Authorities, AuthorityStatus: c.AuthorityStatus, RenewsID: jsonNullID(c.RenewsID),
		SupersededBy: jsonNullID(c.SupersededBy), NeedsReauth: c.NeedsReauth, ReauthReason: c.ReauthReason,
		LastErrorCode: c.LastErrorCode, LastError: c.LastError, CreationEndTime: jsonNullTime(c.CreationEndTime),
		CreatedBy: jsonNullID(c.CreatedBy), CreatedAt: c.CreatedAt, ActivatedAt: jsonNullTime(c.ActivatedAt),
		RevokedAt: jsonNullTime(c.RevokedAt), StatusCheckedAt: jsonNullTime(c.StatusCheckedAt), HasTokens: c.HasTokens}
}

// jsonDate reads a DATE as to_jsonb writes it ("2006-01-02"), as UTC
// midnight like a scanned DATE column.
type jsonDate struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (d *jsonDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("date %s: %w", b, err)
	}
	d.Time, err = time.Parse(time.DateOnly, s)
	return err
}

func jsonNullDay(d *jsonDate) sql.NullTime {
	if d == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: d.Time, Valid: true}
}
