package transfer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
)

// DefaultPartSize is the most a table part holds (a single larger row gets a part of its
// own). A part is assembled in memory because a tar header needs the entry's size up front;
// this bound is what keeps the exporter's memory independent of the table's size.
const DefaultPartSize = 4 << 20

// Exporter writes tenant archives. It reads as the app role with the transaction bound to the
// tenant, so row-level security keeps the export to that tenant whatever a query says.
type Exporter struct {
	app      *pgxpool.Pool
	version  string
	now      func() time.Time
	partSize int
}

// ExporterOption configures an Exporter.
type ExporterOption func(*Exporter)

// WithPartSize sets the largest table part (tests use small parts to cover the splitting).
func WithPartSize(n int) ExporterOption { return func(x *Exporter) { x.partSize = n } }

// WithVersion sets the epom version recorded in the archive (default Version()).
func WithVersion(v string) ExporterOption { return func(x *Exporter) { x.version = v } }

// NewExporter returns an exporter over the app role's pool.
func NewExporter(app *pgxpool.Pool, opts ...ExporterOption) *Exporter {
	x := &Exporter{app: app, version: Version(), now: time.Now, partSize: DefaultPartSize}
	for _, o := range opts {
		o(x)
	}
	return x
}

// Export writes the archive of the tenant in ctx to w and returns its manifest. All reads
// happen in one REPEATABLE READ READ ONLY transaction, so the archive is one consistent
// snapshot of the tenant however long the export takes; rows and file contents stream from
// the database to w, with at most one table part and one file chunk in memory. On error the
// archive written so far is incomplete: it has no manifest, and Import refuses it.
func (x *Exporter) Export(ctx context.Context, w io.Writer) (*Manifest, error) {
	tenantID, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := x.app.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("export: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, tenantID.String()); err != nil {
		return nil, fmt.Errorf("export: bind tenant: %w", err)
	}
	if _, err := tx.Exec(ctx, outputSettings); err != nil {
		return nil, fmt.Errorf("export: settings: %w", err)
	}
	m, err := x.export(ctx, tx, tenantID, w)
	if err != nil {
		return nil, fmt.Errorf("export tenant %s: %w", tenantID, err)
	}
	return m, nil
}

func (x *Exporter) export(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, w io.Writer) (*Manifest, error) {
	sch, err := loadSchema(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := checkReadable(ctx, tx, sch); err != nil {
		return nil, err
	}
	versions, err := schemaVersions(ctx, tx)
	if err != nil {
		return nil, err
	}
	hasAuditHeads, err := tableExists(ctx, tx, auditHeadsTable)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, FormatVersion: FormatVersion, EpomVersion: x.version,
		CreatedAt: x.now().UTC(), SchemaVersions: versions}
	m.Tenant.ID = tenantID
	err = tx.QueryRow(ctx, `SELECT slug, kod_obce, status FROM tenants WHERE id = $1`, tenantID).
		Scan(&m.Tenant.Slug, &m.Tenant.KodObce, &m.Tenant.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, tenants.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read tenant: %w", err)
	}

	aw := &archiveWriter{tw: tar.NewWriter(w), modTime: m.CreatedAt, partSize: x.partSize}
	header, err := json.MarshalIndent(m.header(), "", "  ")
	if err != nil {
		return nil, err
	}
	hp, err := aw.entry(HeaderName, header)
	if err != nil {
		return nil, err
	}

	// The tenant's registry row, then the accounts its rows refer to (allow-listed columns
	// only), then every tenant table in dependency order.
	t, err := aw.table(ctx, tx, tenantsTable, `SELECT row_to_json(t)::text FROM tenants t WHERE t.id = $1`, tenantID)
	if err != nil {
		return nil, err
	}
	m.Tables = append(m.Tables, t)
	if t, err = aw.table(ctx, tx, usersTable, usersQuery(sch), tenantID); err != nil {
		return nil, err
	}
	m.Tables = append(m.Tables, t)
	if hasAuditHeads {
		if t, err = aw.table(ctx, tx, auditHeadsTable, `SELECT row_to_json(h)::text FROM audit_heads h WHERE h.chain = $1::text`, tenantID); err != nil {
			return nil, err
		}
		m.Tables = append(m.Tables, t)
	}
	for _, tbl := range sch.tables {
		if tbl.skip || tbl.name == "file_chunks" {
			continue
		}
		where := `t.tenant_id = $1`
		if tbl.name == "files" {
			// Temporary files (export archives) are left out: they are about to expire and
			// are derived from the rest anyway.
			where += ` AND t.expires_at IS NULL`
		}
		if t, err = aw.table(ctx, tx, tbl.name, tbl.selectRows(where), tenantID); err != nil {
			return nil, err
		}
		m.Tables = append(m.Tables, t)
	}
	if sch.byName["files"] != nil {
		if m.Files, err = aw.files(ctx, tx, tenantID); err != nil {
			return nil, err
		}
	}

	m.Header = &hp
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := aw.entry(ManifestName, manifest); err != nil {
		return nil, err
	}
	if err := aw.tw.Close(); err != nil {
		return nil, fmt.Errorf("finish archive: %w", err)
	}
	return m, nil
}

// outputSettings fix how values are written as text, whatever the server's configuration:
// UTC offsets, ISO 8601 intervals, floats that read back to the same value, bytea as hex.
// The importer sets them too (only DateStyle affects reading, and ISO is unambiguous).
const outputSettings = `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
	set_config('IntervalStyle', 'iso_8601', true), set_config('extra_float_digits', '1', true),
	set_config('bytea_output', 'hex', true)`

// checkReadable makes sure the app role may read every tenant table: a module table without
// a SELECT grant would otherwise be missing from archives without anyone noticing.
func checkReadable(ctx context.Context, tx pgx.Tx, sch *schema) error {
	var missing []string
	for _, t := range sch.tables {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT has_table_privilege('public.' || quote_ident($1), 'SELECT')`, t.name).Scan(&ok); err != nil {
			return fmt.Errorf("check privileges on %s: %w", t.name, err)
		}
		if !ok && !t.skip {
			missing = append(missing, t.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the app role may not read tenant tables %s: grant SELECT in their migration, or mark them %q",
			strings.Join(missing, ", "), skipComment)
	}
	return nil
}

// usersQuery selects the accounts that the tenant's rows refer to through a foreign key.
func usersQuery(sch *schema) string {
	var refs []string
	for _, t := range sch.tables {
		if t.skip {
			continue
		}
		for _, c := range t.userRefs {
			refs = append(refs, fmt.Sprintf(`SELECT %s FROM public.%s WHERE tenant_id = $1`, ident(c), ident(t.name)))
		}
	}
	if len(refs) == 0 {
		refs = []string{`SELECT NULL::uuid WHERE $1::uuid IS NULL`}
	}
	return fmt.Sprintf(`SELECT row_to_json(u)::text FROM (SELECT %s FROM users WHERE id IN (%s)) u ORDER BY u.id`,
		identList(userColumns), strings.Join(refs, " UNION "))
}

// archiveWriter writes tar entries and records their checksums.
type archiveWriter struct {
	tw       *tar.Writer
	modTime  time.Time
	partSize int
	buf      bytes.Buffer
}

// entry writes one entry whose content is in memory.
func (a *archiveWriter) entry(name string, data []byte) (Part, error) {
	if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)),
		Mode: 0o644, ModTime: a.modTime, Format: tar.FormatPAX}); err != nil {
		return Part{}, fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := a.tw.Write(data); err != nil {
		return Part{}, fmt.Errorf("write %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	return Part{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// table streams the rows of query (one JSON text column) into parts of at most partSize.
func (a *archiveWriter) table(ctx context.Context, tx pgx.Tx, name, query string, args ...any) (Table, error) {
	t := Table{Name: name, Parts: []Part{}}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return t, fmt.Errorf("read %s: %w", name, err)
	}
	defer rows.Close()
	var partRows int64
	flush := func() error {
		if partRows == 0 {
			return nil
		}
		p, err := a.entry(tablePartName(name, len(t.Parts)+1), a.buf.Bytes())
		if err != nil {
			return err
		}
		p.Rows = partRows
		t.Parts = append(t.Parts, p)
		t.Rows += partRows
		a.buf.Reset()
		partRows = 0
		return nil
	}
	for rows.Next() {
		raw := rows.RawValues()[0]
		if a.buf.Len() > 0 && a.buf.Len()+len(raw)+1 > a.partSize {
			if err := flush(); err != nil {
				return t, err
			}
		}
		start := a.buf.Len()
		a.buf.Write(raw)
		// A raw line break in row_to_json's output can only be whitespace inside a value of
		// type json (strings escape theirs); a space keeps the meaning and the line intact.
		line := a.buf.Bytes()[start:]
		for i, b := range line {
			if b == '\n' || b == '\r' {
				line[i] = ' '
			}
		}
		a.buf.WriteByte('\n')
		partRows++
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("read %s: %w", name, err)
	}
	return t, flush()
}

// files streams every permanent file's content as files/<id>, chunk by chunk, checking each
// against the SHA-256 and size in its files row (the archive must not carry a corrupt file
// as if it were good).
func (a *archiveWriter) files(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID) (*FilesSummary, error) {
	rows, err := tx.Query(ctx, `SELECT f.id, f.size, f.sha256, c.data
		FROM files f LEFT JOIN file_chunks c ON c.tenant_id = f.tenant_id AND c.file_id = f.id
		WHERE f.tenant_id = $1 AND f.expires_at IS NULL
		ORDER BY f.id, c.seq`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read files: %w", err)
	}
	defer rows.Close()
	sum := &FilesSummary{}
	var (
		cur      uuid.UUID
		size     int64
		want     []byte
		written  int64
		h        hash.Hash
		haveFile bool
	)
	finish := func() error {
		if !haveFile {
			return nil
		}
		if written != size || !bytes.Equal(h.Sum(nil), want) {
			return fmt.Errorf("stored file %s is corrupt: %d of %d bytes, SHA-256 differs or chunks are missing", cur, written, size)
		}
		sum.Count++
		sum.Bytes += size
		return nil
	}
	for rows.Next() {
		var id uuid.UUID
		var sz int64
		var sha []byte
		if err := rows.Scan(&id, &sz, &sha, nil); err != nil {
			return nil, fmt.Errorf("read files: %w", err)
		}
		if !haveFile || id != cur {
			if err := finish(); err != nil {
				return nil, err
			}
			cur, size, want, written, h, haveFile = id, sz, sha, 0, sha256.New(), true
			if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: filesDir + id.String(), Size: sz,
				Mode: 0o644, ModTime: a.modTime, Format: tar.FormatPAX}); err != nil {
				return nil, fmt.Errorf("write file %s: %w", id, err)
			}
		}
		data := rows.RawValues()[3]
		if data == nil {
			continue // a file without content has no chunks
		}
		if written+int64(len(data)) > size {
			return nil, fmt.Errorf("stored file %s is corrupt: its chunks are longer than its size %d", id, size)
		}
		h.Write(data)
		if _, err := a.tw.Write(data); err != nil {
			return nil, fmt.Errorf("write file %s: %w", id, err)
		}
		written += int64(len(data))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read files: %w", err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return sum, nil
}
