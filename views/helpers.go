package views

import (
	"github.com/a-h/templ"

	"kasa/i18n"
)

func langs() []i18n.Lang { return i18n.Langs }

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// currentPage marks the navigation link of the page being shown.
func currentPage(on bool) templ.Attributes {
	if on {
		return templ.Attributes{"aria-current": "page"}
	}
	return templ.Attributes{}
}
