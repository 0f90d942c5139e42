package hgs

import (
	"context"
	"testing"
	"time"

	"kasa/store/storetest"
)

func TestHGSSyncRunsAreKeptAndPruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := time.Now().Add(-100 * 24 * time.Hour)
	s := New(Deps{Store: storetest.New(t), Now: func() time.Time { return clock }})
	job := int64(42) // a River job's id: River prunes its jobs, the record stays
	retry := clock.Add(time.Minute)
	if err := s.recordRun(ctx, SyncRun{JobID: &job, Outcome: OutcomeBusy, RetryAt: &retry}); err != nil {
		t.Fatal(err)
	}
	clock = time.Now()
	if err := s.recordRun(ctx, SyncRun{JobID: &job, Manual: true, Outcome: OutcomeFetched, Vehicles: 3, Calls: 3}); err != nil {
		t.Fatal(err)
	}
	r, err := s.RunOfJob(ctx, job)
	if err != nil || r.Outcome != OutcomeFetched || !r.Manual || r.Vehicles != 3 || r.RetryAt != nil {
		t.Fatalf("latest run of the job = %+v, %v", r, err)
	}
	if n, err := s.pruneRuns(ctx, time.Now().Add(-90*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if _, err := s.RunOfJob(ctx, 7); err == nil {
		t.Fatal("a job that recorded nothing has a run")
	}
}
