// Package migrations holds the numbered SQL migrations of the product's
// database, embedded into the binary and applied by goose at start.
package migrations

import "embed"

// FS holds the *.sql migrations.
//
//go:embed *.sql
var FS embed.FS
