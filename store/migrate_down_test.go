package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"kasa/migrations"
	"kasa/store/storetest"
)

// TestMigrationsDownAndUp: every migration's Down undoes its Up. A
// migrated database is taken down one version at a time to zero, where
// nothing of the product's schema is left, then up one at a time again;
// at every version the schema (columns, constraints, indexes, functions)
// is the same on the way up as it was on the way down.
func TestMigrationsDownAndUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("postgres", storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, db) })
	p, err := migrations.Provider(db)
	if err != nil {
		t.Fatal(err)
	}
	version := func() int64 {
		t.Helper()
		v, err := p.GetDBVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	top := version()
	down := map[int64][]string{top: schemaOf(t, db)}
	if len(down[top]) == 0 {
		t.Fatal("the migrated schema read as empty")
	}
	for version() > 0 {
		r, err := p.Down(ctx)
		if err != nil {
			t.Fatalf("down from %d: %v", version(), err)
		}
		down[version()] = schemaOf(t, db)
		if r.Source != nil {
			t.Logf("down %s", r.Source.Path)
		}
	}
	var left []string
	for _, line := range down[0] {
		if !strings.Contains(line, "goose_db_version") {
			left = append(left, line)
		}
	}
	if len(left) > 0 {
		t.Errorf("left after going down to zero:\n%s", strings.Join(left, "\n"))
	}

	for {
		r, err := p.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			break
		}
		if err != nil {
			t.Fatalf("up from %d: %v", version(), err)
		}
		v := version()
		if diff := schemaDiff(down[v], schemaOf(t, db)); diff != "" {
			t.Errorf("at version %d (%s), going up differs from going down:\n%s", v, r.Source.Path, diff)
		}
	}
	if v := version(); v != top {
		t.Fatalf("up again to version %d, want %d", v, top)
	}
}

// schemaDiff lists the lines only in before (-) and only in after (+).
func schemaDiff(before, after []string) string {
	in := func(lines []string) map[string]bool {
		m := make(map[string]bool, len(lines))
		for _, l := range lines {
			m[l] = true
		}
		return m
	}
	b, a := in(before), in(after)
	var diff []string
	for _, l := range before {
		if !a[l] {
			diff = append(diff, "- "+l)
		}
	}
	for _, l := range after {
		if !b[l] {
			diff = append(diff, "+ "+l)
		}
	}
	return strings.Join(diff, "\n")
}

// schemaOf describes the public schema of db, one sorted line per column,
// constraint, index and function.
func schemaOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`
		SELECT 'column ' || table_name || '.' || column_name || ' #' || ordinal_position || ' ' || data_type || ' ' || udt_name
			|| coalesce('(' || character_maximum_length || ')', '')
			|| coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '')
			|| CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END
			|| coalesce(' default ' || column_default, '')
		FROM information_schema.columns WHERE table_schema = 'public'
		UNION ALL
		SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
			|| CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public'
		UNION ALL
		SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
		UNION ALL
		SELECT 'relation ' || c.relkind::text || ' ' || c.relname
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v', 'm', 'p')
		UNION ALL
		SELECT 'function ' || pg_get_functiondef(f.oid)
		FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
		WHERE n.nspname = 'public' AND f.prokind = 'f'
			AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = f.oid AND d.deptype = 'e')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, rows)
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
