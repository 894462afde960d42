package tenants_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/catalogue"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestEveryTenantTableForcesRLS fails for any table with a tenant_id column that does not
// both enable and force row-level security, so a new migration cannot forget it.
func TestEveryTenantTableForcesRLS(t *testing.T) {
	e := tenanttest.New(t)
	rows, err := e.Owner.Query(context.Background(), `
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
		       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'),
		       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var enabled, forced, policy, indexed bool
		if err := rows.Scan(&name, &enabled, &forced, &policy, &indexed); err != nil {
			t.Fatal(err)
		}
		n++
		if !enabled || !forced || !policy {
			t.Errorf("table %s: row level security enabled=%v forced=%v tenant_isolation policy=%v", name, enabled, forced, policy)
		}
		if !indexed {
			t.Errorf("table %s: no index leads with tenant_id", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("found only %d tenant tables; the query is wrong", n)
	}
}

func TestAppRoleSeesNothingWithoutTenant(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, ctxB := e.Two(t)
	ctx := context.Background()
	a, _ := tenants.FromContext(ctxA)
	b, _ := tenants.FromContext(ctxB)

	// Tenant A writes its settings; the app role with no tenant bound sees no row at all.
	err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`INSERT INTO tenant_settings (tenant_id, display_name) VALUES (?, 'A')`, a.ID).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"tenant_settings", "tenant_modules", "memberships", "tenant_hosts"} {
		var n int
		if err := e.App.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows visible with no tenant", table, n)
		}
	}

	// Inside A's transaction, a row for B is refused by the policy's WITH CHECK.
	err = e.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`INSERT INTO tenant_settings (tenant_id, display_name) VALUES (?, 'B')`, b.ID).Error
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Fatalf("insert for tenant B inside A's transaction: got %v, want an RLS violation", err)
	}
	// And B cannot see A's row, even asking for it by id.
	var n int64
	err = e.DB.InTx(ctxB, func(ctx context.Context) error {
		return tenants.DB(ctx).Table("tenant_settings").Where("tenant_id = ?", a.ID).Count(&n).Error
	})
	if err != nil || n != 0 {
		t.Fatalf("B counting A's settings: n=%d err=%v", n, err)
	}
}

func TestInTxNeedsTenantAndRollsBack(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	a, _ := tenants.FromContext(ctxA)

	if err := e.DB.InTx(context.Background(), func(context.Context) error { return nil }); !errors.Is(err, tenants.ErrNoTenant) {
		t.Fatalf("InTx without tenant: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("DB outside InTx must panic")
			}
		}()
		tenants.DB(context.Background())
	}()
	boom := errors.New("boom")
	err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		if err := tenants.DB(ctx).Exec(`INSERT INTO tenant_settings (tenant_id, display_name) VALUES (?, 'x')`, a.ID).Error; err != nil {
			return err
		}
		// A nested call joins the same transaction.
		return e.DB.InTx(ctx, func(ctx context.Context) error { return boom })
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	var n int64
	_ = e.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Table("tenant_settings").Count(&n).Error
	})
	if n != 0 {
		t.Fatalf("rolled-back insert is visible: %d rows", n)
	}
}

// TestReadIsOneTransaction pins the property Read relies on: the pipelined set_config covers
// the batch's queries and nothing after it.
func TestReadIsOneTransaction(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	a, _ := tenants.FromContext(ctxA)
	var inBatch string
	err := e.DB.Read(ctxA, func(b *pgx.Batch) {
		b.Queue(`SELECT current_setting('app.tenant_id', true)`).QueryRow(func(row pgx.Row) error {
			return row.Scan(&inBatch)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if inBatch != a.ID.String() {
		t.Fatalf("in batch: %q, want %s", inBatch, a.ID)
	}
	// Every connection of the pool must have forgotten the tenant.
	for i := 0; i < 8; i++ {
		var after string
		if err := e.App.QueryRow(context.Background(), `SELECT coalesce(current_setting('app.tenant_id', true), '')`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if after != "" {
			t.Fatalf("tenant setting leaked out of the batch: %q", after)
		}
	}
}

func TestCatalogueMigratedOnceAndIdempotent(t *testing.T) {
	e := tenanttest.New(t)
	ctx := context.Background()
	var n int
	if err := e.App.QueryRow(ctx, `SELECT count(*) FROM catalogue_municipalities`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 6258 {
		t.Fatalf("catalogue has %d rows, want 6258", n)
	}
	var liberec, kraj, ico string
	err := e.App.QueryRow(ctx, `SELECT nazev, kraj_kod_nuts, ico FROM catalogue_municipalities WHERE kod_obce = '563889'`).Scan(&liberec, &kraj, &ico)
	if err != nil || liberec != "Liberec" || kraj != "CZ051" || ico != "00262978" {
		t.Fatalf("Liberec row: %q %q %q %v", liberec, kraj, ico, err)
	}
	res, err := tenants.NewMigrator(e.Owner, nil).Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 0 || res.CatalogueRows != 0 {
		t.Fatalf("second migrate up changed something: %+v", res)
	}
	st, err := tenants.NewMigrator(e.Owner, nil).Status(ctx)
	if err != nil || len(st) != 1 || len(st[0].Pending) != 0 || st[0].Current == 0 {
		t.Fatalf("status: %+v %v", st, err)
	}
	expected, err := tenants.ExpectedVersions(e.Sets)
	if err != nil {
		t.Fatal(err)
	}
	if err := tenants.CheckMigrated(ctx, e.App, expected); err != nil {
		t.Fatal(err)
	}
	expected["goose_core"]++
	if err := tenants.CheckMigrated(ctx, e.App, expected); err == nil {
		t.Fatal("CheckMigrated accepted a missing migration")
	}
	// A database ahead of the binary (a rolling upgrade's old pods) is ready.
	expected["goose_core"] -= 2
	if err := tenants.CheckMigrated(ctx, e.App, expected); err != nil {
		t.Fatalf("old binary on a newer database: %v", err)
	}
}

func TestCheckAppRole(t *testing.T) {
	e := tenanttest.New(t)
	ctx := context.Background()
	if err := tenants.CheckAppRole(ctx, e.App); err != nil {
		t.Fatalf("app role refused: %v", err)
	}
	err := tenants.CheckAppRole(ctx, e.Owner)
	if !errors.Is(err, tenants.ErrUnsafeRole) || !strings.Contains(err.Error(), "owns tenant tables") {
		t.Fatalf("owner role accepted: %v", err)
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Hodkovice nad Mohelkou": "hodkovice-nad-mohelkou",
		"Bílý Potok":             "bily-potok",
		"Kunžak":                 "kunzak",
		"Frýdek-Místek":          "frydek-mistek",
		"Ústí nad Orlicí":        "usti-nad-orlici",
		"Praha":                  "praha",
		"  Lhota (Kolín) ":       "lhota-kolin",
	} {
		if got := tenants.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
	if got := catalogue.Fold("ŽLUŤOUČKÝ kůň"); got != "zlutoucky kun" {
		t.Errorf("Fold = %q", got)
	}
}

func TestRegistryLifecycleAndResolver(t *testing.T) {
	e := tenanttest.New(t)
	ctx := context.Background()
	r, err := e.Registry.Create(ctx, tenants.CreateParams{KodObce: "546615", Hosts: []string{"Epom.Kunzak.CZ"}, Modules: []string{"noticeboard"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Slug != "kunzak" || r.Status != tenants.StatusPending || r.Name != "Kunžak" || !r.Enabled("noticeboard") || r.Enabled("waste") {
		t.Fatalf("created %+v", r)
	}
	if _, err := e.Registry.Create(ctx, tenants.CreateParams{KodObce: "546615", Slug: "kunzak-2"}); !errors.Is(err, tenants.ErrConflict) {
		t.Fatalf("second tenant for one municipality: %v", err)
	}
	if _, err := e.Registry.Create(ctx, tenants.CreateParams{KodObce: "999999"}); !errors.Is(err, tenants.ErrUnknownMunicipality) {
		t.Fatalf("unknown municipality: %v", err)
	}
	if _, err := e.Registry.Create(ctx, tenants.CreateParams{KodObce: "563889", Slug: "kunzak"}); !errors.Is(err, tenants.ErrConflict) {
		t.Fatalf("taken slug: %v", err)
	}

	res := tenants.NewResolver(e.Registry, nil, time.Minute)
	got, err := res.ByHost(ctx, "epom.kunzak.cz:8443")
	if err != nil || got.ID != r.ID {
		t.Fatalf("by host: %+v %v", got, err)
	}
	if tenants.Available(got) == nil {
		t.Fatal("pending tenant must not be available")
	}
	if _, err := e.Registry.SetStatus(ctx, r.ID, tenants.StatusActive); err != nil {
		t.Fatal(err)
	}
	// Cached until invalidated.
	got, _ = res.BySlugOrID(ctx, "kunzak")
	res.Invalidate(ctx, r.ID.String())
	got, _ = res.BySlugOrID(ctx, "kunzak")
	if tenants.Available(got) != nil {
		t.Fatalf("after activation: %s", got.Status)
	}
	if _, err := res.BySlugOrID(ctx, "no-such-town"); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("unknown slug: %v", err)
	}
	if got, err := res.BySlugOrID(ctx, r.ID.String()); err != nil || got.Slug != "kunzak" {
		t.Fatalf("by id: %v", err)
	}
}

func TestProvisionWholeCountry(t *testing.T) {
	if testing.Short() {
		t.Skip("provisions 6,258 tenants")
	}
	e := tenanttest.New(t)
	ctx := context.Background()
	start := time.Now()
	n, err := e.Registry.Provision(ctx, tenants.ProvisionParams{Modules: []string{"noticeboard"}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 6258 {
		t.Fatalf("provisioned %d", n)
	}
	t.Logf("provisioned %d tenants in %s", n, time.Since(start))
	if again, err := e.Registry.Provision(ctx, tenants.ProvisionParams{}); err != nil || again != 0 {
		t.Fatalf("second provisioning: %d %v", again, err)
	}
	var distinct int
	if err := e.Platform.QueryRow(ctx, `SELECT count(DISTINCT slug) FROM tenants`).Scan(&distinct); err != nil || distinct != 6258 {
		t.Fatalf("distinct slugs %d %v", distinct, err)
	}
	r, err := e.Registry.BySlugOrID(ctx, "liberec")
	if err != nil || r.KodObce != "563889" || !r.Enabled("noticeboard") {
		t.Fatalf("liberec: %+v %v", r, err)
	}
}
