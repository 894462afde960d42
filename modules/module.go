// Package modules defines what an agenda module is (notice board, records, forms, …), the
// optional capabilities it can offer, and the registry that cmd/epom builds explicitly.
package modules

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants/authz"
)

// ID names a module; it is also the prefix of its permissions ("noticeboard.notice:publish")
// and the suffix of its migration version table (goose_noticeboard).
type ID string

// Text is a string in Czech and English.
type Text struct {
	CS string
	EN string
}

// Module is an agenda module. Everything else is optional and found by type assertion.
type Module interface {
	ID() ID
	Name() Text
	Description() Text
}

// Public marks a module that offers pages to citizens; the tenant's landing page lists them.
type Public interface {
	// PublicPath is the path under /o/{slug} of the module's public page, e.g. "uredni-deska".
	PublicPath() string
}

// WithMigrations gives the module its own goose SQL migrations (version table goose_<id>).
type WithMigrations interface {
	Migrations() fs.FS
}

// WithPermissions declares the permissions the module's operations check.
type WithPermissions interface {
	Permissions() []authz.Permission
}

// WithTenantLifecycle is told when a tenant switches the module on or off.
type WithTenantLifecycle interface {
	OnEnable(ctx context.Context, tenantID uuid.UUID) error
	OnDisable(ctx context.Context, tenantID uuid.UUID) error
}

// Registry is the set of modules this binary offers, in menu order.
type Registry struct {
	list []Module
	byID map[ID]Module
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]{1,29}$`)

// NewRegistry checks the modules and keeps their order.
func NewRegistry(ms ...Module) (*Registry, error) {
	r := &Registry{byID: make(map[ID]Module, len(ms))}
	for _, m := range ms {
		id := m.ID()
		if !idPattern.MatchString(string(id)) {
			return nil, fmt.Errorf("module id %q: lower-case letters and digits only", id)
		}
		if _, dup := r.byID[id]; dup {
			return nil, fmt.Errorf("module %q registered twice", id)
		}
		r.byID[id] = m
		r.list = append(r.list, m)
	}
	return r, nil
}

// All returns the modules in menu order.
func (r *Registry) All() []Module { return r.list }

// Get returns the module with id.
func (r *Registry) Get(id ID) (Module, bool) {
	m, ok := r.byID[id]
	return m, ok
}

// Has reports whether id is a registered module.
func (r *Registry) Has(id string) bool {
	_, ok := r.byID[ID(id)]
	return ok
}

// IDs returns the ids in menu order.
func (r *Registry) IDs() []string {
	out := make([]string, len(r.list))
	for i, m := range r.list {
		out[i] = string(m.ID())
	}
	return out
}

// MigrationSet is one module's migrations with the name its version table uses.
type MigrationSet struct {
	Module ID
	FS     fs.FS
}

// Migrations returns the migrations of the modules that have them, in registry order.
func (r *Registry) Migrations() []MigrationSet {
	var out []MigrationSet
	for _, m := range r.list {
		if wm, ok := m.(WithMigrations); ok {
			out = append(out, MigrationSet{Module: m.ID(), FS: wm.Migrations()})
		}
	}
	return out
}

// Permissions returns every module's declared permissions.
func (r *Registry) Permissions() []authz.Permission {
	var out []authz.Permission
	for _, m := range r.list {
		if wp, ok := m.(WithPermissions); ok {
			out = append(out, wp.Permissions()...)
		}
	}
	return out
}

// WithDemoData adds realistic demo data for the tenant in ctx (`epom dev`). It must be
// idempotent: dev seeds on every start.
type WithDemoData interface {
	SeedDemo(ctx context.Context) error
}
