package store_test

import (
	"context"
	"testing"

	"kasa/store/storetest"
)

func TestMigratedDatabase(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ok, err := s.Migrated(context.Background())
	if err != nil || !ok {
		t.Fatalf("Migrated = %v, %v; want true", ok, err)
	}
}
