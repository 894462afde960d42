// Package tenanttest gives tests a private, migrated PostgreSQL database (cloned from a
// template, so each package gets one in well under a second) connected as the owner, app and
// platform roles, two tenants to test isolation with, and the isolation kit every store runs.
package tenanttest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/catalogue"
)

// Default DSNs match scripts/services.sh; the EPOM_*_DATABASE_URL variables override them.
const (
	defaultOwnerDSN    = "postgres://epom_owner:epom_owner@127.0.0.1:5432/epom?sslmode=disable"
	defaultAppDSN      = "postgres://epom_app:epom_app@127.0.0.1:5432/epom?sslmode=disable"
	defaultPlatformDSN = "postgres://epom_platform:epom_platform@127.0.0.1:5432/epom?sslmode=disable"
)

// Env is one test's database.
type Env struct {
	Name        string
	OwnerDSN    string
	AppDSN      string
	PlatformDSN string
	Owner       *pgxpool.Pool
	App         *pgxpool.Pool
	Platform    *pgxpool.Pool
	DB          *tenants.Database
	Registry    *tenants.Registry
	Sets        []tenants.MigrationSet
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func withDatabase(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("bad DSN %q: %v", dsn, err))
	}
	u.Path = "/" + db
	return u.String()
}

// templateName identifies a template by the content of the migrations and the catalogue, so
// a changed migration gets a fresh template and unchanged ones are reused across runs.
func templateName(sets []tenants.MigrationSet) (string, error) {
	h := sha256.New()
	for _, s := range sets {
		files, err := fs.Glob(s.FS, "*.sql")
		if err != nil {
			return "", err
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := fs.ReadFile(s.FS, f)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s/%s\n", s.Name, f)
			h.Write(b)
		}
	}
	ms, err := catalogue.Load()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "catalogue %d %s\n", len(ms), ms[len(ms)-1].KodObce)
	return "epom_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// New creates a database for t with the kernel migrations plus modules, and drops it when the
// test ends. It skips the test (or fails it, when EPOM_REQUIRE_DB is set, as in CI) if
// PostgreSQL is not reachable.
func New(t testing.TB, modules ...tenants.MigrationSet) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ownerBase := envOr("EPOM_OWNER_DATABASE_URL", defaultOwnerDSN)
	admin, err := pgx.Connect(ctx, ownerBase)
	if err != nil {
		if os.Getenv("EPOM_REQUIRE_DB") != "" {
			t.Fatalf("PostgreSQL is required (run scripts/services.sh): %v", err)
		}
		t.Skipf("PostgreSQL not reachable (run scripts/services.sh): %v", err)
	}
	defer admin.Close(ctx)

	sets := tenants.NewMigrator(nil, modules).Sets()
	tmpl, err := templateName(sets)
	if err != nil {
		t.Fatalf("template name: %v", err)
	}
	// One template at a time across all test processes; clones also wait, since CREATE
	// DATABASE refuses a template that another session is connected to.
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(hashtext('epom-test-template'))`); err != nil {
		t.Fatalf("template lock: %v", err)
	}
	unlock := func() {
		_, _ = admin.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext('epom-test-template'))`)
	}
	if err := ensureTemplate(ctx, admin, ownerBase, tmpl, modules); err != nil {
		unlock()
		t.Fatalf("template database: %v", err)
	}
	name := "epom_t_" + randomHex(6)
	_, err = admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl))
	unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	_, _ = admin.Exec(ctx, fmt.Sprintf(`GRANT CONNECT ON DATABASE %s TO epom_app, epom_platform`, name))

	e := &Env{
		Name:        name,
		OwnerDSN:    withDatabase(ownerBase, name),
		AppDSN:      withDatabase(envOr("EPOM_DATABASE_URL", defaultAppDSN), name),
		PlatformDSN: withDatabase(envOr("EPOM_PLATFORM_DATABASE_URL", defaultPlatformDSN), name),
		Sets:        sets,
	}
	e.Owner = mustPool(t, ctx, e.OwnerDSN)
	e.App = mustPool(t, ctx, e.AppDSN)
	e.Platform = mustPool(t, ctx, e.PlatformDSN)
	e.DB, err = tenants.NewDatabase(e.App)
	if err != nil {
		t.Fatal(err)
	}
	e.Registry = tenants.NewRegistry(e.Platform)
	t.Cleanup(func() {
		e.Owner.Close()
		e.App.Close()
		e.Platform.Close()
		c, err := pgx.Connect(context.Background(), ownerBase)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return e
}

func ensureTemplate(ctx context.Context, admin *pgx.Conn, ownerBase, tmpl string, modules []tenants.MigrationSet) error {
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tmpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Leftover templates from older migration sets only take disk space.
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'epom\_tmpl\_%'`)
	if err != nil {
		return err
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, o := range old {
		_, _ = admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s`, o))
	}
	building := tmpl + "_wip"
	_, _ = admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building))
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, withDatabase(ownerBase, building))
	if err != nil {
		return err
	}
	_, err = tenants.NewMigrator(pool, modules).Up(ctx)
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// Renaming at the end means a crash mid-migration never leaves a half-built template.
	_, err = admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, tmpl))
	return err
}

func mustPool(t testing.TB, ctx context.Context, dsn string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 6
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect as %s: %v", cfg.ConnConfig.User, err)
	}
	return p
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Tenant creates an active tenant for the municipality kodObce with the given modules and
// returns a context bound to it.
func (e *Env) Tenant(t testing.TB, kodObce, slug string, modules ...string) (context.Context, tenants.Resolved) {
	t.Helper()
	r, err := e.Registry.Create(context.Background(), tenants.CreateParams{
		KodObce: kodObce, Slug: slug, Status: tenants.StatusActive, Modules: modules})
	if err != nil {
		t.Fatalf("create tenant %s: %v", slug, err)
	}
	return tenants.WithTenant(context.Background(), r.Tenant), r
}

// Two creates the two tenants every isolation test uses: Liberec (A) and Kunžak (B).
func (e *Env) Two(t testing.TB, modules ...string) (ctxA, ctxB context.Context) {
	t.Helper()
	ctxA, _ = e.Tenant(t, "563889", "liberec", modules...)
	ctxB, _ = e.Tenant(t, "546615", "kunzak", modules...)
	return ctxA, ctxB
}
