package transfer_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/tenanttest"
	"github.com/epom-cz/epom/tenants/transfer"
)

// twoSeeded is a database with tenants A (Liberec) and B (Kunžak), both full of data and
// sharing one account.
func twoSeeded(t *testing.T) (e *tenanttest.Env, ctxA, ctxB context.Context, a, b uuid.UUID) {
	t.Helper()
	e = newEnv(t)
	ctxA, ctxB = e.Two(t, "noticeboard", "waste")
	shared := tenants.NewID()
	if _, err := e.App.Exec(context.Background(), `INSERT INTO users (id, email, name, password_hash)
		VALUES ($1, 'spolecny@epom.test', 'Společný účet', 'argon2id$shared')`, shared); err != nil {
		t.Fatal(err)
	}
	seed(t, e, ctxA, "liberec", shared)
	seed(t, e, ctxB, "kunzak", shared)
	ta, _ := tenants.FromContext(ctxA)
	tb, _ := tenants.FromContext(ctxB)
	return e, ctxA, ctxB, ta.ID, tb.ID
}

func TestRoundTripExportDropImport(t *testing.T) {
	e, ctxA, _, a, b := twoSeeded(t)
	ctx := context.Background()
	beforeA, beforeB := digest(t, e, a), digest(t, e, b)
	for _, table := range []string{"tenants", "users", "tenant_hosts", "tenant_modules", "tenant_settings", "memberships",
		"outbox", "mail_log", "files", "file_chunks", "test_records", "test_notes", "tenant_audit_log", "audit_heads"} {
		if len(beforeA[table]) == 0 {
			t.Fatalf("seed left %s empty; the round trip would prove nothing about it", table)
		}
	}

	// Small parts, so tables span several of them.
	archive := export(t, e, ctxA, transfer.WithPartSize(4096))
	names := entries(t, archive)
	if names[0] != transfer.HeaderName || names[len(names)-1] != transfer.ManifestName {
		t.Fatalf("entries: first %s, last %s", names[0], names[len(names)-1])
	}
	if names[1] != "tables/tenants/000001.jsonl" || names[2] != "tables/users/000001.jsonl" {
		t.Fatalf("registry tables do not come first: %v", names[:3])
	}
	var fileEntries, recordParts int
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "files/"):
			fileEntries++
		case strings.HasPrefix(n, "tables/test_records/"):
			recordParts++
		case strings.HasPrefix(n, "tables/file_chunks/") || strings.HasPrefix(n, "tables/sessions/"):
			t.Errorf("entry %s should not be in an archive", n)
		}
	}
	if fileEntries != 2 || recordParts < 3 {
		t.Fatalf("%d file entries (want 2: the temporary one stays out), %d parts of test_records", fileEntries, recordParts)
	}
	if bytes.Contains(archive, []byte("argon2id$")) {
		t.Fatal("the archive carries a password hash")
	}
	if bytes.Contains(archive, []byte("kunzak")) {
		t.Fatal("the archive of A mentions tenant B")
	}

	dropped, err := transfer.Drop(ctx, e.Owner, a)
	if err != nil {
		t.Fatal(err)
	}
	if n := rowCount(digest(t, e, a)); n != 0 {
		t.Fatalf("after drop, %d rows of A remain", n)
	}
	var accounts int
	if err := e.App.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&accounts); err != nil || accounts != 5 {
		t.Fatalf("drop must leave the accounts: %d, %v", accounts, err)
	}
	if len(dropped.Tables) < 10 {
		t.Fatalf("drop reports %v", dropped.Tables)
	}
	compare(t, "B after dropping A", beforeB, digest(t, e, b))
	verifyAudit(t, e, uuid.Nil) // the whole deployment: A's chain went with its head
	if _, err := transfer.Drop(ctx, e.Owner, a); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("second drop: %v", err)
	}

	// Import the archive compressed, as an operator would keep it.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(archive)
	_ = zw.Close()
	res, err := transfer.NewImporter(e.Owner).Import(ctx, &gz, transfer.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tenant.ID != a || res.From.ID != a || res.Files.Count != 2 || res.UsersExisting != 3 || res.UsersCreated != 0 {
		t.Fatalf("result: %+v", res)
	}
	compare(t, "A after export, drop, import", beforeA, digest(t, e, a))
	compare(t, "B after A's round trip", beforeB, digest(t, e, b))
	if rep := verifyAudit(t, e, a); rep.Entries != 3 {
		t.Fatalf("audit chain after the round trip: %+v", rep)
	}
	verifyAudit(t, e, b)

	// The files read back through the store with their checksums.
	st := files.NewPostgres(e.DB)
	for _, line := range beforeA["files"] {
		var row struct{ ID uuid.UUID }
		_ = json.Unmarshal([]byte(line), &row)
		f, rc, err := st.Open(ctxA, row.ID)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			t.Fatalf("read %s after import: %v", f.Name, err)
		}
		if !bytes.Equal(h.Sum(nil), f.SHA256[:]) {
			t.Fatalf("%s: checksum differs", f.Name)
		}
	}
	// A second export of the restored tenant carries the same data.
	again := export(t, e, ctxA, transfer.WithPartSize(4096))
	if got, want := tableParts(t, again), tableParts(t, archive); !slices.Equal(got, want) {
		t.Fatalf("re-export differs:\n%v\n%v", got, want)
	}
}

// tableParts lists name and SHA-256 of every table part and file of an archive.
func tableParts(t *testing.T, archive []byte) []string {
	var out []string
	rewriteArchive(t, archive, func(name string, data []byte) []byte {
		if strings.HasPrefix(name, "tables/") || strings.HasPrefix(name, "files/") {
			sum := sha256.Sum256(data)
			out = append(out, name+" "+string(sum[:4]))
		}
		return data
	})
	return out
}

func TestImportIntoEmptyDeployment(t *testing.T) {
	e1, ctxA, _, a, _ := twoSeeded(t)
	before := digest(t, e1, a)
	archive := export(t, e1, ctxA)

	e2 := newEnv(t)
	ctx := context.Background()
	// The author already has an account here, under another id.
	here := tenants.NewID()
	if _, err := e2.App.Exec(ctx, `INSERT INTO users (id, email, name, password_hash) VALUES ($1, 'author@liberec.test', 'Autor', 'argon2id$here')`, here); err != nil {
		t.Fatal(err)
	}
	var there uuid.UUID
	if err := e1.App.QueryRow(ctx, `SELECT id FROM users WHERE email = 'author@liberec.test'`).Scan(&there); err != nil {
		t.Fatal(err)
	}
	res, err := transfer.NewImporter(e2.Owner).Import(ctx, bytes.NewReader(archive), transfer.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.UsersCreated != 2 || res.UsersByEmail != 1 || res.UsersExisting != 0 {
		t.Fatalf("accounts: %+v", res)
	}
	after := digest(t, e2, a)
	// Every tenant row is back, with the author's rows pointing at the account that was here.
	compare(t, "A in a new deployment", rewriteIDs(before, there, here), after, "users")
	verifyAudit(t, e2, a)
	var users []string
	for _, l := range before["users"] {
		if strings.Contains(l, there.String()) {
			continue
		}
		// Accounts made by an import have no password: the archive carries none.
		l = strings.Replace(l, `"password_hash":"argon2id$shared"`, `"password_hash":""`, 1)
		l = strings.Replace(l, `"password_hash":"argon2id$secret"`, `"password_hash":""`, 1)
		users = append(users, l)
	}
	var existing string
	if err := e2.Owner.QueryRow(ctx, `SELECT row_to_json(u)::text FROM users u WHERE id = $1`, here).Scan(&existing); err != nil {
		t.Fatal(err)
	}
	users = append(users, existing)
	slices.Sort(users)
	if !slices.Equal(users, after["users"]) {
		t.Fatalf("accounts:\nwant %q\ngot  %q", users, after["users"])
	}
}

// otherMunicipalities returns kódy obce without a tenant.
func otherMunicipalities(t *testing.T, e *tenanttest.Env, n int) []string {
	rows, err := e.App.Query(context.Background(), `SELECT kod_obce FROM catalogue_municipalities
		WHERE kod_obce NOT IN ('563889', '546615') ORDER BY kod_obce LIMIT $1`, n)
	if err != nil {
		t.Fatal(err)
	}
	kods, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return kods
}

func TestImportUnderNewID(t *testing.T) {
	e, ctxA, _, a, b := twoSeeded(t)
	ctx := context.Background()
	beforeA, beforeB := digest(t, e, a), digest(t, e, b)
	archive := export(t, e, ctxA)
	im := transfer.NewImporter(e.Owner)
	kods := otherMunicipalities(t, e, 2)

	for _, c := range []struct {
		name string
		opts transfer.ImportOptions
		want string
	}{
		{"same id", transfer.ImportOptions{}, "already exists here"},
		{"new id, same kód", transfer.ImportOptions{NewID: true}, "kód obce 563889 already has tenant liberec"},
		{"new id and kód, same slug", transfer.ImportOptions{NewID: true, KodObce: kods[0]}, "slug liberec is taken"},
		{"host names taken", transfer.ImportOptions{NewID: true, KodObce: kods[0], Slug: "kopie"}, "import with -no-hosts"},
		{"unknown kód", transfer.ImportOptions{NewID: true, KodObce: "999999", Slug: "kopie", NoHosts: true}, "not in this deployment's catalogue"},
	} {
		_, err := im.Import(ctx, bytes.NewReader(archive), c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
	}

	for i, slug := range []string{"kopie", "kopie-2"} {
		res, err := im.Import(ctx, bytes.NewReader(archive), transfer.ImportOptions{
			NewID: true, KodObce: kods[i], Slug: slug, Status: tenants.StatusSuspended, NoHosts: true})
		if err != nil {
			t.Fatalf("import copy %s: %v", slug, err)
		}
		n := res.Tenant.ID
		if n == a || res.Tenant.Slug != slug || res.Tenant.KodObce != kods[i] || res.Tenant.Status != "suspended" {
			t.Fatalf("copy: %+v", res.Tenant)
		}
		got := digest(t, e, n)
		if len(got["tenant_hosts"]) != 0 {
			t.Fatalf("copy has host names %v", got["tenant_hosts"])
		}
		// Every row is there under the new id, including the task key that embeds it; the
		// audit log stays behind, and the copy's own chain is empty and sound.
		compare(t, "copy "+slug, rewriteIDs(beforeA, a, n), got, "tenants", "tenant_hosts", "tenant_audit_log", "audit_heads")
		if len(got["tenant_audit_log"])+len(got["audit_heads"]) != 0 || res.AuditEntriesLeftOut != 3 {
			t.Fatalf("copy's audit log: %v, %d left out", got["tenant_audit_log"], res.AuditEntriesLeftOut)
		}
		verifyAudit(t, e, n)
		if !strings.Contains(strings.Join(got["outbox"], ""), n.String()+":window-1") {
			t.Fatalf("the task key still names the old tenant: %v", got["outbox"])
		}
		r, err := e.Registry.BySlugOrID(ctx, slug)
		if err != nil || r.ID != n || r.Status != tenants.StatusSuspended {
			t.Fatalf("registry: %+v %v", r, err)
		}
	}
	compare(t, "A after importing copies", beforeA, digest(t, e, a))
	compare(t, "B after importing copies", beforeB, digest(t, e, b))
	verifyAudit(t, e, a)
}

func TestDamagedArchivesWriteNothing(t *testing.T) {
	e, ctxA, _, a, b := twoSeeded(t)
	ctx := context.Background()
	archive := export(t, e, ctxA, transfer.WithPartSize(4096))
	if _, err := transfer.Drop(ctx, e.Owner, a); err != nil {
		t.Fatal(err)
	}
	snapshot := func() (string, map[string][]string, map[string][]string) {
		var registry string
		if err := e.Owner.QueryRow(ctx, `SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY id) FROM tenants t`).Scan(&registry); err != nil {
			t.Fatal(err)
		}
		var users string
		if err := e.Owner.QueryRow(ctx, `SELECT string_agg(row_to_json(u)::text, E'\n' ORDER BY id) FROM users u`).Scan(&users); err != nil {
			t.Fatal(err)
		}
		return registry + "\n" + users, digest(t, e, a), digest(t, e, b)
	}
	reg0, a0, b0 := snapshot()

	edited := func(target string, fn func([]byte) []byte) []byte {
		return rewriteArchive(t, archive, func(name string, data []byte) []byte {
			if name == target {
				return fn(data)
			}
			return data
		})
	}
	editJSON := func(target string, fn func(map[string]any)) []byte {
		return edited(target, func(data []byte) []byte {
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			fn(m)
			out, _ := json.Marshal(m)
			return out
		})
	}
	// The largest file entry: the PDF of several chunks.
	var bigFile string
	var bigSize int
	rewriteArchive(t, archive, func(name string, data []byte) []byte {
		if strings.HasPrefix(name, "files/") && len(data) > bigSize {
			bigFile, bigSize = name, len(data)
		}
		return data
	})

	for _, c := range []struct {
		name    string
		archive []byte
		want    error
		msg     string
	}{
		{"row changed in a table part", edited("tables/test_records/000001.jsonl", func(d []byte) []byte {
			return bytes.Replace(d, []byte("alpha"), []byte("alphb"), 1)
		}), transfer.ErrInvalidArchive, "does not match its checksum"},
		{"row removed from a table part", edited("tables/memberships/000001.jsonl", func(d []byte) []byte {
			return d[bytes.IndexByte(d, '\n')+1:]
		}), transfer.ErrInvalidArchive, "rows"},
		{"file content changed", edited(bigFile, func(d []byte) []byte {
			d = bytes.Clone(d)
			d[len(d)/2] ^= 1
			return d
		}), transfer.ErrInvalidArchive, "SHA-256 mismatch"},
		{"truncated in a file", archive[:len(archive)/2], transfer.ErrInvalidArchive, "truncated"},
		{"truncated before the manifest", edited(transfer.ManifestName, func([]byte) []byte { return nil }),
			transfer.ErrInvalidArchive, "without manifest.json"},
		{"wrong format version", editJSON(transfer.HeaderName, func(m map[string]any) { m["format_version"] = 2 }),
			transfer.ErrIncompatible, "format version 2"},
		{"not an epom archive", editJSON(transfer.HeaderName, func(m map[string]any) { m["format"] = "something-else" }),
			transfer.ErrInvalidArchive, "format"},
		{"other schema version", editJSON(transfer.HeaderName, func(m map[string]any) {
			m["schema_versions"].(map[string]any)["goose_core"] = 1
		}), transfer.ErrIncompatible, "schema versions differ"},
		{"manifest counts changed", editJSON(transfer.ManifestName, func(m map[string]any) {
			m["files"].(map[string]any)["count"] = 3
		}), transfer.ErrInvalidArchive, "the manifest says"},
		{"header swapped after the fact", editJSON(transfer.HeaderName, func(m map[string]any) { m["epom_version"] = "forged" }),
			transfer.ErrInvalidArchive, "different exports"},
		{"random bytes", randomBytes(10000, 9), transfer.ErrInvalidArchive, ""},
		{"empty", nil, transfer.ErrInvalidArchive, "without manifest.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := transfer.NewImporter(e.Owner).Import(ctx, bytes.NewReader(c.archive), transfer.ImportOptions{})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v saying %q", err, c.want, c.msg)
			}
			reg, da, db := snapshot()
			if reg != reg0 {
				t.Fatal("tenants or users changed")
			}
			compare(t, "A", a0, da)
			compare(t, "B", b0, db)
		})
	}
	// The undamaged archive still imports: the failures above were the damage's.
	if _, err := transfer.NewImporter(e.Owner).Import(ctx, bytes.NewReader(archive), transfer.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestEveryTenantTableIsTransferable pins what export and import rely on for every tenant
// table, including those modules add later: the app role can read it (export) and the owner
// has the transfer policy (import, drop).
func TestEveryTenantTableIsTransferable(t *testing.T) {
	e := tenanttest.New(t)
	rows, err := e.Owner.Query(context.Background(), `
		SELECT c.relname::text,
		       has_table_privilege('epom_app', c.oid, 'SELECT'),
		       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'owner_transfer'),
		       COALESCE(obj_description(c.oid, 'pg_class'), '') LIKE '%epom:transfer=skip%'
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var readable, policy, skip bool
		if err := rows.Scan(&name, &readable, &policy, &skip); err != nil {
			t.Fatal(err)
		}
		n++
		if !policy {
			t.Errorf("table %s has no owner_transfer policy (create it with epom_enable_tenant_rls)", name)
		}
		if !readable && !skip {
			t.Errorf("table %s is not readable by epom_app, so exports would miss it", name)
		}
	}
	if n < 8 {
		t.Fatalf("only %d tenant tables found", n)
	}
}

func TestExportNeedsTenant(t *testing.T) {
	e := tenanttest.New(t)
	if _, err := transfer.NewExporter(e.App).Export(context.Background(), io.Discard); !errors.Is(err, tenants.ErrNoTenant) {
		t.Fatalf("export without tenant: %v", err)
	}
	ctx := tenants.WithTenant(context.Background(), tenants.Tenant{ID: tenants.NewID()})
	if _, err := transfer.NewExporter(e.App).Export(ctx, io.Discard); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("export of an unknown tenant: %v", err)
	}
}
