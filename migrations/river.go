package migrations

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// riverVersion is the River schema version the product runs on. It is
// pinned, not "latest", so that upgrading the River module never changes
// the schema behind a migration that already ran: a newer River schema
// comes with a new numbered migration that raises this target.
const riverVersion = 8

// river migrates River's own tables (river_job, river_leader, …) in the
// product's migration run, so `make run` stays one command and River's
// schema moves in step with the numbered migrations. It runs outside
// goose's transaction: River applies each of its versions in a transaction
// of its own, which one of them needs (it adds an enum value and then uses
// it, which Postgres refuses inside one transaction).
func river(version int64) *goose.Migration {
	return goose.NewGoMigration(version,
		&goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
			return migrateRiver(ctx, db, rivermigrate.DirectionUp, riverVersion)
		}},
		&goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
			return migrateRiver(ctx, db, rivermigrate.DirectionDown, -1)
		}},
	)
}

func migrateRiver(ctx context.Context, db *sql.DB, dir rivermigrate.Direction, target int) error {
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return fmt.Errorf("migrations: river: %w", err)
	}
	if _, err := m.Migrate(ctx, dir, &rivermigrate.MigrateOpts{TargetVersion: target}); err != nil {
		return fmt.Errorf("migrations: river %s: %w", dir, err)
	}
	return nil
}

// Provider returns goose's migrator over db with every migration: the
// embedded SQL files and River's schema.
func Provider(db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	opts = append(opts, goose.WithGoMigrations(river(16)))
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}
