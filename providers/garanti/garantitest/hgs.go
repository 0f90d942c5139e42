package garantitest

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"kasa/tz"
)

// txnListBody is the HGS transaction list request. productId is taken raw
// because a list of products is a request the bank answers with E047.
type txnListBody struct {
	ProductID       json.RawMessage `json:"productId"`
	DebitCreditInd  string          `json:"debitCreditInd"`
	SortOption      string          `json:"sortOption"`
	ScrollAmount    int             `json:"scrollAmount"`
	OrderByFieldNum int             `json:"orderByFieldNum"`
	StartInstanceID string          `json:"startInstanceId"`
	StopInstanceID  string          `json:"stopInstanceId"`
	AuthorityList   []struct {
		AuthorityID string `json:"authorityID"`
	} `json:"authorityList"`
}

type txnListResult struct {
	ProductInfo *productInfo `json:"hgsProductInfo,omitempty"`
	TxnList     []txnObject  `json:"txnList"`
}

type productInfo struct {
	ProductID      string `json:"productId"`
	VehicleClassID string `json:"vehicleClassId"`
	Plate          string `json:"plateTextValue"`
	AccountUnitNum int64  `json:"accountUnitNum"`
	AccountNum     int64  `json:"accountNum,omitempty"`
	CardNumber     string `json:"cardNumber,omitempty"`
	Email          string `json:"emailAddressTextValue"`
	AutoPayment    amount `json:"autoPymntAmnt"`
	MinPayment     amount `json:"minPaymentAmnt"`
	MobilePhone    int64  `json:"mobilePhoneNum"`
	Balance        amount `json:"balanceAmount"`
	Status         string `json:"statuText20"`
}

type txnObject struct {
	ProductID        string `json:"productId"`
	Amount           amount `json:"transactionAmount"`
	DebitCreditInd   string `json:"debitCreditInd"`
	EntranceTs       string `json:"entranceTs"`
	DepartureTs      string `json:"departureTs,omitempty"`
	EntranceLen      int    `json:"entrancMtrwyTextLength"`
	EntranceMotorway string `json:"entrancMtrwyTextValue"`
	DepartureLen     int    `json:"departrMtrwyTextLength"`
	DepartureMtrwy   string `json:"departrMtrwyTextValue"`
	Explanation      string `json:"explanationText35"`
}

// amount marshals as a bare JSON number with two decimals ("Double" in the
// seed) without touching decimal's package-wide setting.
type amount decimal.Decimal

// MarshalJSON implements json.Marshaler.
func (a amount) MarshalJSON() ([]byte, error) {
	return []byte(decimal.Decimal(a).StringFixed(2)), nil
}

func (s *Server) handleTxnList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _, ok := s.consentCall(w, r, true)
	if !ok {
		return
	}
	w.Header().Set("Consent-ID", c.id)
	if len(s.hgsFails) > 0 {
		code := s.hgsFails[0]
		s.hgsFails = s.hgsFails[1:]
		fail(w, r, code)
		return
	}
	var b txnListBody
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&b); err != nil {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: body is not valid JSON")
		return
	}
	productID, code := oneProduct(b.ProductID)
	if code != "" {
		fail(w, r, code)
		return
	}
	if len(b.AuthorityList) == 0 {
		fail(w, r, "E053")
		return
	}
	wantInfo, wantTxns := false, false
	for _, a := range b.AuthorityList {
		switch a.AuthorityID {
		case AuthorityProductInfo:
			wantInfo = true
		case AuthorityTransactionInfo:
			wantTxns = true
		default:
			fail(w, r, "E054")
			return
		}
	}
	if b.DebitCreditInd != "" && b.DebitCreditInd != "A" && b.DebitCreditInd != "B" {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: debitCreditInd must be A or B")
		return
	}
	if b.OrderByFieldNum < 0 || b.OrderByFieldNum > 3 || b.ScrollAmount < 0 {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: orderByFieldNum must be 1, 2 or 3 and scrollAmount not negative")
		return
	}
	desc, ok := sortDescending(b.SortOption)
	if !ok {
		writeAPIError(w, r, http.StatusBadRequest, "", "Invalid Request: sortOption must be empty, A or D")
		return
	}
	from, to, code := s.txnRange(b.StartInstanceID, b.StopInstanceID, c)
	if code != "" {
		fail(w, r, code)
		return
	}
	if code := c.productAccess(productID, wantInfo, wantTxns); code != "" {
		fail(w, r, code)
		return
	}
	if !s.dataCall(w, r, c) {
		return
	}
	p := s.products[productID]
	var out txnListResult
	if wantInfo {
		out.ProductInfo = &productInfo{ProductID: p.ProductID, VehicleClassID: p.VehicleClassID, Plate: p.Plate,
			AccountUnitNum: p.AccountUnitNum, AccountNum: p.AccountNum, CardNumber: p.CardNumber, Email: p.Email,
			AutoPayment: amount(p.AutoPaymentAmount), MinPayment: amount(p.MinPaymentAmount), MobilePhone: p.MobilePhone,
			Balance: amount(p.Balance), Status: p.Status}
	}
	out.TxnList = []txnObject{}
	if wantTxns {
		out.TxnList = s.selectTxns(productID, from, to, b, desc)
	}
	writeJSON(w, http.StatusOK, out)
}

// FailNextTxnList makes the next txnlist calls (after their headers and
// token are checked) answer the given back-end codes in turn, as the bank
// does when its HGS systems fail: E058, E059, E060 or E061.
func (s *Server) FailNextTxnList(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hgsFails = append(s.hgsFails, codes...)
}

// oneProduct reads productId, which must be exactly one product.
func oneProduct(raw json.RawMessage) (string, string) {
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		var many []string
		if json.Unmarshal(raw, &many) == nil && len(many) > 1 {
			return "", "E047"
		}
		if len(many) == 1 {
			id = many[0]
		}
	}
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return "", "E046"
	case strings.ContainsAny(id, ",; "):
		return "", "E047"
	case len(id) > maxProductIDLen:
		return "", "E005"
	}
	return id, ""
}

// sortDescending reads sortOption: empty or "A" ascending, "D" descending.
func sortDescending(opt string) (bool, bool) {
	switch strings.ToUpper(strings.TrimSpace(opt)) {
	case "", "A", "ASC":
		return false, true
	case "D", "DESC":
		return true, true
	}
	return false, false
}

// txnRange checks startInstanceId and stopInstanceId: ISO dates, in order,
// no more than a year apart, and inside the consent's tranBeginDate and
// tranEndDate ("if a date less than begindate is requested, it is rejected").
func (s *Server) txnRange(start, stop string, c *consent) (time.Time, time.Time, string) {
	if strings.TrimSpace(start) == "" || strings.TrimSpace(stop) == "" {
		return time.Time{}, time.Time{}, "E051"
	}
	from, ok1 := parseDate(start)
	to, ok2 := parseDate(stop)
	switch {
	case !ok1 || !ok2:
		return from, to, "E049"
	case from.After(to):
		return from, to, "E048"
	case to.After(from.AddDate(1, 0, 0)):
		return from, to, "E050"
	case from.Before(c.tranBegin) || to.After(c.tranEnd):
		return from, to, "E051"
	}
	return from, to, ""
}

// productAccess checks what the consent grants for the product.
func (c *consent) productAccess(productID string, wantInfo, wantTxns bool) string {
	var held, info, txns bool
	for _, g := range c.grants {
		if g.productID != productID || g.revoked {
			continue
		}
		held = true
		if g.flag && g.authorityID == AuthorityProductInfo {
			info = true
		}
		if g.flag && g.authorityID == AuthorityTransactionInfo {
			txns = true
		}
	}
	switch {
	case !held:
		return "E052"
	case !info && !txns:
		return "E055"
	case wantTxns && !txns:
		return "E056"
	case wantInfo && !info:
		return "E057"
	}
	return ""
}

func (s *Server) selectTxns(productID string, from, to time.Time, b txnListBody, desc bool) []txnObject {
	end := to.AddDate(0, 0, 1)
	var picked []txn
	for _, t := range s.txns[productID] {
		if t.EntranceTS.Before(from) || !t.EntranceTS.Before(end) {
			continue
		}
		if b.DebitCreditInd != "" && t.DebitCreditInd != b.DebitCreditInd {
			continue
		}
		passage := t.DebitCreditInd == "B"
		if (b.OrderByFieldNum == 1 && !passage) || (b.OrderByFieldNum == 2 && passage) {
			continue
		}
		picked = append(picked, t)
	}
	sortTxns(picked, desc)
	if b.ScrollAmount > 0 && len(picked) > b.ScrollAmount {
		picked = picked[:b.ScrollAmount]
	}
	out := make([]txnObject, 0, len(picked))
	for _, t := range picked {
		o := txnObject{ProductID: t.ProductID, Amount: amount(t.Amount), DebitCreditInd: t.DebitCreditInd,
			EntranceTs: t.EntranceTS.In(tz.Istanbul).Format(tsLayout), Explanation: truncate(t.Explanation, 35),
			EntranceMotorway: t.EntranceMotorway, EntranceLen: utf8.RuneCountInString(t.EntranceMotorway),
			DepartureMtrwy: t.DepartureMotorway, DepartureLen: utf8.RuneCountInString(t.DepartureMotorway)}
		if !t.DepartureTS.IsZero() {
			o.DepartureTs = t.DepartureTS.In(tz.Istanbul).Format(tsLayout)
		}
		out = append(out, o)
	}
	return out
}

func sortTxns(list []txn, desc bool) {
	sort.SliceStable(list, func(i, j int) bool {
		if desc {
			return list[j].EntranceTS.Before(list[i].EntranceTS)
		}
		return list[i].EntranceTS.Before(list[j].EntranceTS)
	})
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
