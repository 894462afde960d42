package transfer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// querier is what the catalogue reads need: a pgx transaction or pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// skipComment in a table's COMMENT leaves the table out of exports: for tables that hold only
// what is derived from the rest or about to go (the export jobs themselves). A module that
// needs it writes `COMMENT ON TABLE t IS '… epom:transfer=skip …'` in its migration.
const skipComment = "epom:transfer=skip"

// column is one column of a tenant table.
type column struct {
	name      string
	typ       string // format_type, e.g. "text", "json", "numeric(14,2)"
	generated bool   // GENERATED ALWAYS AS (…) STORED: computed, never inserted
	always    bool   // GENERATED ALWAYS AS IDENTITY: inserting needs OVERRIDING SYSTEM VALUE
	sequence  string // the sequence behind a serial or identity column, "" if none
}

// table is a tenant table (one with a tenant_id column) as the catalogue describes it.
type table struct {
	name     string
	columns  []column
	pk       []string
	deps     []string // other tenant tables it references
	userRefs []string // its columns with a foreign key to users (id)
	skip     bool
}

func (t *table) column(name string) (column, bool) {
	for _, c := range t.columns {
		if c.name == name {
			return c, true
		}
	}
	return column{}, false
}

// schema is the deployment's tenant tables, in an order where every table comes after the
// tables it references (import order; drop goes the other way).
type schema struct {
	tables []*table
	byName map[string]*table
}

// loadSchema reads the tenant tables from the catalogue. Tables are found, not listed, so a
// module's tables are exported as soon as its migration creates them.
func loadSchema(ctx context.Context, q querier) (*schema, error) {
	s := &schema{byName: map[string]*table{}}
	rows, err := q.Query(ctx, `
		SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '', a.attidentity = 'a',
		       COALESCE(pg_get_serial_sequence('public.' || quote_ident(c.relname), a.attname), ''),
		       COALESCE(obj_description(c.oid, 'pg_class'), '')
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attname = 'tenant_id' AND NOT t.attisdropped)
		ORDER BY c.relname, a.attnum`)
	if err != nil {
		return nil, fmt.Errorf("read tenant tables: %w", err)
	}
	for rows.Next() {
		var tname, comment string
		var c column
		if err := rows.Scan(&tname, &c.name, &c.typ, &c.generated, &c.always, &c.sequence, &comment); err != nil {
			rows.Close()
			return nil, err
		}
		t := s.byName[tname]
		if t == nil {
			t = &table{name: tname, skip: strings.Contains(comment, skipComment)}
			s.byName[tname] = t
		}
		t.columns = append(t.columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tenant tables: %w", err)
	}

	rows, err = q.Query(ctx, `
		SELECT c.relname, array_agg(a.attname::text ORDER BY k.ord)
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
		WHERE i.indisprimary AND n.nspname = 'public'
		GROUP BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("read primary keys: %w", err)
	}
	for rows.Next() {
		var tname string
		var cols []string
		if err := rows.Scan(&tname, &cols); err != nil {
			rows.Close()
			return nil, err
		}
		if t := s.byName[tname]; t != nil {
			t.pk = cols
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read primary keys: %w", err)
	}

	rows, err = q.Query(ctx, `
		SELECT c.relname, r.relname,
		       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
		        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
		       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
		        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)
		FROM pg_constraint con
		JOIN pg_class c ON c.oid = con.conrelid
		JOIN pg_class r ON r.oid = con.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE con.contype = 'f' AND n.nspname = 'public'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	for rows.Next() {
		var child, parent string
		var cols, refCols []string
		if err := rows.Scan(&child, &parent, &cols, &refCols); err != nil {
			rows.Close()
			return nil, err
		}
		t := s.byName[child]
		if t == nil {
			continue
		}
		switch {
		case parent == child:
		case s.byName[parent] != nil:
			if !slices.Contains(t.deps, parent) {
				t.deps = append(t.deps, parent)
			}
		case parent == usersTable && len(cols) == 1 && slices.Equal(refCols, []string{"id"}):
			t.userRefs = append(t.userRefs, cols[0])
		}
		// References to tenants (the tenant itself) and to reference data such as the
		// catalogue need nothing: the importer creates the tenant first, and reference data
		// is the same in every deployment.
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	if err := s.sort(); err != nil {
		return nil, err
	}
	return s, nil
}

// sort orders the tables so that referenced tables come first (Kahn's algorithm, by name
// among equals, so the order is stable).
func (s *schema) sort() error {
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	done := map[string]bool{}
	for len(s.tables) < len(names) {
		progress := false
		for _, n := range names {
			if done[n] {
				continue
			}
			t := s.byName[n]
			ready := true
			for _, d := range t.deps {
				ready = ready && done[d]
			}
			if ready {
				done[n] = true
				s.tables = append(s.tables, t)
				progress = true
			}
		}
		if !progress {
			var cycle []string
			for _, n := range names {
				if !done[n] {
					cycle = append(cycle, n)
				}
			}
			return fmt.Errorf("tenant tables reference each other in a cycle: %s", strings.Join(cycle, ", "))
		}
	}
	return nil
}

// selectRows is the export query of a table: one JSON object per row, in primary key order.
// A column of type json keeps its text exactly (whitespace, key order, duplicate keys), which
// embedding it in the row's JSON would not, and its line breaks would split the JSON Lines;
// so it travels as a JSON string holding that text, and the importer parses it back.
func (t *table) selectRows(where string) string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = ident(c.name)
		if c.typ == "json" {
			cols[i] += "::text AS " + ident(c.name)
		}
	}
	q := fmt.Sprintf(`SELECT row_to_json(x)::text FROM (SELECT %s FROM public.%s t WHERE %s) x`,
		strings.Join(cols, ", "), ident(t.name), where)
	if len(t.pk) > 0 {
		q += " ORDER BY " + identList(t.pk)
	}
	return q
}

// ident quotes an identifier for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ident(n)
	}
	return strings.Join(q, ", ")
}

// tableExists reports whether public.name exists.
func tableExists(ctx context.Context, q querier, name string) (bool, error) {
	rows, err := q.Query(ctx, `SELECT to_regclass('public.' || quote_ident($1)) IS NOT NULL`, name)
	if err != nil {
		return false, fmt.Errorf("look up table %s: %w", name, err)
	}
	ok, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[bool])
	if err != nil {
		return false, fmt.Errorf("look up table %s: %w", name, err)
	}
	return ok, nil
}

// schemaVersions reads every goose version table through the function the app role may call.
func schemaVersions(ctx context.Context, q querier) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT version_table, version FROM epom_migration_versions()`)
	if err != nil {
		return nil, fmt.Errorf("read schema versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var v int64
		if err := rows.Scan(&t, &v); err != nil {
			return nil, err
		}
		out[t] = v
	}
	return out, rows.Err()
}
