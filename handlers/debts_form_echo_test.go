package handlers

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kasa/i18n"
	"kasa/store"
)

// TestDebtFormEchoTakesNoRoomWhileEmpty: on a fresh form the amount echoes
// are there for htmx to fill but empty (the stylesheet hides an empty echo,
// so no blank line pushes the hint down), and an echo stands where the
// field's error does, after the hint.
func TestDebtFormEchoTakesNoRoomWhileEmpty(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c, _ := e.login(store.RoleOperator)
	css, err := os.ReadFile("../static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(css), ".field .echo:empty { display: none; }") {
		t.Error("the stylesheet does not hide an empty echo")
	}
	resp, doc := e.get(c, "/debts/new", "Accept-Language", "tr")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("new debt form: %d", resp.StatusCode)
	}
	for _, f := range []string{"amount", "paidAmount"} {
		echo := doc.Find(`#echo-` + f)
		if echo.Length() != 1 {
			t.Fatalf("%s: no echo for htmx to fill", f)
		}
		if echo.Contents().Length() != 0 {
			t.Errorf("%s: the empty echo holds %q, so :empty does not hide it", f, echo.Text())
		}
		order := fieldOrder(echo.Parent())
		if want := "hint,echo"; !strings.Contains(order, want) {
			t.Errorf("%s: field parts %q, want the echo after the hint", f, order)
		}
	}

	// After a refused save the field's error follows the hint, where the
	// echo shows a refusal read while typing.
	form := validDebtForm(e, "T-ECHO-"+randomSuffix())
	form.Set("amount", "1550.00")
	form.Set("documentNo", "")
	_, doc = e.postForm(c, "/debts", form, "Accept-Language", "tr")
	if got := fieldError(doc, "documentNo"); got != i18n.TR.T("debts.v.required") {
		t.Fatalf("documentNo error %q", got)
	}
	if got := fieldOrder(doc.Find(`#echo-amount`).Parent()); !strings.Contains(got, "hint,echo") {
		t.Errorf("amount field parts after the post %q", got)
	}
	form.Set("amount", "1,555")
	_, doc = e.postForm(c, "/debts", form, "Accept-Language", "tr")
	if got := fieldOrder(doc.Find(`#echo-amount`).Parent()); !strings.Contains(got, "hint,echo,error") {
		t.Errorf("refused amount field parts %q, want the error after the hint like the echo", got)
	}
}

// fieldOrder names a field's parts in document order: hint, echo, error.
func fieldOrder(field *goquery.Selection) string {
	var parts []string
	field.Children().Each(func(_ int, s *goquery.Selection) {
		switch {
		case s.HasClass("hint"):
			parts = append(parts, "hint")
		case s.HasClass("echo"):
			parts = append(parts, "echo")
		case s.HasClass("error"):
			parts = append(parts, "error")
		}
	})
	return strings.Join(parts, ",")
}
