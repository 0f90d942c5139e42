package movements

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkInsertMovements stores three years of one busy account (about
// 36,600 movements, the sandbox TRY account's volume) per iteration, each
// into a fresh account so every row is new, and reports rows per second.
// A second pass of the same rows measures the de-duplicating re-sync.
func BenchmarkInsertMovements(b *testing.B) {
	ctx := context.Background()
	const n = 36_600
	ms := chain(time.Date(2023, 1, 1, 9, 0, 0, 0, ist), 43*time.Minute, n)
	b.Run("new", func(b *testing.B) {
		st := newService(b)
		i := 0
		for b.Loop() {
			b.StopTimer()
			a := newAccount(b, st, fmt.Sprintf("001580000%08d", i))
			i++
			b.StartTimer()
			got, err := st.InsertMovements(ctx, a.ID, ms)
			if err != nil || got != n {
				b.Fatalf("inserted %d, %v", got, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("resync", func(b *testing.B) {
		st := newService(b)
		a := newAccount(b, st, "00158000099999999")
		if _, err := st.InsertMovements(ctx, a.ID, ms); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if got, err := st.InsertMovements(ctx, a.ID, ms); err != nil || got != 0 {
				b.Fatalf("re-inserted %d, %v", got, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
