package transfer_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/tenanttest"
	"github.com/epom-cz/epom/tenants/transfer"
)

// moduleSchema stands in for a module that lands later: tables the exporter has never heard
// of, with the column types modules use, an identity column, a generated column, references
// to files, users and each other.
const moduleSchema = `
CREATE TABLE test_records (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    no          bigint GENERATED ALWAYS AS IDENTITY,
    title       text NOT NULL,
    body        jsonb,
    raw         json,
    tags        text[],
    amount      numeric(14,2),
    ratio       double precision,
    blob        bytea,
    at          timestamptz,
    day         date,
    span        interval,
    author      uuid REFERENCES users (id),
    attachment  uuid,
    title_len   integer GENERATED ALWAYS AS (length(title)) STORED,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, attachment) REFERENCES files (tenant_id, id)
);
GRANT SELECT, INSERT ON test_records TO epom_app;
SELECT epom_enable_tenant_rls('test_records');
CREATE TABLE test_notes (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    record_id   uuid NOT NULL,
    note        text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES test_records (tenant_id, id)
);
GRANT SELECT, INSERT ON test_notes TO epom_app;
SELECT epom_enable_tenant_rls('test_notes');
`

// newEnv is a test database with the stand-in module's tables.
func newEnv(t testing.TB) *tenanttest.Env {
	t.Helper()
	e := tenanttest.New(t)
	if _, err := e.Owner.Exec(context.Background(), moduleSchema); err != nil {
		t.Fatalf("module tables: %v", err)
	}
	return e
}

func timeFar() time.Time { return time.Now().Add(24 * time.Hour) }

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}).Read(b)
	return b
}

// seed fills a tenant with rows in every kernel table, files and the module's tables; tag
// makes the content differ between tenants. shared is an account that is a member of both.
func seed(t testing.TB, e *tenanttest.Env, ctx context.Context, tag string, shared uuid.UUID) {
	t.Helper()
	tn, _ := tenants.FromContext(ctx)
	bg := context.Background()
	admin, author := tenants.NewID(), tenants.NewID()
	for _, u := range []struct {
		id    uuid.UUID
		email string
	}{{admin, "admin@" + tag + ".test"}, {author, "author@" + tag + ".test"}} {
		if _, err := e.App.Exec(bg, `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, 'argon2id$secret')`,
			u.id, u.email, "Uživatel "+tag); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Platform.Exec(bg, `INSERT INTO tenant_hosts (tenant_id, host) VALUES ($1, $2)`, tn.ID, "epom."+tag+".test"); err != nil {
		t.Fatal(err)
	}
	st := files.NewPostgres(e.DB)
	pdf, err := st.Put(ctx, "vyhláška "+tag+".pdf", "application/pdf", bytes.NewReader(randomBytes(2*files.ChunkSize+777, uint64(len(tag)))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "empty.txt", "text/plain", strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutTemporary(ctx, "old-export.tar", "application/x-tar", strings.NewReader("derived"), timeFar()); err != nil {
		t.Fatal(err)
	}
	err = e.DB.InTx(ctx, func(ctx context.Context) error {
		db := tenants.DB(ctx)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO tenant_settings (tenant_id, display_name, contact_email, embed_origins, updated_by) VALUES (?, ?, ?, ?, ?)`,
				[]any{tn.ID, "Obec " + tag, "podatelna@" + tag + ".test", "{https://www." + tag + ".test}", admin}},
			{`INSERT INTO memberships (tenant_id, user_id, role) VALUES (?, ?, 'tenant-admin'), (?, ?, 'clerk'), (?, ?, 'clerk')`,
				[]any{tn.ID, admin, tn.ID, shared, tn.ID, author}},
			{`INSERT INTO mail_log (tenant_id, id, template, lang, to_address, from_name, subject, text_body)
			  VALUES (?, ?, 'notification', 'cs', ?, ?, 'Předmět', E'řádek 1\nřádek 2')`,
				[]any{tn.ID, tenants.NewID(), "obcan@" + tag + ".test", "Obec " + tag}},
		} {
			if err := db.Exec(q.sql, q.args...).Error; err != nil {
				return err
			}
		}
		for i := range 25 {
			id := tenants.NewID()
			var attachment any
			if i == 0 {
				attachment = pdf.ID
			}
			if err := db.Exec(`INSERT INTO test_records (tenant_id, id, title, body, raw, tags, amount, ratio, blob, at, day, span, author, attachment)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now() - make_interval(mins => ?), current_date, '1 day 02:03:04', ?, ?)`,
				tn.ID, id, fmt.Sprintf("Záznam alpha %s %02d \"uvozovky\" \\ lomítko", tag, i),
				fmt.Sprintf(`{"n": %d, "nested": {"a": [1, 2.50, null, "x"]}, "tenant": "%s"}`, i, tn.ID),
				"{\n  \"keep\":   \"spaces\"\n}", "{a,\"b c\",NULL}", "12345678.90", 0.1+float64(i),
				randomBytes(100, uint64(i)), i, author, attachment).Error; err != nil {
				return err
			}
			if err := db.Exec(`INSERT INTO test_notes (tenant_id, id, record_id, note) VALUES (?, ?, ?, ?)`,
				tn.ID, tenants.NewID(), id, "poznámka "+tag).Error; err != nil {
				return err
			}
		}
		// A pending task whose key embeds the tenant id (as periodic windows do).
		_, err := jobs.Enqueue(ctx, jobs.Task{Type: "core:test.noop", Key: "window-1"})
		return err
	})
	if err != nil {
		t.Fatalf("seed %s: %v", tag, err)
	}
	// The tenant's audit chain, written as the server writes it.
	log := audit.New(e.DB, e.Platform)
	for _, action := range []string{"sign-in", "settings-changed", "role-granted"} {
		if err := log.Tenant(ctx, audit.Event{ActorID: &admin, Actor: "admin@" + tag + ".test", IP: "192.0.2.1",
			Action: action, Target: tag, Details: map[string]string{"tenant": tn.ID.String()}}); err != nil {
			t.Fatal(err)
		}
	}
}

// verifyAudit fails unless the tenant's audit chain verifies.
func verifyAudit(t testing.TB, e *tenanttest.Env, id uuid.UUID) audit.Report {
	t.Helper()
	rep, err := audit.New(e.DB, e.Platform).Verify(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("audit chain of %s: %v", id, rep.Problems)
	}
	return rep
}

// digest is every row of a tenant, per table, as sorted JSON lines: the tenants row, its
// rows in every tenant table, and the accounts its memberships and records refer to (all
// columns, password hashes included, to show what happens to them).
func digest(t testing.TB, e *tenanttest.Env, id uuid.UUID) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	err := pgx.BeginFunc(ctx, e.Owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, id.String()); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relkind = 'r'
			  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id') ORDER BY 1`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		queries := map[string]string{
			"tenants":     `SELECT row_to_json(t)::text FROM tenants t WHERE id = $1`,
			"audit_heads": `SELECT row_to_json(h)::text FROM audit_heads h WHERE chain = $1::text`,
			"users": `SELECT row_to_json(u)::text FROM users u WHERE id IN (SELECT user_id FROM memberships WHERE tenant_id = $1
				UNION SELECT author FROM test_records WHERE tenant_id = $1)`,
		}
		for _, tbl := range tables {
			queries[tbl] = fmt.Sprintf(`SELECT row_to_json(t)::text FROM %s t WHERE tenant_id = $1`, tbl)
		}
		// Temporary files (export archives) are not tenant data an export carries.
		queries["files"] += ` AND expires_at IS NULL`
		queries["file_chunks"] += ` AND file_id IN (SELECT id FROM files WHERE expires_at IS NULL)`
		for name, q := range queries {
			rows, err := tx.Query(ctx, q, id)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			slices.Sort(lines)
			out[name] = lines
		}
		return nil
	})
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return out
}

// rewriteIDs replaces one tenant id by another in a digest and sorts again.
func rewriteIDs(d map[string][]string, from, to uuid.UUID) map[string][]string {
	out := map[string][]string{}
	for k, lines := range d {
		var n []string
		for _, l := range lines {
			n = append(n, strings.ReplaceAll(l, from.String(), to.String()))
		}
		slices.Sort(n)
		out[k] = n
	}
	return out
}

// compare fails on any difference between two digests, naming the table.
func compare(t testing.TB, what string, want, got map[string][]string, skip ...string) {
	t.Helper()
	for table, w := range want {
		if slices.Contains(skip, table) {
			continue
		}
		g := got[table]
		if !slices.Equal(w, g) {
			t.Errorf("%s: table %s differs:\nwant %d rows %.600q\ngot  %d rows %.600q", what, table, len(w), w, len(g), g)
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok && !slices.Contains(skip, table) {
			t.Errorf("%s: unexpected table %s", what, table)
		}
	}
}

func rowCount(d map[string][]string) int {
	n := 0
	for _, l := range d {
		n += len(l)
	}
	return n
}

func export(t testing.TB, e *tenanttest.Env, ctx context.Context, opts ...transfer.ExporterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := transfer.NewExporter(e.App, opts...).Export(ctx, &buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.Bytes()
}

// rewriteArchive rebuilds a tar archive with edit applied to every entry's content (a nil
// result drops the entry), so only the checksums can notice.
func rewriteArchive(t testing.TB, archive []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data = edit(hdr.Name, data)
		if data == nil {
			continue
		}
		hdr.Size = int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// entries lists an archive's entry names in order.
func entries(t testing.TB, archive []byte) []string {
	t.Helper()
	var names []string
	rewriteArchive(t, archive, func(name string, data []byte) []byte {
		names = append(names, name)
		return data
	})
	return names
}
