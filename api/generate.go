// Package api holds the OpenAPI document that is the single source of truth for the HTTP API,
// and the code generated from it (package gen).
package api

import _ "embed"

//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml

//go:embed openapi.yaml
var document []byte

// Document returns the OpenAPI document (YAML).
func Document() []byte { return document }
