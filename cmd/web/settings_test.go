package main

import (
	"context"
	"strings"
	"testing"

	"kasa/store/storetest"
)

// A provider setting seeded from the environment follows the Settings
// page's rules: a value the page (or the bank) would refuse stops the start
// with a message naming the variable, instead of surfacing as a provider
// error at the first call.
func TestSeededSettingsFollowTheSettingsRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct{ env, value, want string }{
		{"GARANTI_TPP_ID", strings.Repeat("T", 70), "GARANTI_TPP_ID"},
		{"GARANTI_CLIENT_ID_PORTAL", strings.Repeat("P", 65), "64"},
		{"GARANTI_TPP_NAME", strings.Repeat("Ş", 101), "GARANTI_TPP_NAME"},
		{"FINROTA_BASE_URL", "ftp://gw.example", "FINROTA_BASE_URL"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Parallel()
			st := storetest.New(t)
			err := seedSettings(ctx, st, map[string]string{tc.env: tc.value})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			values, err := st.Settings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(values) != 0 {
				t.Fatalf("settings stored after a refused start: %v", values)
			}
		})
	}
	t.Run("accepted", func(t *testing.T) {
		t.Parallel()
		st := storetest.New(t)
		if err := seedSettings(ctx, st, map[string]string{"GARANTI_TPP_ID": strings.Repeat("T", 64), "GARANTI_TPP_NAME": "Kasa A.Ş."}); err != nil {
			t.Fatal(err)
		}
		values, err := st.Settings(ctx)
		if err != nil || values["garanti.tpp_id"] != strings.Repeat("T", 64) {
			t.Fatalf("settings %v, %v", values, err)
		}
	})
}
