package handlers

import (
	"errors"
	"sort"
	"strings"

	"kasa/i18n"
)

// CheckFirstAdmin applies the setup form's rules to the first administrator
// given at start (ADMIN_EMAIL, ADMIN_PASSWORD), so that the environment
// cannot create an account the form would refuse. It returns nil when both
// are acceptable, otherwise an error that names each broken rule in Turkish
// and English.
func CheckFirstAdmin(email, password string) error {
	var msgs []string
	for _, lang := range []i18n.Lang{i18n.TR, i18n.EN} {
		errs := validateUser(lang, email, "Admin")
		validatePassword(lang, errs, "password", password, password)
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			msgs = append(msgs, envNameOf(k)+": "+errs[k])
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, " / "))
}

// envNameOf names the environment variable a setup-form field comes from.
func envNameOf(field string) string {
	switch field {
	case "email":
		return "ADMIN_EMAIL"
	case "password", "password_confirm":
		return "ADMIN_PASSWORD"
	}
	return field
}
