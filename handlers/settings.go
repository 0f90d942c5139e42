package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"kasa/i18n"
	"kasa/views"
)

// SettingGroups are the provider settings admins edit, one group per
// provider. Each key can be seeded from the environment variable named by
// EnvName. Secrets are never shown back.
var SettingGroups = []views.SettingGroup{
	{Title: "settings.finrota", Fields: []views.SettingField{
		{Key: "finrota.base_url", Label: "settings.baseurl", URL: true},
		{Key: "finrota.api_key", Label: "settings.apikey"},
		{Key: "finrota.secret_key", Label: "settings.secretkey", Secret: true},
	}},
	{Title: "settings.garanti", Fields: []views.SettingField{
		{Key: "garanti.base_url", Label: "settings.baseurl", URL: true},
		{Key: "garanti.client_id", Label: "settings.clientid"},
		{Key: "garanti.client_secret", Label: "settings.clientsecret", Secret: true},
		{Key: "garanti.client_id_portal", Label: "settings.clientidportal"},
		{Key: "garanti.tpp_id", Label: "settings.tppid"},
		{Key: "garanti.tpp_name", Label: "settings.tppname"},
	}},
	{Title: "settings.vakifbank", Fields: []views.SettingField{
		{Key: "vakifbank.base_url", Label: "settings.baseurl", URL: true},
		{Key: "vakifbank.client_id", Label: "settings.clientid"},
		{Key: "vakifbank.client_secret", Label: "settings.clientsecret", Secret: true},
		{Key: "vakifbank.consent_id", Label: "settings.consentid"},
		{Key: "vakifbank.resource", Label: "settings.resource"},
		{Key: "vakifbank.known_accounts", Label: "settings.knownaccounts"},
	}},
}

// EnvName is the environment variable that seeds a setting:
// "garanti.client_id" → GARANTI_CLIENT_ID.
func EnvName(key string) string { return strings.ToUpper(strings.ReplaceAll(key, ".", "_")) }

// checkSetting applies a setting's rules to a typed value: a base URL must
// be http(s) with a host (its trailing slash is dropped), and the Garanti
// identifiers the bank limits (E014–E017) must fit. It returns the value to
// store, or the message that refuses it in lang.
func checkSetting(lang i18n.Lang, f views.SettingField, v string) (string, string) {
	if f.URL && v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v, lang.T("settings.url.invalid")
		}
		v = strings.TrimRight(v, "/")
	}
	if !f.Secret {
		errs := views.Errors{}
		if appLimitErrors(lang, map[string]string{f.Key: v}, errs); errs[f.Key] != "" {
			return v, errs[f.Key]
		}
	}
	return v, ""
}

// CheckSeededSettings applies the Settings page's rules to the values the
// environment seeds (keyed by setting key), so a value the page or the bank
// would refuse stops the start with a message naming its variable, rather
// than failing at the first provider call. It returns the values to store.
func CheckSeededSettings(values map[string]string) (map[string]string, error) {
	out := map[string]string{}
	var problems []string
	for _, g := range SettingGroups {
		for _, f := range g.Fields {
			v, ok := values[f.Key]
			if !ok {
				continue
			}
			v, msg := checkSetting(i18n.EN, f, strings.TrimSpace(v))
			if msg != "" {
				problems = append(problems, EnvName(f.Key)+": "+msg)
				continue
			}
			out[f.Key] = v
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("provider settings in the environment: " + strings.Join(problems, "; "))
	}
	return out, nil
}

func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request) {
	values, err := h.store.Settings(r.Context())
	if err != nil {
		h.serverError(w, r, errorf("settings", err))
		return
	}
	h.render(w, r, http.StatusOK, views.SettingsPage(SettingGroups, visibleSettings(values), nil))
}

// visibleSettings keeps the values a page may show: secrets become a mark
// that they are set.
func visibleSettings(values map[string]string) map[string]string {
	out := map[string]string{}
	for _, g := range SettingGroups {
		for _, f := range g.Fields {
			v, ok := values[f.Key]
			switch {
			case !ok || v == "":
			case f.Secret:
				out[f.Key] = views.SecretSet
			default:
				out[f.Key] = v
			}
		}
	}
	return out
}

func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	current, err := h.store.Settings(ctx)
	if err != nil {
		h.serverError(w, r, errorf("settings", err))
		return
	}
	changes := map[string]string{}
	errs := views.Errors{}
	shown := visibleSettings(current)
	for _, g := range SettingGroups {
		for _, f := range g.Fields {
			v := strings.TrimSpace(r.PostFormValue(f.Key))
			if f.Secret {
				if v == "" {
					continue // empty keeps the stored secret
				}
			} else {
				shown[f.Key] = v
			}
			v, msg := checkSetting(lang, f, v)
			if msg != "" {
				errs[f.Key] = msg
				continue
			}
			if current[f.Key] != v {
				changes[f.Key] = v
			}
		}
	}
	textErrors(r, errs)
	if len(errs) > 0 {
		// Secrets are never written back into a page: ask for the ones just
		// typed again rather than dropping them silently.
		for _, g := range SettingGroups {
			for _, f := range g.Fields {
				if f.Secret && strings.TrimSpace(r.PostFormValue(f.Key)) != "" && errs[f.Key] == "" {
					errs[f.Key] = lang.T("settings.secret.retype")
				}
			}
		}
		h.render(w, r, http.StatusUnprocessableEntity, views.SettingsPage(SettingGroups, shown, errs))
		return
	}
	admin := currentUser(ctx)
	// The tokens of a provider whose settings changed are dropped and the
	// change is audited by key, in the same transaction.
	if err := h.store.UpdateSettings(ctx, admin.ID, changes); err != nil {
		h.serverError(w, r, errorf("save settings", err))
		return
	}
	h.flash(w, r, "success", lang.T("settings.saved"))
	h.redirect(w, r, "/settings")
}
