package handlers

import (
	"bufio"
	"encoding/csv"
	"net/http"
	"strings"

	"github.com/shopspring/decimal"

	"kasa/i18n"
)

// csvExport writes a CSV download that spreadsheets open correctly: UTF-8
// with a byte-order mark (so Excel shows ç, ğ, ı, ş), amounts with the
// decimal separator the user chose — a comma (the Turkish default) puts ";"
// between fields — and text cells that a spreadsheet would run as a formula
// prefixed with an apostrophe.
type csvExport struct {
	bw    *bufio.Writer
	w     *csv.Writer
	comma bool
}

// startCSV sends the download headers and the byte-order mark. The decimal
// separator comes from ?decimal=comma|dot, else from the language.
func startCSV(w http.ResponseWriter, r *http.Request, filename string) *csvExport {
	comma := i18n.FromContext(r.Context()) == i18n.TR
	switch r.URL.Query().Get("decimal") {
	case "comma":
		comma = true
	case "dot":
		comma = false
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	// Three bytes into an empty 64 KiB buffer cannot fail; a failed write to
	// w later sticks in bw, and Close reports it.
	_, _ = bw.WriteString("\ufeff")
	cw := csv.NewWriter(bw)
	if comma {
		cw.Comma = ';'
	}
	return &csvExport{bw: bw, w: cw, comma: comma}
}

// Num formats an amount with two decimals and the chosen separator.
func (c *csvExport) Num(d decimal.Decimal) string {
	s := d.StringFixed(2)
	if c.comma {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Text makes a text cell safe to open: a leading = + - @ tab or CR would
// make a spreadsheet evaluate it, so it gets an apostrophe.
func (c *csvExport) Text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Write writes one row.
func (c *csvExport) Write(cells ...string) error { return c.w.Write(cells) }

// Close flushes what is buffered and reports the first write error.
func (c *csvExport) Close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}
