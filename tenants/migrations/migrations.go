// Package migrations holds the kernel's goose SQL migrations.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed *.sql
var sqlFiles embed.FS

// FS returns the kernel migrations.
func FS() fs.FS { return sqlFiles }
