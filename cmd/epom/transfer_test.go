package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestTenantExportDropImport drives the three commands against a private database: export
// to a file, drop (refused without -yes), import, and the tenant is back with its file.
func TestTenantExportDropImport(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	a, _ := tenants.FromContext(ctxA)
	f, err := files.NewPostgres(e.DB).Put(ctxA, "vyhláška.pdf", "application/pdf", strings.NewReader("%PDF-1.7 obsah"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("EPOM_DATABASE_URL", e.AppDSN)
	t.Setenv("EPOM_PLATFORM_DATABASE_URL", e.PlatformDSN)
	t.Setenv("EPOM_OWNER_DATABASE_URL", e.OwnerDSN)
	archive := filepath.Join(t.TempDir(), "liberec.tar")

	cli := func(code int, want string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(args, &out, &errOut); got != code {
			t.Fatalf("epom %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out.String(), errOut.String())
		}
		if all := out.String() + errOut.String(); !strings.Contains(all, want) {
			t.Fatalf("epom %s: output lacks %q:\n%s", strings.Join(args, " "), want, all)
		}
	}
	cli(0, "", "tenant", "export", "liberec", "-o", archive)
	if fi, err := os.Stat(archive); err != nil || fi.Size() < 1024 {
		t.Fatalf("archive: %v %v", fi, err)
	}
	cli(2, "add -yes", "tenant", "drop", "liberec")
	cli(1, "already exists here", "tenant", "import", archive)
	cli(0, "dropped liberec", "tenant", "drop", "liberec", "-yes")
	if _, err := e.Registry.BySlugOrID(context.Background(), "liberec"); err == nil {
		t.Fatal("liberec still exists after drop")
	}
	cli(0, "imported liberec", "tenant", "import", archive)
	got, err := files.NewPostgres(e.DB).Stat(ctxA, f.ID)
	if err != nil || got.SHA256 != f.SHA256 {
		t.Fatalf("file after import: %+v %v", got, err)
	}
	r, err := e.Registry.BySlugOrID(context.Background(), "liberec")
	if err != nil || r.ID != a.ID {
		t.Fatalf("tenant after import: %+v %v", r, err)
	}
	var other string
	if err := e.App.QueryRow(context.Background(), `SELECT kod_obce FROM catalogue_municipalities
		WHERE kod_obce NOT IN ('563889', '546615') LIMIT 1`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	cli(0, "as kopie", "tenant", "import", "-new-id", "-kod", other, "-slug", "kopie", "-status", "suspended", archive)
	cli(1, "kód obce 563889 already has tenant liberec", "tenant", "import", "-new-id", archive)

	// Every step is in the platform's audit chain, and every chain still verifies.
	rows, err := e.Platform.Query(context.Background(), `SELECT action FROM platform_audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	actions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tenant-exported", "tenant-dropped", "tenant-imported", "tenant-imported"}; !slices.Equal(actions, want) {
		t.Fatalf("platform audit: %v, want %v", actions, want)
	}
	rep, err := audit.New(e.DB, e.Platform).Verify(context.Background(), uuid.Nil)
	if err != nil || !rep.OK() {
		t.Fatalf("audit verify: %+v %v", rep, err)
	}
}
