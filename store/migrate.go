package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"kasa/migrations"
)

// Migrate applies the pending migrations under a Postgres session lock, so
// several instances starting together apply each migration once.
func Migrate(ctx context.Context, db *sql.DB) error {
	p, err := newMigrator(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Migrated reports whether every migration has been applied.
func (s *Store) Migrated(ctx context.Context) (bool, error) {
	p, err := newMigrator(s.db.DB)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, err
	}
	return !pending, nil
}

func newMigrator(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return migrations.Provider(db, goose.WithSessionLocker(locker))
}
