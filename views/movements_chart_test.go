package views

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/movements"
)

// TestBalanceChartKeepsExtremes draws 800 days (more than the chart's 400
// points) with a one-day peak and a one-day trough on days the thinning by
// bucket would pass over: Highest and Lowest are the series' own, and the
// line still reaches the top and the bottom of the drawing area.
func TestBalanceChartKeepsExtremes(t *testing.T) {
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	series := make([]movements.BalancePoint, 800)
	for i := range series {
		series[i] = movements.BalancePoint{Day: start.AddDate(0, 0, i), Balance: decimal.NewFromInt(int64(1000 + i%7))}
	}
	series[300].Balance = decimal.RequireFromString("98765.43")
	series[501].Balance = decimal.RequireFromString("-250.10")

	m, ok := balanceChartModel(series)
	if !ok {
		t.Fatal("no chart")
	}
	if !m.Max.Equal(series[300].Balance) || !m.Min.Equal(series[501].Balance) {
		t.Fatalf("highest %s, lowest %s; want %s and %s", m.Max, m.Min, series[300].Balance, series[501].Balance)
	}
	pts := strings.Fields(m.Points)
	if len(pts) > chartMaxPoints || len(pts) < 100 {
		t.Fatalf("%d points drawn", len(pts))
	}
	var top, bottom bool
	prevX := -1.0
	for _, p := range pts {
		xs, ys, _ := strings.Cut(p, ",")
		x, _ := strconv.ParseFloat(xs, 64)
		y, _ := strconv.ParseFloat(ys, 64)
		if x < prevX {
			t.Fatalf("points out of date order at %s", p)
		}
		prevX = x
		top = top || y == chartTop
		bottom = bottom || y == chartBottom
	}
	if !top || !bottom {
		t.Errorf("the line reaches the top %v, the bottom %v", top, bottom)
	}
	if !strings.HasPrefix(pts[0], "8.0,") || !strings.HasPrefix(pts[len(pts)-1], "792.0,") {
		t.Errorf("the line runs from %s to %s, not across the chart", pts[0], pts[len(pts)-1])
	}
	ctx := i18n.WithLang(context.Background(), i18n.EN)
	if label := chartLabel(ctx, m, "TRY"); !strings.Contains(label, "₺98,765.43") || !strings.Contains(label, "-₺250.10") {
		t.Errorf("label %q", label)
	}
}

// TestSyncProblemExplainsCredentials: the bank's OAuth errors point an
// admin to the settings instead of "try again later".
func TestSyncProblemExplainsCredentials(t *testing.T) {
	for _, l := range []i18n.Lang{i18n.TR, i18n.EN} {
		ctx := i18n.WithLang(context.Background(), l)
		for code, key := range map[string]string{
			"invalid_client": "vbauth.invalid_client", "invalid_grant": "vbauth.invalid_grant", "invalid_scope": "vbauth.invalid_scope",
		} {
			if got := SyncProblem(ctx, code); got != l.T(key) || got == l.T("acbh.unknown", code) {
				t.Errorf("%s %s: %q", l, code, got)
			}
		}
		if got := SyncProblem(ctx, "unauthorized_client"); got != l.T("vbauth.other", "unauthorized_client") {
			t.Errorf("%s unauthorized_client: %q", l, got)
		}
		if got := SyncProblem(ctx, "APIGW000500"); got != l.T("acbh.unknown", "APIGW000500") {
			t.Errorf("%s gateway code: %q", l, got)
		}
	}
	for _, key := range []string{"vbauth.invalid_client", "vbauth.invalid_grant", "vbauth.other"} {
		if en := i18n.EN.T(key, "x"); !strings.Contains(en, "Settings") {
			t.Errorf("%s does not point to Settings: %q", key, en)
		}
	}
}
