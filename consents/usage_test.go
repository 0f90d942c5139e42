package consents_test

import (
	"context"
	"testing"
	"time"

	"kasa/consents"
	"kasa/store/storetest"
)

func TestReleasedCallsAreNotCounted(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	cs := consents.New(consents.Deps{Store: s})
	ctx := context.Background()
	id := newConsent(t, cs, "state-1", time.Now().Add(time.Hour))
	now := time.Now()
	for range 2 {
		if ok, err := cs.Reserve(ctx, id, now, 2); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
	}
	if ok, _ := cs.Reserve(ctx, id, now, 2); ok {
		t.Fatal("a third call was reserved under a limit of 2")
	}
	if err := cs.Release(ctx, id, now); err != nil {
		t.Fatal(err)
	}
	if used, _ := cs.Usage(ctx, id, now); used != 1 {
		t.Fatalf("usage after a release: %d", used)
	}
	if ok, _ := cs.Reserve(ctx, id, now, 2); !ok {
		t.Fatal("the released call cannot be reserved again")
	}
	// Never below zero, whatever is released.
	for range 3 {
		if err := cs.Release(ctx, id, now); err != nil {
			t.Fatal(err)
		}
	}
	if used, _ := cs.Usage(ctx, id, now); used != 0 {
		t.Fatalf("usage after releasing more than reserved: %d", used)
	}
}
