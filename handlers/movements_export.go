package handlers

import (
	"fmt"
	"net/http"

	"kasa/i18n"
	"kasa/movements"
)

// exportMovements sends the filtered movements of the period as CSV, every
// row rather than one page, streamed from the database. decimal=comma (the
// Turkish default) writes 1550,00 with ";" between fields, as Excel set to
// Turkish expects; decimal=dot writes 1550.00 with ",". A form with errors
// goes back to the page, which shows them; so does a period not fully
// stored, with a message, rather than a file that looks complete.
func (h *Handler) exportMovements(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	accounts, err := h.app.Movements.BankAccounts(ctx)
	if err != nil {
		h.serverError(w, r, errorf("export movements", err))
		return
	}
	q := r.URL.Query()
	_, mq, errs, chosen := parseMovementQuery(lang, q, accounts, h.now())
	textErrors(r, errs)
	if !chosen || len(errs) > 0 {
		q.Del("decimal")
		h.redirect(w, r, "/movements?"+q.Encode())
		return
	}
	// A file of a period only partly stored would look complete and give
	// wrong totals: the page says which days are missing and how to fetch them.
	if gaps := mq.Account.Gaps(mq.From, mq.To, h.now(), movements.ShownFresh); len(gaps) > 0 {
		q.Del("decimal")
		h.flash(w, r, "error", lang.T("mov.export.incomplete"))
		h.redirect(w, r, "/movements?"+withoutSync(q).Encode())
		return
	}
	c := startCSV(w, r, fmt.Sprintf("hareketler-%s-%s-%s.csv", mq.Account.Number, isoDay(mq.From), isoDay(mq.To)))
	err = c.Write(lang.T("mov.date"), lang.T("mov.txid"), lang.T("mov.direction"), lang.T("mov.amount"),
		lang.T("mov.balance"), lang.T("mov.currency"), lang.T("mov.code"), lang.T("mov.name"), lang.T("mov.description"))
	if err == nil {
		err = h.app.Movements.EachMovement(ctx, mq.Filter, func(m movements.Movement) error {
			return c.Write(m.BookedAt.In(i18n.Istanbul).Format("2006-01-02 15:04:05"), c.Text(m.TransactionID), lang.T("mov.direction."+m.Direction),
				c.Num(m.Amount), c.Num(m.Balance), c.Text(m.Currency), c.Text(m.Code), c.Text(m.Name), c.Text(m.Description))
		})
	}
	if err == nil {
		err = c.Close()
	}
	if err != nil {
		// The status line is gone with the first bytes; the log says why
		// the file ended early.
		h.log.Error("export movements", "request_id", requestID(ctx), "err", err)
	}
}
