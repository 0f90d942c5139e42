package garanti

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// TxnListPath is the HGS transaction list.
const TxnListPath = "/cards/hgs/service/v0/txnlist"

// Debit/credit indicators. The bank writes the Turkish accounting letters:
// B for borç (debit: a passage) and A for alacak (credit: a balance top-up).
const (
	Credit = "A"
	Debit  = "B"
)

// TxnKind is orderByFieldNum: which movements to list.
type TxnKind int

// The kinds of HGS movements.
const (
	TxnPassages TxnKind = 1 // motorway and bridge passages
	TxnTopUps   TxnKind = 2 // balance top-ups
	TxnBoth     TxnKind = 3
)

// TxnQuery selects HGS movements of one product.
type TxnQuery struct {
	ProductID   string
	DebitCredit string // Credit, Debit or "" for both
	Descending  bool   // newest first; the bank's default is ascending
	Limit       int    // scrollAmount: at most this many; 0 for all
	Kind        TxnKind
	// Start and End are the first and last calendar days of the range (at
	// most a year apart, inside the consent's transaction dates). They go
	// out as ISODate in startInstanceId and stopInstanceId: the seed calls
	// them start and end dates, and ISO dates are the API's date format.
	Start, End time.Time
	// Authorities lists what is requested; both HGS authorities when nil.
	Authorities []string
}

// sortDescending is the sortOption for newest first; empty is ascending.
const sortDescending = "D"

// HGSProduct is hgsProductInfo: the tag and its account.
type HGSProduct struct {
	ProductID         string
	VehicleClassID    string
	Plate             string
	AccountUnitNum    string
	AccountNum        string // set when the tag is tied to an account
	CardNumber        string // set (masked) when tied to a credit card
	Email             string
	AutoPaymentAmount decimal.Decimal
	MinPaymentAmount  decimal.Decimal
	MobilePhone       string
	Balance           decimal.Decimal
	StatusText        string
}

// HGSTransaction is one passage (Debit) or top-up (Credit). Amounts are
// positive; DebitCredit says which way they go.
type HGSTransaction struct {
	ProductID         string
	Amount            decimal.Decimal
	DebitCredit       string
	EntranceTS        time.Time
	DepartureTS       time.Time // zero for top-ups
	EntranceMotorway  string
	DepartureMotorway string
	Explanation       string
	// Raw is the row exactly as the bank sent it, kept for audit; it plays
	// no part in Key.
	Raw json.RawMessage
}

// Key is the transaction's identity for de-duplication across syncs
// (CONTRACTS.md §2.5): a hex SHA-256 over productId, entranceTs,
// departureTs, transactionAmount, debitCreditInd and explanationText35,
// with times in UTC and the amount normalised, so that "12.5" and "12.50"
// or a change of zone offset do not make a duplicate.
func (t HGSTransaction) Key() string {
	ts := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339Nano)
	}
	h := sha256.New()
	for _, f := range []string{t.ProductID, ts(t.EntranceTS), ts(t.DepartureTS), t.Amount.String(), t.DebitCredit, t.Explanation} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HGSResult is the answer of the transaction list.
type HGSResult struct {
	Product      HGSProduct
	Transactions []HGSTransaction
}

type txnQueryWire struct {
	ProductID       string          `json:"productId"`
	DebitCreditInd  string          `json:"debitCreditInd,omitempty"`
	SortOption      string          `json:"sortOption,omitempty"`
	ScrollAmount    int             `json:"scrollAmount,omitempty"`
	OrderByFieldNum int             `json:"orderByFieldNum"`
	StartInstanceID string          `json:"startInstanceId"`
	StopInstanceID  string          `json:"stopInstanceId"`
	AuthorityList   []authorityOnly `json:"authorityList"`
}

type authorityOnly struct {
	AuthorityID string `json:"authorityID"`
}

type hgsWire struct {
	ProductInfo *struct {
		ProductID      flexString      `json:"productId"`
		VehicleClassID flexString      `json:"vehicleClassId"`
		Plate          string          `json:"plateTextValue"`
		AccountUnitNum flexString      `json:"accountUnitNum"`
		AccountNum     flexString      `json:"accountNum"`
		CardNumber     flexString      `json:"cardNumber"`
		Email          string          `json:"emailAddressTextValue"`
		AutoPayment    decimal.Decimal `json:"autoPymntAmnt"`
		MinPayment     decimal.Decimal `json:"minPaymentAmnt"`
		MobilePhone    flexString      `json:"mobilePhoneNum"`
		Balance        decimal.Decimal `json:"balanceAmount"`
		Status         string          `json:"statuText20"`
	} `json:"hgsProductInfo"`
	TxnList []txnWire `json:"txnList"`
}

// txnWire is one txnList row; it keeps its raw bytes for audit.
type txnWire struct {
	ProductID      flexString      `json:"productId"`
	Amount         decimal.Decimal `json:"transactionAmount"`
	DebitCreditInd string          `json:"debitCreditInd"`
	EntranceTs     string          `json:"entranceTs"`
	DepartureTs    string          `json:"departureTs"`
	EntranceMtrwy  string          `json:"entrancMtrwyTextValue"`
	DepartureMtrwy string          `json:"departrMtrwyTextValue"`
	Explanation    string          `json:"explanationText35"`
	raw            json.RawMessage
}

// UnmarshalJSON reads the row and keeps a copy of its bytes.
func (t *txnWire) UnmarshalJSON(b []byte) error {
	type plain txnWire
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = txnWire(p)
	t.raw = append(json.RawMessage(nil), b...)
	return nil
}

// HGSTransactions lists one product's movements under the consent. The bank
// counts the call against the consent's frequencyPerDay (429 beyond it).
func (c *Client) HGSTransactions(ctx context.Context, consentID, accessToken string, q TxnQuery) (HGSResult, error) {
	body := txnQueryWire{ProductID: q.ProductID, DebitCreditInd: q.DebitCredit, ScrollAmount: q.Limit,
		OrderByFieldNum: int(q.Kind), StartInstanceID: isoDate(q.Start), StopInstanceID: isoDate(q.End)}
	if body.OrderByFieldNum == 0 {
		body.OrderByFieldNum = int(TxnBoth)
	}
	if q.Descending {
		body.SortOption = sortDescending
	}
	auths := q.Authorities
	if auths == nil {
		auths = []string{AuthorityProductInfo, AuthorityTransactionInfo}
	}
	for _, a := range auths {
		body.AuthorityList = append(body.AuthorityList, authorityOnly{a})
	}
	h := c.consentHeaders(consentID, accessToken)
	var out hgsWire
	var bad string
	err := c.do(ctx, request{op: "hgs_transactions", method: http.MethodPost, path: TxnListPath, header: h,
		body: jsonBody(body), contentType: "application/json",
		check: func() string {
			for _, t := range out.TxnList {
				if _, ok := parseTimestamp(t.EntranceTs); !ok {
					bad = "transaction has an unreadable entranceTs"
				}
			}
			return bad
		}}, &out)
	if err != nil {
		return HGSResult{}, wrap("hgs transactions", err)
	}
	var res HGSResult
	if p := out.ProductInfo; p != nil {
		res.Product = HGSProduct{ProductID: string(p.ProductID), VehicleClassID: string(p.VehicleClassID), Plate: strings.TrimSpace(p.Plate),
			AccountUnitNum: string(p.AccountUnitNum), AccountNum: string(p.AccountNum), CardNumber: string(p.CardNumber),
			Email: p.Email, AutoPaymentAmount: p.AutoPayment, MinPaymentAmount: p.MinPayment, MobilePhone: string(p.MobilePhone),
			Balance: p.Balance, StatusText: strings.TrimSpace(p.Status)}
		if res.Product.AccountNum == "0" {
			res.Product.AccountNum = ""
		}
	}
	for _, t := range out.TxnList {
		tx := HGSTransaction{ProductID: string(t.ProductID), Amount: t.Amount, DebitCredit: strings.ToUpper(strings.TrimSpace(t.DebitCreditInd)),
			EntranceMotorway: strings.TrimSpace(t.EntranceMtrwy), DepartureMotorway: strings.TrimSpace(t.DepartureMtrwy),
			Explanation: strings.TrimSpace(t.Explanation), Raw: t.raw}
		tx.EntranceTS, _ = parseTimestamp(t.EntranceTs)
		tx.DepartureTS, _ = parseTimestamp(t.DepartureTs)
		if tx.ProductID == "" {
			tx.ProductID = q.ProductID
		}
		res.Transactions = append(res.Transactions, tx)
	}
	return res, nil
}
