package movements

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"kasa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// newService is the area over a fresh database, without a job engine:
// what needs one starts it (newMovementEnv).
func newService(t testing.TB) *Service {
	t.Helper()
	return New(Deps{Store: storetest.New(t)})
}

// The methods below give the tests the steps a sync run goes through one
// by one.

func (s *Service) DB() *sqlx.DB { return s.db }

func (s *Service) StartMovementSync(ctx context.Context, n NewMovementSync, enqueue enqueueFunc) (MovementSync, error) {
	var m MovementSync
	err := s.inTx(ctx, "start sync", func(tx *sqlx.Tx) error {
		var err error
		m, err = insertSync(ctx, tx, n, enqueue)
		return err
	})
	return m, err
}

func (s *Service) JoinOrStartMovementSync(ctx context.Context, n NewMovementSync, slack time.Duration, enqueue enqueueFunc) (m MovementSync, joined bool, err error) {
	err = s.inTx(ctx, "join or start sync", func(tx *sqlx.Tx) error {
		m, joined, err = joinOrStartSync(ctx, tx, n, slack, enqueue)
		return err
	})
	return m, joined, err
}

func (s *Service) MarkMovementSyncRunning(ctx context.Context, id int64) error {
	return markSyncRunning(ctx, s.db, id)
}

func (s *Service) FinishMovementSync(ctx context.Context, id int64, fetched, inserted int) error {
	return s.finishSync(ctx, id, fetched, inserted)
}

func (s *Service) FailMovementSync(ctx context.Context, id int64, code, message string, final bool) error {
	return s.failSync(ctx, id, code, message, final)
}
