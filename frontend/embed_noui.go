//go:build noui

package frontend

import (
	"io/fs"
	"testing/fstest"
)

// Dist stands in for the built UI when the binary is compiled without it: an index.html that
// says so, and a manifest whose public entry has no stylesheets.
func Dist() fs.FS {
	return fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html>\n<html lang=\"cs\"><head><meta charset=\"utf-8\"><title>epom</title></head>" +
			"<body><p>Toto sestavení epom neobsahuje uživatelské rozhraní (-tags noui).</p></body></html>\n")},
		".vite/manifest.json": {Data: []byte(`{"src/public.ts":{"file":"assets/public.js","name":"public","src":"src/public.ts","isEntry":true,"css":[]}}` + "\n")},
	}
}
