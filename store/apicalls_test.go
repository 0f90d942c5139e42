package store_test

import (
	"context"
	"testing"
	"time"

	"kasa/store"
	"kasa/store/storetest"
)

func TestAPICallFilters(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	calls := []store.APICall{
		{At: base, Provider: "finrota", Operation: "create_debt", Method: "POST", Status: 200, RequestID: "r1"},
		{At: base.Add(time.Hour), Provider: "finrota", Operation: "create_debt", Method: "POST", Status: 409, ErrorCode: "409", RequestID: "r2"},
		{At: base.Add(2 * time.Hour), Provider: "garanti", Operation: "hgs_transactions", Method: "POST", Status: 0, Failure: "connection refused", RequestID: "r3"},
		{At: base.Add(48 * time.Hour), Provider: "vakifbank", Operation: "account_transactions", Method: "POST", Status: 200, RequestID: "r4"},
	}
	for _, c := range calls {
		if err := st.InsertAPICall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		f    store.APICallFilter
		want []string
	}{
		{"all, newest first", store.APICallFilter{}, []string{"r4", "r3", "r2", "r1"}},
		{"provider", store.APICallFilter{Provider: "finrota"}, []string{"r2", "r1"}},
		{"errors only", store.APICallFilter{OnlyErrors: true}, []string{"r3", "r2"}},
		{"request id", store.APICallFilter{RequestID: "r3"}, []string{"r3"}},
		{"range", store.APICallFilter{From: base.Add(30 * time.Minute), To: base.Add(24 * time.Hour)}, []string{"r3", "r2"}},
		{"page", store.APICallFilter{Limit: 2, Offset: 2}, []string{"r2", "r1"}},
	}
	for _, c := range cases {
		got, total, err := st.APICalls(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range got {
			ids = append(ids, g.RequestID)
		}
		if len(ids) != len(c.want) || (c.f.Limit == 0 && total != len(c.want)) {
			t.Errorf("%s: got %v (total %d), want %v", c.name, ids, total, c.want)
			continue
		}
		for i := range ids {
			if ids[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, ids, c.want)
				break
			}
		}
	}
	n, err := st.PruneAPICalls(ctx, base.Add(24*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("prune = %d, %v", n, err)
	}
}
