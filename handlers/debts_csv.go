package handlers

import (
	"encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

// debtCSV writes debts as CSV rows in the user's language.
type debtCSV struct {
	w     *csv.Writer
	lang  i18n.Lang
	comma bool
}

func newDebtCSV(w io.Writer, lang i18n.Lang, comma bool) *debtCSV {
	io.WriteString(w, "\uFEFF")
	cw := csv.NewWriter(w)
	if comma {
		cw.Comma = ';' // a comma is the decimal separator
	}
	return &debtCSV{w: cw, lang: lang, comma: comma}
}

func (c *debtCSV) header() error {
	var cols []string
	for _, k := range []string{"erpCode", "documentNo", "documentType", "agentErpCode", "currentAccountErpCode", "currencyId",
		"amount", "paidAmount", "outstanding", "transactionDate", "dueDate", "state", "active", "finrotaId", "description"} {
		cols = append(cols, c.lang.T("debts.f."+k))
	}
	return c.w.Write(cols)
}

func (c *debtCSV) row(d store.Debt) error {
	active := c.lang.T("common.no")
	if d.IsActive {
		active = c.lang.T("common.yes")
	}
	finrotaID := ""
	if d.FinrotaID != nil {
		finrotaID = *d.FinrotaID
	}
	return c.w.Write([]string{
		cell(d.ErpCode), cell(d.DocumentNo), views.DocTypeLabel(c.lang, d.DocumentType), cell(d.AgentErpCode),
		cell(d.CurrentAccountErpCode), d.CurrencyID, c.num(d.Amount), c.num(d.PaidAmount), c.num(d.Outstanding()),
		d.TransactionDate.Format(time.DateOnly), d.DueDate.Format(time.DateOnly), c.lang.T("debts.state." + d.State),
		active, finrotaID, cell(d.Description),
	})
}

func (c *debtCSV) num(d decimal.Decimal) string {
	s := d.StringFixed(2)
	if c.comma {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func (c *debtCSV) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// cell keeps a spreadsheet from running typed text as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
