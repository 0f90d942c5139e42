package handlers

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"

	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/store"
)

// utf8BOM makes spreadsheet programs read the file as UTF-8 (ç, ğ, ı, ş…).
const utf8BOM = "\ufeff"

// exportMovements sends the filtered movements of the period as CSV, every
// row rather than one page, streamed from the database. decimal=comma (the
// Turkish default) writes 1550,00 with ";" between fields, as Excel set to
// Turkish expects; decimal=dot writes 1550.00 with ",". A form with errors
// goes back to the page, which shows them.
func (h *Handler) exportMovements(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	accounts, err := h.store.BankAccounts(ctx)
	if err != nil {
		h.serverError(w, r, errorf("export movements", err))
		return
	}
	q := r.URL.Query()
	_, mq, errs, chosen := parseMovementQuery(lang, q, accounts, h.now())
	if !chosen || len(errs) > 0 {
		q.Del("decimal")
		h.redirect(w, r, "/movements?"+q.Encode())
		return
	}
	comma := q.Get("decimal") != "dot"
	if q.Get("decimal") == "" {
		comma = lang == i18n.TR
	}
	name := fmt.Sprintf("hareketler-%s-%s-%s.csv", mq.Account.Number, isoDay(mq.From), isoDay(mq.To))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(utf8BOM)
	cw := csv.NewWriter(bw)
	if comma {
		cw.Comma = ';'
	}
	num := func(d decimal.Decimal) string {
		s := d.StringFixed(2)
		if comma {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	cw.Write([]string{lang.T("mov.date"), lang.T("mov.txid"), lang.T("mov.direction"), lang.T("mov.amount"),
		lang.T("mov.balance"), lang.T("mov.currency"), lang.T("mov.code"), lang.T("mov.name"), lang.T("mov.description")})
	err = h.store.EachMovement(ctx, mq.Filter, func(m store.Movement) error {
		return cw.Write([]string{
			m.BookedAt.In(i18n.Istanbul).Format("2006-01-02 15:04:05"), m.TransactionID, lang.T("mov.direction." + m.Direction),
			num(m.Amount), num(m.Balance), m.Currency, m.Code, csvSafe(m.Name), csvSafe(m.Description),
		})
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// The status line is gone with the first bytes; the log says why
		// the file ended early.
		h.log.Error("export movements", "request_id", requestID(ctx), "err", err)
	}
}

// csvSafe keeps a spreadsheet from reading text as a formula: a bank
// description starting with = + - or @ is prefixed with an apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
