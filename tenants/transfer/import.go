package transfer

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/files"
)

// maxJSONEntry bounds header.json and manifest.json, which are read into memory.
const maxJSONEntry = 64 << 20

// batchBytes is about how much JSON one INSERT … json_populate_recordset carries.
const batchBytes = 4 << 20

// ImportOptions says under which identity the archive's tenant is restored. The zero value
// restores it exactly as exported: same id, kód obce, slug, status and host names.
type ImportOptions struct {
	// NewID gives the tenant a fresh id; every occurrence of the old id in the archive's rows
	// (tenant_id columns, references, keys that embed it) is rewritten. Row ids stay. The
	// audit log is left out: its hash chain covers the old id and would not verify under the
	// new one, so the copy starts a chain of its own (the original's stays in the archive).
	NewID bool
	// KodObce, Slug and Status replace the archive's values when set. kód obce and slug are
	// unique in a deployment, so importing a copy next to the original needs both.
	KodObce string
	Slug    string
	Status  tenants.Status
	// NoHosts leaves out the custom host names (which are unique in a deployment).
	NoHosts bool
}

// ImportResult reports what Import restored.
type ImportResult struct {
	From   TenantInfo // the tenant as exported
	Tenant TenantInfo // the tenant as imported
	Tables []Table    // rows per table as in the archive (tenant_hosts counts even with NoHosts)
	Files  FilesSummary
	// Accounts: created here (without a password), already here with the same id, or
	// here under the same e-mail with another id (the archive's rows are pointed to it).
	UsersCreated, UsersExisting, UsersByEmail int64
	// AuditEntriesLeftOut counts audit log entries not imported under a new id.
	AuditEntriesLeftOut int64
}

// Importer restores tenant archives. It runs as the owner role: one transaction creates the
// tenant row (which only the owner and platform roles may write) and writes every tenant
// table (some of which the app role may only read), so a damaged archive or a conflict
// leaves nothing behind. The transaction is bound to the new tenant (app.tenant_id), and the
// owner_transfer policy confines the owner to that tenant's rows, as tenant_isolation does for
// the app role: an archive cannot write into another tenant.
type Importer struct {
	owner *pgxpool.Pool
}

// NewImporter returns an importer over the owner role's pool.
func NewImporter(owner *pgxpool.Pool) *Importer { return &Importer{owner: owner} }

// Import reads an archive (tar, or tar compressed with gzip) from r and restores its tenant in
// one transaction. It verifies the format and schema versions before the first row, every
// file against its SHA-256 as it arrives, and every table part against the manifest at the
// end; on any failure the transaction is rolled back and nothing is written.
//
// Module triggers fire for the restored rows; the transaction has epom.importing = 'on' so
// a trigger that must not act on a restore (an audit trigger, a counter) can tell.
func (im *Importer) Import(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	if opts.Status != "" && !opts.Status.Valid() {
		return nil, fmt.Errorf("%w: status %q", tenants.ErrInvalid, opts.Status)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrInvalidArchive, err)
		}
		defer gz.Close()
		src = gz
	}
	tx, err := im.owner.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, fmt.Errorf("import: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	st := &importer{tx: tx, tr: tar.NewReader(src), opts: opts, res: &ImportResult{}}
	if err := st.run(ctx); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("import: commit: %w", mapWriteError(err))
	}
	return st.res, nil
}

// importer is the state of one Import.
type importer struct {
	tx   pgx.Tx
	tr   *tar.Reader
	opts ImportOptions
	res  *ImportResult

	header     *Manifest
	headerPart Part
	sch        *schema
	newID      uuid.UUID
	rewrite    *strings.Replacer // old tenant id → new, archive user ids → existing ones
	userPairs  []string
	tables     []Table // as seen, in order
	insertSQL  map[string]string
	line       []byte
	batch      bytes.Buffer
	batchRows  int64
	lineReader *bufio.Reader
}

func (st *importer) run(ctx context.Context) error {
	// Deferrable constraints (file_chunks → files, and modules' own) are checked at commit,
	// when everything is in.
	if _, err := st.tx.Exec(ctx, `SET CONSTRAINTS ALL DEFERRED`); err != nil {
		return err
	}
	if _, err := st.tx.Exec(ctx, `SELECT set_config('epom.importing', 'on', true)`); err != nil {
		return err
	}
	if _, err := st.tx.Exec(ctx, outputSettings); err != nil {
		return err
	}
	var manifest *Manifest
	for {
		hdr, err := st.tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %w (truncated?)", ErrInvalidArchive, err)
		}
		if manifest != nil {
			return fmt.Errorf("%w: entry %s after %s", ErrInvalidArchive, hdr.Name, ManifestName)
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("%w: entry %s is not a regular file", ErrInvalidArchive, hdr.Name)
		}
		if st.header == nil && hdr.Name != HeaderName {
			return fmt.Errorf("%w: first entry is %s, not %s (is this an epom tenant export?)", ErrInvalidArchive, hdr.Name, HeaderName)
		}
		switch m := partName.FindStringSubmatch(hdr.Name); {
		case hdr.Name == HeaderName:
			if st.header != nil {
				return fmt.Errorf("%w: second %s", ErrInvalidArchive, HeaderName)
			}
			if err := st.readHeader(ctx, hdr); err != nil {
				return err
			}
		case hdr.Name == ManifestName:
			if manifest, err = st.readManifest(hdr); err != nil {
				return err
			}
		case m != nil:
			n, _ := strconv.Atoi(m[2])
			if err := st.readPart(ctx, hdr, m[1], n); err != nil {
				return err
			}
		case strings.HasPrefix(hdr.Name, filesDir):
			if err := st.readFile(ctx, hdr); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: unexpected entry %s", ErrInvalidArchive, hdr.Name)
		}
	}
	if manifest == nil {
		return fmt.Errorf("%w: the archive ends without %s (truncated, or the export failed)", ErrInvalidArchive, ManifestName)
	}
	if err := st.verify(ctx, manifest); err != nil {
		return err
	}
	return st.fixSequences(ctx)
}

// readJSON reads a small JSON entry and returns its part record.
func readJSON(tr *tar.Reader, hdr *tar.Header, v any) (Part, error) {
	if hdr.Size > maxJSONEntry {
		return Part{}, fmt.Errorf("%w: %s is %d bytes", ErrInvalidArchive, hdr.Name, hdr.Size)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return Part{}, fmt.Errorf("%w: read %s: %w", ErrInvalidArchive, hdr.Name, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return Part{}, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, hdr.Name, err)
	}
	sum := sha256.Sum256(data)
	return Part{Name: hdr.Name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// readHeader checks the format and that this deployment's schema is the archive's, before
// a single row is written: rows of another schema version would be misread.
func (st *importer) readHeader(ctx context.Context, hdr *tar.Header) error {
	var h Manifest
	p, err := readJSON(st.tr, hdr, &h)
	if err != nil {
		return err
	}
	if err := h.checkFormat(HeaderName); err != nil {
		return err
	}
	have, err := schemaVersions(ctx, st.tx)
	if err != nil {
		return err
	}
	if !maps.Equal(have, h.SchemaVersions) {
		var diff []string
		for _, k := range slices.Sorted(maps.Keys(mergeKeys(have, h.SchemaVersions))) {
			if have[k] != h.SchemaVersions[k] {
				diff = append(diff, fmt.Sprintf("%s archive %d, here %d", k, h.SchemaVersions[k], have[k]))
			}
		}
		return fmt.Errorf("%w: schema versions differ (%s); import into a deployment of the exporting release (%s)",
			ErrIncompatible, strings.Join(diff, "; "), h.EpomVersion)
	}
	if st.sch, err = loadSchema(ctx, st.tx); err != nil {
		return err
	}
	st.header, st.headerPart = &h, p
	st.res.From = h.Tenant
	return nil
}

// readManifest reads the manifest; verify compares it with what was read once the archive
// has ended.
func (st *importer) readManifest(hdr *tar.Header) (*Manifest, error) {
	var m Manifest
	if _, err := readJSON(st.tr, hdr, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func mergeKeys(a, b map[string]int64) map[string]int64 {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// readPart verifies and imports one table part.
func (st *importer) readPart(ctx context.Context, hdr *tar.Header, table string, n int) error {
	cur := st.current()
	if cur == nil || cur.Name != table {
		if st.seenTable(table) {
			return fmt.Errorf("%w: table %s appears twice", ErrInvalidArchive, table)
		}
		if err := st.checkTableOrder(table); err != nil {
			return err
		}
		st.tables = append(st.tables, Table{Name: table})
		cur = st.current()
	}
	if n != len(cur.Parts)+1 {
		return fmt.Errorf("%w: %s out of order", ErrInvalidArchive, hdr.Name)
	}
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(st.tr, h)}
	if st.lineReader == nil {
		st.lineReader = bufio.NewReaderSize(cr, 64<<10)
	} else {
		st.lineReader.Reset(cr)
	}
	var rows int64
	for {
		line, err := st.readLine()
		if len(line) > 0 {
			rows++
			if err := st.row(ctx, table, line); err != nil {
				return fmt.Errorf("%s line %d: %w", hdr.Name, rows, err)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: read %s: %w", ErrInvalidArchive, hdr.Name, err)
		}
	}
	if err := st.flush(ctx, table); err != nil {
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	cur.Parts = append(cur.Parts, Part{Name: hdr.Name, Rows: rows, Size: cr.n, SHA256: hex.EncodeToString(h.Sum(nil))})
	cur.Rows += rows
	return nil
}

func (st *importer) current() *Table {
	if len(st.tables) == 0 {
		return nil
	}
	return &st.tables[len(st.tables)-1]
}

func (st *importer) seenTable(name string) bool {
	return slices.ContainsFunc(st.tables, func(t Table) bool { return t.Name == name })
}

// checkTableOrder enforces the archive's order: the tenant row, then accounts, then the
// tenant tables (whose rows need both).
func (st *importer) checkTableOrder(table string) error {
	switch table {
	case tenantsTable:
		if len(st.tables) > 0 {
			return fmt.Errorf("%w: %s must be the first table", ErrInvalidArchive, table)
		}
	case usersTable, auditHeadsTable:
		if st.newID == uuid.Nil || st.rewrite != nil {
			return fmt.Errorf("%w: %s must come after %s and before the tenant tables", ErrInvalidArchive, table, tenantsTable)
		}
	default:
		if st.newID == uuid.Nil {
			return fmt.Errorf("%w: table %s before the tenant row", ErrInvalidArchive, table)
		}
		t := st.sch.byName[table]
		if t == nil {
			return fmt.Errorf("%w: the archive has table %s, which this deployment does not", ErrIncompatible, table)
		}
		if st.rewrite == nil {
			pairs := st.userPairs
			if st.newID != st.header.Tenant.ID {
				pairs = append(pairs, st.header.Tenant.ID.String(), st.newID.String())
			}
			if len(pairs) > 0 {
				st.rewrite = strings.NewReplacer(pairs...)
			} else {
				st.rewrite = strings.NewReplacer()
			}
		}
	}
	return nil
}

// readLine returns the next line without its newline; the slice is valid until the next call.
func (st *importer) readLine() ([]byte, error) {
	st.line = st.line[:0]
	for {
		chunk, err := st.lineReader.ReadSlice('\n')
		st.line = append(st.line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil {
			return st.line[:len(st.line)-1], nil
		}
		return st.line, err
	}
}

// row adds one JSON line of table to the current batch, or imports it directly for the
// tenants table.
func (st *importer) row(ctx context.Context, table string, line []byte) error {
	switch table {
	case tenantsTable:
		return st.tenantRow(ctx, line)
	case usersTable:
	case auditHeadsTable:
		if st.opts.NewID {
			return nil
		}
	default:
		if table == "tenant_hosts" && st.opts.NoHosts {
			return nil
		}
		if table == auditLogTable && st.opts.NewID {
			st.res.AuditEntriesLeftOut++
			return nil
		}
		if _, ok := st.insertSQL[table]; !ok {
			q, err := st.insertStatement(st.sch.byName[table], line)
			if err != nil {
				return err
			}
			if st.insertSQL == nil {
				st.insertSQL = map[string]string{}
			}
			st.insertSQL[table] = q
		}
		if st.rewrite != nil {
			line = []byte(st.rewrite.Replace(string(line)))
		}
	}
	if st.batch.Len() > 0 && st.batch.Len()+len(line) > batchBytes {
		if err := st.flush(ctx, table); err != nil {
			return err
		}
	}
	if st.batch.Len() == 0 {
		st.batch.WriteByte('[')
	} else {
		st.batch.WriteByte(',')
	}
	st.batch.Write(line)
	st.batchRows++
	return nil
}

// insertStatement builds the INSERT for a table from the columns its rows carry. Every
// column of the archive must exist here (otherwise data would be dropped silently);
// generated columns are computed again rather than inserted.
func (st *importer) insertStatement(t *table, first []byte) (string, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(first, &keys); err != nil {
		return "", fmt.Errorf("%w: not a JSON object: %w", ErrInvalidArchive, err)
	}
	var cols, exprs []string
	always := false
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		c, ok := t.column(k)
		if !ok {
			return "", fmt.Errorf("%w: the archive has column %s.%s, which this deployment does not", ErrIncompatible, t.name, k)
		}
		if c.generated {
			continue
		}
		always = always || c.always
		cols = append(cols, k)
		if c.typ == "json" {
			// Carried as a string holding the exact text (see selectRows).
			exprs = append(exprs, fmt.Sprintf(`(%s #>> '{}')::json`, ident(k)))
		} else {
			exprs = append(exprs, ident(k))
		}
	}
	overriding := ""
	if always {
		overriding = " OVERRIDING SYSTEM VALUE"
	}
	return fmt.Sprintf(`INSERT INTO public.%s (%s)%s SELECT %s FROM json_populate_recordset(NULL::public.%s, $1::json)`,
		ident(t.name), identList(cols), overriding, strings.Join(exprs, ", "), ident(t.name)), nil
}

// flush writes the current batch of table.
func (st *importer) flush(ctx context.Context, table string) error {
	if st.batchRows == 0 {
		return nil
	}
	st.batch.WriteByte(']')
	defer func() {
		st.batch.Reset()
		st.batchRows = 0
	}()
	switch table {
	case usersTable:
		return st.users(ctx, st.batch.Bytes())
	case auditHeadsTable:
		// Only the tenant's own chain; a head left behind by an earlier life of the tenant
		// id is replaced.
		tag, err := st.tx.Exec(ctx, `INSERT INTO audit_heads (chain, seq, hash)
			SELECT chain, seq, hash FROM json_populate_recordset(NULL::audit_heads, $1::json) WHERE chain = $2
			ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`, st.batch.Bytes(), st.newID.String())
		if err != nil {
			return fmt.Errorf("restore audit head: %w", err)
		}
		if tag.RowsAffected() != st.batchRows {
			return fmt.Errorf("%w: %s holds the head of another chain", ErrInvalidArchive, auditHeadsTable)
		}
		return nil
	}
	tag, err := st.tx.Exec(ctx, st.insertSQL[table], st.batch.Bytes())
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, mapWriteError(err))
	}
	if tag.RowsAffected() != st.batchRows {
		return fmt.Errorf("insert into %s: %d of %d rows written", table, tag.RowsAffected(), st.batchRows)
	}
	return nil
}

// tenantRow creates the tenant under the identity the options ask for and binds the
// transaction to it.
func (st *importer) tenantRow(ctx context.Context, line []byte) error {
	if st.newID != uuid.Nil {
		return fmt.Errorf("%w: more than one tenant row", ErrInvalidArchive)
	}
	var row map[string]json.RawMessage
	if err := json.Unmarshal(line, &row); err != nil {
		return fmt.Errorf("%w: tenant row: %w", ErrInvalidArchive, err)
	}
	var from TenantInfo
	for k, dst := range map[string]any{"id": &from.ID, "slug": &from.Slug, "kod_obce": &from.KodObce, "status": &from.Status} {
		if err := json.Unmarshal(row[k], dst); err != nil {
			return fmt.Errorf("%w: tenant row: %s: %w", ErrInvalidArchive, k, err)
		}
	}
	if from != st.header.Tenant {
		return fmt.Errorf("%w: the tenant row (%s, %s) is not the tenant of %s", ErrInvalidArchive, from.ID, from.Slug, HeaderName)
	}
	to := from
	if st.opts.NewID {
		to.ID = tenants.NewID()
	}
	if st.opts.KodObce != "" {
		to.KodObce = st.opts.KodObce
	}
	if st.opts.Slug != "" {
		to.Slug = st.opts.Slug
	}
	if st.opts.Status != "" {
		to.Status = string(st.opts.Status)
	}
	if err := st.checkFree(ctx, to); err != nil {
		return err
	}
	for k, v := range map[string]any{"id": to.ID, "slug": to.Slug, "kod_obce": to.KodObce, "status": to.Status} {
		b, _ := json.Marshal(v)
		row[k] = b
	}
	cols, err := columnsOf(ctx, st.tx, tenantsTable)
	if err != nil {
		return err
	}
	var names []string
	for k := range row {
		if !slices.Contains(cols, k) {
			return fmt.Errorf("%w: the archive has column tenants.%s, which this deployment does not", ErrIncompatible, k)
		}
		names = append(names, k)
	}
	slices.Sort(names)
	data, err := json.Marshal(row)
	if err != nil {
		return err
	}
	list := identList(names)
	if _, err := st.tx.Exec(ctx, fmt.Sprintf(`INSERT INTO tenants (%s) SELECT %s FROM json_populate_record(NULL::tenants, $1::json)`,
		list, list), data); err != nil {
		return fmt.Errorf("create tenant: %w", mapWriteError(err))
	}
	if _, err := st.tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, to.ID.String()); err != nil {
		return fmt.Errorf("bind tenant: %w", err)
	}
	st.newID = to.ID
	st.res.Tenant = to
	return nil
}

// checkFree explains a clash with an existing tenant before the database refuses it.
func (st *importer) checkFree(ctx context.Context, to TenantInfo) error {
	var id uuid.UUID
	var slug, kod string
	err := st.tx.QueryRow(ctx, `SELECT id, slug, kod_obce FROM tenants WHERE id = $1 OR kod_obce = $2 OR slug = $3 LIMIT 1`,
		to.ID, to.KodObce, to.Slug).Scan(&id, &slug, &kod)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("look up existing tenants: %w", err)
	case id == to.ID:
		return fmt.Errorf("%w: tenant %s (%s) already exists here; drop it first (epom tenant drop %s -yes) or import with -new-id",
			ErrConflict, id, slug, slug)
	case kod == to.KodObce:
		return fmt.Errorf("%w: kód obce %s already has tenant %s here; drop or close it, or import a copy with -new-id -kod OTHER -slug OTHER",
			ErrConflict, kod, slug)
	default:
		return fmt.Errorf("%w: slug %s is taken by tenant %s; import with -slug", ErrConflict, to.Slug, id)
	}
}

// users creates the archive's accounts that this deployment lacks (without a password: the
// archive carries none) and points rows at existing accounts that have the same e-mail under
// another id, since e-mail addresses are unique.
func (st *importer) users(ctx context.Context, batch []byte) error {
	var byEmail int64
	rows, err := st.tx.Query(ctx, `WITH src AS (SELECT * FROM json_populate_recordset(NULL::users, $1::json))
		SELECT s.id::text, u.id::text FROM src s JOIN users u ON u.email = s.email AND u.id <> s.id`, batch)
	if err != nil {
		return fmt.Errorf("match accounts: %w", err)
	}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return err
		}
		st.userPairs = append(st.userPairs, from, to)
		byEmail++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("match accounts: %w", err)
	}
	list := identList(userColumns)
	sel := make([]string, len(userColumns))
	for i, c := range userColumns {
		sel[i] = "s." + ident(c)
	}
	var created int64
	err = st.tx.QueryRow(ctx, fmt.Sprintf(`WITH src AS (SELECT * FROM json_populate_recordset(NULL::users, $1::json)),
		ins AS (INSERT INTO users (%s) SELECT %s FROM src s
		        WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.id OR u.email = s.email) RETURNING 1)
		SELECT count(*) FROM ins`, list, strings.Join(sel, ", ")), batch).Scan(&created)
	if err != nil {
		return fmt.Errorf("create accounts: %w", mapWriteError(err))
	}
	st.res.UsersCreated += created
	st.res.UsersByEmail += byEmail
	st.res.UsersExisting += st.batchRows - created - byEmail
	return nil
}

// readFile restores one file's content in chunks and checks it against its files row.
func (st *importer) readFile(ctx context.Context, hdr *tar.Header) error {
	id, err := uuid.Parse(strings.TrimPrefix(hdr.Name, filesDir))
	if err != nil {
		return fmt.Errorf("%w: entry %s", ErrInvalidArchive, hdr.Name)
	}
	if st.newID == uuid.Nil {
		return fmt.Errorf("%w: %s before the tenant row", ErrInvalidArchive, hdr.Name)
	}
	var size int64
	var want []byte
	err = st.tx.QueryRow(ctx, `SELECT size, sha256 FROM files WHERE tenant_id = $1 AND id = $2`, st.newID, id).Scan(&size, &want)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s has no row in tables/files", ErrInvalidArchive, hdr.Name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	if hdr.Size != size {
		return fmt.Errorf("%w: %s is %d bytes, its files row says %d", ErrInvalidArchive, hdr.Name, hdr.Size, size)
	}
	n, sum, err := files.WriteChunks(st.tr, func(seq int, data []byte) error {
		_, err := st.tx.Exec(ctx, `INSERT INTO file_chunks (tenant_id, file_id, seq, data) VALUES ($1, $2, $3, $4)`,
			st.newID, id, seq, data)
		return mapWriteError(err)
	})
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %s: %w (truncated?)", ErrInvalidArchive, hdr.Name, err)
		}
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	if n != size || !bytes.Equal(sum[:], want) {
		return fmt.Errorf("%w: %s: SHA-256 mismatch (content damaged)", ErrInvalidArchive, hdr.Name)
	}
	st.res.Files.Count++
	st.res.Files.Bytes += n
	return nil
}

// verify compares what was read with the manifest: the header, every table part's rows,
// size and SHA-256, and the files.
func (st *importer) verify(ctx context.Context, m *Manifest) error {
	if err := m.checkFormat(ManifestName); err != nil {
		return err
	}
	h := m.header()
	if !h.CreatedAt.Equal(st.header.CreatedAt) || h.Tenant != st.header.Tenant || h.EpomVersion != st.header.EpomVersion ||
		!maps.Equal(h.SchemaVersions, st.header.SchemaVersions) {
		return fmt.Errorf("%w: %s and %s describe different exports", ErrInvalidArchive, HeaderName, ManifestName)
	}
	if m.Header == nil || *m.Header != st.headerPart {
		return fmt.Errorf("%w: %s does not match its checksum in %s", ErrInvalidArchive, HeaderName, ManifestName)
	}
	seen := map[string]Table{}
	for _, t := range st.tables {
		seen[t.Name] = t
	}
	for _, want := range m.Tables {
		got := seen[want.Name]
		delete(seen, want.Name)
		if got.Rows != want.Rows || len(got.Parts) != len(want.Parts) {
			return fmt.Errorf("%w: table %s has %d rows in %d parts, the manifest says %d in %d",
				ErrInvalidArchive, want.Name, got.Rows, len(got.Parts), want.Rows, len(want.Parts))
		}
		for i, p := range want.Parts {
			if got.Parts[i] != p {
				return fmt.Errorf("%w: %s does not match its checksum in %s", ErrInvalidArchive, p.Name, ManifestName)
			}
		}
	}
	for name := range seen {
		return fmt.Errorf("%w: table %s is not in %s", ErrInvalidArchive, name, ManifestName)
	}
	wantFiles := FilesSummary{}
	if m.Files != nil {
		wantFiles = *m.Files
	}
	if st.res.Files != wantFiles {
		return fmt.Errorf("%w: %d files of %d bytes, the manifest says %d of %d",
			ErrInvalidArchive, st.res.Files.Count, st.res.Files.Bytes, wantFiles.Count, wantFiles.Bytes)
	}
	if st.sch.byName["files"] != nil && st.newID != uuid.Nil {
		var rows int64
		if err := st.tx.QueryRow(ctx, `SELECT count(*) FROM files WHERE tenant_id = $1`, st.newID).Scan(&rows); err != nil {
			return err
		}
		if rows != st.res.Files.Count {
			return fmt.Errorf("%w: %d files rows but %d file contents", ErrInvalidArchive, rows, st.res.Files.Count)
		}
	}
	if st.newID == uuid.Nil {
		return fmt.Errorf("%w: no tenant row", ErrInvalidArchive)
	}
	st.res.Tables = st.tables
	return nil
}

// fixSequences moves the sequences behind serial and identity columns past the restored
// values, so the next row made here does not collide with a restored one.
func (st *importer) fixSequences(ctx context.Context) error {
	for _, t := range st.sch.tables {
		for _, c := range t.columns {
			if c.sequence == "" || !st.seenTable(t.name) {
				continue
			}
			q := fmt.Sprintf(`SELECT setval('%s', m) FROM (SELECT max(%s) AS m FROM public.%s WHERE tenant_id = $1) x
				WHERE m > (SELECT last_value FROM %s)`, strings.ReplaceAll(c.sequence, "'", "''"), ident(c.name), ident(t.name), c.sequence)
			if _, err := st.tx.Exec(ctx, q, st.newID); err != nil {
				return fmt.Errorf("advance sequence %s: %w", c.sequence, err)
			}
		}
	}
	return nil
}

// columnsOf lists a table's columns.
func columnsOf(ctx context.Context, q querier, table string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT attname::text FROM pg_attribute
		WHERE attrelid = ('public.' || quote_ident($1))::regclass AND attnum > 0 AND NOT attisdropped`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// mapWriteError turns the constraint violations an import can run into into ErrConflict
// with a hint, keeping the database's message for the rest.
func mapWriteError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case pgErr.ConstraintName == "tenant_hosts_host":
		return fmt.Errorf("%w: a host name of the archive belongs to another tenant here; import with -no-hosts (%s)", ErrConflict, pgErr.Detail)
	case pgErr.Code == "23505":
		return fmt.Errorf("%w: %s (%s)", ErrConflict, pgErr.Message, pgErr.Detail)
	case pgErr.Code == "23503" && pgErr.TableName == tenantsTable:
		return fmt.Errorf("%w: the kód obce is not in this deployment's catalogue (%s)", ErrIncompatible, pgErr.Detail)
	}
	return err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
