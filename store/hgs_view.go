package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
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

// hgsSums are the totals' columns over matched movements aliased m; amounts
// as text, to stay exact in JSON.
const hgsSums = `count(*) FILTER (WHERE m.debit_credit = 'B') AS passages,
	COALESCE(sum(m.amount) FILTER (WHERE m.debit_credit = 'B'), 0)::text AS debit,
	COALESCE(sum(m.amount) FILTER (WHERE m.debit_credit = 'A'), 0)::text AS credit`

// hgsMatchedColumns are the columns of a movement the page lists or sums.
const hgsMatchedColumns = `t.id, t.product_id, t.amount, t.debit_credit, t.entrance_ts, t.departure_ts,
	t.entrance_motorway, t.departure_motorway, t.explanation`

// HGSPageView reads the HGS page in one statement: the tags, the page of
// movements the filter selects and how many there are, their totals per tag
// and per month, the active consents with their calls on q.Now's Istanbul
// day, and whether a sync is under way. As on the page, a filter naming a
// tag the product does not know is not applied at all.
func (s *Store) HGSPageView(ctx context.Context, q HGSPageQuery) (HGSPage, error) {
	query, args := hgsPageStatement(q)
	var row struct {
		Total      int    `db:"total"`
		Txns       []byte `db:"txns"`
		PerVehicle []byte `db:"per_vehicle"`
		PerMonth   []byte `db:"per_month"`
		Vehicles   []byte `db:"vehicles"`
		Active     []byte `db:"active"`
		Syncing    bool   `db:"syncing"`
		LastRun    []byte `db:"last_run"`
	}
	err := s.db.GetContext(ctx, &row, query, args...)
	if err != nil {
		return HGSPage{}, fmt.Errorf("store: hgs view: %w", err)
	}
	p := HGSPage{Total: row.Total, Syncing: row.Syncing}
	var txns []hgsTxnJSON
	var vehicles []vehicleJSON
	err = errors.Join(json.Unmarshal(row.Txns, &txns), json.Unmarshal(row.PerVehicle, &p.PerVehicle),
		json.Unmarshal(row.PerMonth, &p.PerMonth), json.Unmarshal(row.Vehicles, &vehicles))
	if err == nil {
		p.Active, err = decodeConsentUses(row.Active)
	}
	if err == nil && row.LastRun != nil {
		p.LastRun = &HGSSyncRun{}
		err = json.Unmarshal(row.LastRun, p.LastRun)
	}
	if err != nil {
		return HGSPage{}, fmt.Errorf("store: hgs view: %w", err)
	}
	for _, t := range txns {
		p.Txns = append(p.Txns, t.txn())
	}
	p.Vehicles = make([]HGSVehicle, len(vehicles))
	for i, v := range vehicles {
		p.Vehicles[i] = v.row().vehicle()
	}
	return p, nil
}

// hgsPageStatement builds HGSPageView's statement and its arguments: the
// filter's condition (fixed SQL, values bound) and the view's own.
func hgsPageStatement(q HGSPageQuery) (string, []any) {
	cond, args := q.Filter.cond()
	if cond == "" {
		cond = "true"
	}
	n := len(args)
	arg := func(i int) string { return "$" + strconv.Itoa(n+i) }
	args = append(args, q.Filter.ProductID, q.Limit, q.Offset, garantiDateParam(GarantiDay(q.Now)), q.SyncKind)
	// matching is the movements the page lists or sums, ending in tail: the
	// filtered ones when the filter applies, else all of them. Only one of
	// the two branches runs (its gate is a one-time filter), and each keeps
	// the indexes its conditions and order can use.
	matching := func(tail string) string {
		return `(SELECT ` + hgsMatchedColumns + ` FROM hgs_transactions t WHERE (SELECT ok FROM applied) AND ` + cond + tail + `)
			UNION ALL
			(SELECT ` + hgsMatchedColumns + ` FROM hgs_transactions t WHERE NOT (SELECT ok FROM applied)` + tail + `)`
	}
	return `WITH
		-- applied: whether the filter applies (it names no tag, or a known one)
		applied AS (SELECT ` + arg(1) + ` = '' OR EXISTS (SELECT 1 FROM hgs_vehicles WHERE product_id = ` + arg(1) + `) AS ok),
		-- matched: the movements summed
		matched AS (` + matching("") + `),
		-- page: the movements shown, newest first
		page AS (` + matching(` ORDER BY t.entrance_ts DESC, t.id DESC LIMIT `+arg(2)+` OFFSET `+arg(3)) + `),
		-- totals: in one pass over the matched movements, their sums per tag
		-- (grouped 1), per Istanbul month (2) and in all (3)
		totals AS (
			SELECT GROUPING(m.product_id, m.month) AS grouped, m.product_id, m.month, count(*) AS n,
				COALESCE(max(v.plate), '') AS plate, ` + hgsSums + `
			FROM (SELECT *, to_char(entrance_ts AT TIME ZONE 'Europe/Istanbul', 'YYYY-MM') AS month FROM matched) m
				LEFT JOIN hgs_vehicles v ON v.product_id = m.product_id
			GROUP BY GROUPING SETS ((m.product_id), (m.month), ())),
		-- vehicles: every tag's card, with its rows kept aside
		vehicles AS (
			SELECT v.product_id, v.consent_id, v.plate, v.vehicle_class, v.balance::text AS balance, v.status_text,
				v.auto_payment::text AS auto_payment, v.min_payment::text AS min_payment, v.synced_from, v.synced_to,
				v.last_synced_at, v.last_error_code, v.last_error, v.last_error_at,
				(SELECT count(*) FROM hgs_unrecognised u WHERE u.product_id = v.product_id) AS unrecognised,
				` + hgsCovered(arg(4)) + ` AS covered
			FROM hgs_vehicles v)
		SELECT COALESCE((SELECT n FROM totals WHERE grouped = 3), 0) AS total,
			(SELECT COALESCE(jsonb_agg(jsonb_build_object('id', p.id, 'product_id', p.product_id, 'plate', COALESCE(v.plate, ''),
				'amount', p.amount::text, 'debit_credit', p.debit_credit, 'entrance_ts', p.entrance_ts, 'departure_ts', p.departure_ts,
				'entrance_motorway', p.entrance_motorway, 'departure_motorway', p.departure_motorway, 'explanation', p.explanation)
				ORDER BY p.entrance_ts DESC, p.id DESC), '[]')
				FROM page p LEFT JOIN hgs_vehicles v ON v.product_id = p.product_id) AS txns,
			(SELECT COALESCE(jsonb_agg(jsonb_build_object('key', x.product_id, 'plate', x.plate, 'passages', x.passages,
				'debit', x.debit, 'credit', x.credit) ORDER BY x.plate, x.product_id), '[]') FROM totals x WHERE x.grouped = 1) AS per_vehicle,
			(SELECT COALESCE(jsonb_agg(jsonb_build_object('key', x.month, 'plate', '', 'passages', x.passages,
				'debit', x.debit, 'credit', x.credit) ORDER BY x.month DESC), '[]') FROM totals x WHERE x.grouped = 2) AS per_month,
			(SELECT COALESCE(jsonb_agg(to_jsonb(v) ORDER BY v.plate = '', v.plate, v.product_id), '[]') FROM vehicles v) AS vehicles,
			` + consentList("c.status = 'active'", arg(4)) + ` AS active,
			EXISTS (SELECT 1 FROM river_job j WHERE j.kind = ` + arg(5) + `
				AND (j.state = 'running' OR (j.state IN ('available', 'retryable', 'scheduled') AND j.scheduled_at <= now()))) AS syncing,
			(SELECT to_jsonb(r) FROM (SELECT ` + hgsRunColumns + ` FROM hgs_sync_runs
				ORDER BY finished_at DESC, id DESC LIMIT 1) r) AS last_run`, args
}

// hgsTxnJSON is an HGSTransaction as the page's JSON holds it.
type hgsTxnJSON struct {
	ID                int64           `json:"id"`
	ProductID         string          `json:"product_id"`
	Plate             string          `json:"plate"`
	Amount            decimal.Decimal `json:"amount"`
	DebitCredit       string          `json:"debit_credit"`
	EntranceTS        time.Time       `json:"entrance_ts"`
	DepartureTS       *time.Time      `json:"departure_ts"`
	EntranceMotorway  string          `json:"entrance_motorway"`
	DepartureMotorway string          `json:"departure_motorway"`
	Explanation       string          `json:"explanation"`
}

func (t hgsTxnJSON) txn() HGSTransaction {
	return HGSTransaction{ID: t.ID, ProductID: t.ProductID, Plate: t.Plate, Amount: t.Amount, DebitCredit: t.DebitCredit,
		EntranceTS: t.EntranceTS, DepartureTS: jsonNullTime(t.DepartureTS), EntranceMotorway: t.EntranceMotorway,
		DepartureMotorway: t.DepartureMotorway, Explanation: t.Explanation}
}

// vehicleJSON is a vehicleRow as to_jsonb writes it.
type vehicleJSON struct {
	ProductID     string              `json:"product_id"`
	ConsentID     *int64              `json:"consent_id"`
	Plate         string              `json:"plate"`
	VehicleClass  string              `json:"vehicle_class"`
	Balance       decimal.NullDecimal `json:"balance"`
	StatusText    string              `json:"status_text"`
	AutoPayment   decimal.NullDecimal `json:"auto_payment"`
	MinPayment    decimal.NullDecimal `json:"min_payment"`
	SyncedFrom    *jsonDate           `json:"synced_from"`
	SyncedTo      *jsonDate           `json:"synced_to"`
	LastSyncedAt  *time.Time          `json:"last_synced_at"`
	LastErrorCode string              `json:"last_error_code"`
	LastError     string              `json:"last_error"`
	LastErrorAt   *time.Time          `json:"last_error_at"`
	Unrecognised  int                 `json:"unrecognised"`
	Covered       bool                `json:"covered"`
}

// row turns it into the vehicleRow a scan would give, so both reads map a
// tag the same way.
func (v vehicleJSON) row() vehicleRow {
	return vehicleRow{ProductID: v.ProductID, ConsentID: jsonNullID(v.ConsentID), Plate: v.Plate, VehicleClass: v.VehicleClass,
		Balance: v.Balance, StatusText: v.StatusText, AutoPayment: v.AutoPayment, MinPayment: v.MinPayment,
		SyncedFrom: jsonNullDay(v.SyncedFrom), SyncedTo: jsonNullDay(v.SyncedTo), LastSyncedAt: jsonNullTime(v.LastSyncedAt),
		LastErrorCode: v.LastErrorCode, LastError: v.LastError, LastErrorAt: jsonNullTime(v.LastErrorAt), Unrecognised: v.Unrecognised,
		Covered: v.Covered}
}
