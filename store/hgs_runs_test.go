package store_test

import (
	"context"
	"testing"
	"time"

	"kasa/store"
	"kasa/store/storetest"
)

func TestReleasedCallsAreNotCounted(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx := context.Background()
	id := newConsent(t, s, "state-1", time.Now().Add(time.Hour))
	now := time.Now()
	for range 2 {
		if ok, err := s.ReserveGarantiCall(ctx, id, now, 2); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
	}
	if ok, _ := s.ReserveGarantiCall(ctx, id, now, 2); ok {
		t.Fatal("a third call was reserved under a limit of 2")
	}
	if err := s.ReleaseGarantiCall(ctx, id, now); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.GarantiUsage(ctx, id, now); used != 1 {
		t.Fatalf("usage after a release: %d", used)
	}
	if ok, _ := s.ReserveGarantiCall(ctx, id, now, 2); !ok {
		t.Fatal("the released call cannot be reserved again")
	}
	// Never below zero, whatever is released.
	for range 3 {
		if err := s.ReleaseGarantiCall(ctx, id, now); err != nil {
			t.Fatal(err)
		}
	}
	if used, _ := s.GarantiUsage(ctx, id, now); used != 0 {
		t.Fatalf("usage after releasing more than reserved: %d", used)
	}
}

func TestHGSSyncRunsAreKeptAndPruned(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx := context.Background()
	clock := time.Now().Add(-100 * 24 * time.Hour)
	s.SetClock(func() time.Time { return clock })
	job := int64(42)
	if _, err := s.DB().Exec(`INSERT INTO jobs (id, kind) VALUES ($1, 'test')`, job); err != nil {
		t.Fatal(err)
	}
	retry := clock.Add(time.Minute)
	if err := s.RecordHGSSyncRun(ctx, store.HGSSyncRun{JobID: &job, Outcome: store.HGSOutcomeBusy, RetryAt: &retry}); err != nil {
		t.Fatal(err)
	}
	clock = time.Now()
	if err := s.RecordHGSSyncRun(ctx, store.HGSSyncRun{JobID: &job, Manual: true, Outcome: store.HGSOutcomeFetched, Vehicles: 3, Calls: 3}); err != nil {
		t.Fatal(err)
	}
	r, err := s.HGSSyncRunOfJob(ctx, job)
	if err != nil || r.Outcome != store.HGSOutcomeFetched || !r.Manual || r.Vehicles != 3 || r.RetryAt != nil {
		t.Fatalf("latest run of the job = %+v, %v", r, err)
	}
	if n, err := s.PruneHGSSyncRuns(ctx, time.Now().Add(-90*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if _, err := s.HGSSyncRunOfJob(ctx, 7); err == nil {
		t.Fatal("a job that recorded nothing has a run")
	}
}
