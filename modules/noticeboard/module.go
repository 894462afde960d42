// Package noticeboard is the notice board (úřední deska) module: a municipality's clerks post
// notices with documents, optionally approved by a second clerk; background jobs post them
// and take them down (sejmutí) at the set minute; every change after posting is a new,
// immutable revision.
//
// It is the pattern for every agenda module: module.go declares what the module is and
// offers (migrations, permissions, tasks, demo data), store.go is its SQL, service.go its
// rules, api.go its part of the API, jobs.go its background work.
package noticeboard

import (
	"embed"
	"html/template"
	"io/fs"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/files"
)

// ID of the module.
const ID modules.ID = "noticeboard"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Deps are what the module needs at run time. A module built without them (for `epom
// migrate` and other commands that only read its declarations) has no service.
type Deps struct {
	DB     *tenants.Database
	Files  files.Store
	Audit  *audit.Log
	Config Config
	Cache  CacheConfig
	Mail   Mailer // the tenant mail (email.Service) for subscriptions
}

// Module is the notice board.
type Module struct {
	svc      *Service
	pages    *template.Template // the public board's page bodies (templates/)
	prague   *time.Location     // where the public reads dates
	cache    *pageCache         // rendered public responses
	subLimit *subscribeLimiter  // subscription form POSTs per client IP
}

// New returns the module; with d.DB set, also its service.
func New(d Deps) *Module {
	m := &Module{pages: template.Must(template.New("").ParseFS(templateFiles, "templates/*.html")), prague: time.UTC}
	if loc, err := time.LoadLocation("Europe/Prague"); err == nil {
		m.prague = loc
	}
	if d.DB != nil {
		m.svc = NewService(NewStore(d.DB), d.Files, d.Audit, d.Config)
		m.cache = newPageCache(d.Cache.Redis, d.Cache.MaxBytes, d.Cache.MaxEntries)
		m.svc.store.onChange = m.cache.invalidate
		m.svc.mail = d.Mail
		m.subLimit = newSubscribeLimiter(d.Cache.Redis)
	}
	return m
}

// Service is the module's service (nil without dependencies).
func (m *Module) Service() *Service { return m.svc }

var (
	_ modules.Module          = (*Module)(nil)
	_ modules.WithMigrations  = (*Module)(nil)
	_ modules.WithPermissions = (*Module)(nil)
	_ modules.WithTasks       = (*Module)(nil)
	_ modules.WithPeriodic    = (*Module)(nil)
	_ modules.WithDemoData    = (*Module)(nil)
)

// ID implements modules.Module.
func (m *Module) ID() modules.ID { return ID }

// Name implements modules.Module.
func (m *Module) Name() modules.Text {
	return modules.Text{CS: "Úřední deska", EN: "Official notice board"}
}

// Description implements modules.Module.
func (m *Module) Description() modules.Text {
	return modules.Text{
		CS: "Vyvěšování a snímání oznámení s přílohami, schvalování, archiv a historie změn.",
		EN: "Posting and taking down notices with documents, approval, archive and revision history.",
	}
}

// Migrations implements modules.WithMigrations.
func (m *Module) Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	return sub
}

// Permissions implements modules.WithPermissions. Approving is limited further by the
// service: never one's own notice.
func (m *Module) Permissions() []authz.Permission {
	const obj = "noticeboard.notice"
	admin, clerk, auditor := authz.RoleTenantAdmin, authz.RoleClerk, authz.RoleAuditor
	return []authz.Permission{
		{Object: obj, Action: "read", Roles: []string{admin, clerk, auditor}},
		{Object: obj, Action: "write", Roles: []string{admin, clerk}},
		{Object: obj, Action: "approve", Roles: []string{admin, clerk}},
		{Object: obj, Action: "publish", Roles: []string{admin, clerk}},
		{Object: "noticeboard.settings", Action: "write", Roles: []string{admin}},
	}
}

func newID() uuid.UUID { return tenants.NewID() }
