//go:build !noui

// Package frontend holds the built web UI: the single-page app under /app/ and the stylesheets
// of the server-rendered public pages. `npm run build` (make frontend) must run before the Go
// build; build with -tags noui to compile without it.
package frontend

import (
	"embed"
	"io/fs"
)

// all: keeps dist/.vite/manifest.json, which a plain pattern would skip as a dot directory.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the contents of dist/: index.html, assets/, icons/ and .vite/manifest.json.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "dist" is valid.
		panic(err)
	}
	return sub
}
