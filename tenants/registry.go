package tenants

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants/catalogue"
)

// Registry manages the tenants themselves. It runs as the platform role: tenant creation and
// resolution are the few code paths that see across tenants.
type Registry struct {
	platform *pgxpool.Pool
	now      func() time.Time
}

// NewRegistry returns a registry over the platform role's pool.
func NewRegistry(platform *pgxpool.Pool) *Registry {
	return &Registry{platform: platform, now: time.Now}
}

// Resolved is everything a request needs to know about its tenant, read in one query and
// cached by the Resolver.
type Resolved struct {
	Tenant
	DisplayName  string
	Modules      []string // enabled module ids, sorted
	EmbedOrigins []string // origins allowed to frame the public pages
}

// Enabled reports whether module id is switched on for the tenant.
func (r Resolved) Enabled(id string) bool {
	_, ok := slices.BinarySearch(r.Modules, id)
	return ok
}

const resolveSQL = `
SELECT t.id, t.slug, t.status, t.kod_obce, c.nazev, c.kraj_kod_nuts, t.created_at,
       COALESCE((SELECT array_agg(h.host ORDER BY h.host) FROM tenant_hosts h WHERE h.tenant_id = t.id), '{}'),
       COALESCE((SELECT array_agg(m.module_id ORDER BY m.module_id) FROM tenant_modules m WHERE m.tenant_id = t.id), '{}'),
       COALESCE(s.embed_origins, '{}'),
       COALESCE(NULLIF(s.display_name, ''), c.nazev)
FROM tenants t
JOIN catalogue_municipalities c ON c.kod_obce = t.kod_obce
LEFT JOIN tenant_settings s ON s.tenant_id = t.id
`

func scanResolved(row pgx.Row) (Resolved, error) {
	var r Resolved
	var status string
	err := row.Scan(&r.ID, &r.Slug, &status, &r.KodObce, &r.Name, &r.KrajNUTS, &r.CreatedAt,
		&r.Hosts, &r.Modules, &r.EmbedOrigins, &r.DisplayName)
	if errors.Is(err, pgx.ErrNoRows) {
		return Resolved{}, ErrNotFound
	}
	if err != nil {
		return Resolved{}, fmt.Errorf("resolve tenant: %w", err)
	}
	r.Status = Status(status)
	return r, nil
}

// BySlugOrID loads a tenant by its slug or, when ref parses as a UUID, by its id.
func (g *Registry) BySlugOrID(ctx context.Context, ref string) (Resolved, error) {
	if id, err := uuid.Parse(ref); err == nil {
		return scanResolved(g.platform.QueryRow(ctx, resolveSQL+`WHERE t.id = $1`, id))
	}
	return scanResolved(g.platform.QueryRow(ctx, resolveSQL+`WHERE t.slug = $1`, ref))
}

// ByHost loads the tenant that owns a custom host name.
func (g *Registry) ByHost(ctx context.Context, host string) (Resolved, error) {
	return scanResolved(g.platform.QueryRow(ctx,
		resolveSQL+`WHERE t.id = (SELECT tenant_id FROM tenant_hosts WHERE host = $1)`, host))
}

// CreateParams describes a new tenant.
type CreateParams struct {
	KodObce string
	Slug    string // empty: derived from the municipality's name
	Status  Status // pending or active
	Hosts   []string
	Modules []string
}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Slugify turns a municipality's name into a URL slug: "Hodkovice nad Mohelkou" →
// "hodkovice-nad-mohelkou".
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range catalogue.Fold(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// Create registers a tenant for a municipality of the catalogue.
func (g *Registry) Create(ctx context.Context, p CreateParams) (Resolved, error) {
	var t Resolved
	err := pgx.BeginFunc(ctx, g.platform, func(tx pgx.Tx) error {
		var err error
		t, err = g.CreateTx(ctx, tx, p)
		return err
	})
	return t, err
}

// CreateTx is Create inside the caller's platform transaction, for callers that write more
// in the same commit (onboarding: the audit entries, the subscription request, the e-mails).
func (g *Registry) CreateTx(ctx context.Context, tx pgx.Tx, p CreateParams) (Resolved, error) {
	if p.Status == "" {
		p.Status = StatusPending
	}
	if p.Status != StatusPending && p.Status != StatusActive {
		return Resolved{}, fmt.Errorf("%w: a new tenant is pending or active, not %q", ErrInvalid, p.Status)
	}
	var name string
	err := tx.QueryRow(ctx, `SELECT nazev FROM catalogue_municipalities WHERE kod_obce = $1`, p.KodObce).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return Resolved{}, fmt.Errorf("%w: kód obce %s", ErrUnknownMunicipality, p.KodObce)
	}
	if err != nil {
		return Resolved{}, fmt.Errorf("look up municipality: %w", err)
	}
	if p.Slug == "" {
		p.Slug = Slugify(name)
	}
	if !slugPattern.MatchString(p.Slug) {
		return Resolved{}, fmt.Errorf("%w: slug %q", ErrInvalid, p.Slug)
	}
	id := NewID()
	// A savepoint, so a constraint violation leaves the caller's transaction usable.
	err = pgx.BeginFunc(ctx, tx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, kod_obce, slug, status) VALUES ($1, $2, $3, $4)`,
			id, p.KodObce, p.Slug, p.Status); err != nil {
			return err
		}
		for _, h := range p.Hosts {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant_hosts (tenant_id, host) VALUES ($1, $2)`, id, strings.ToLower(h)); err != nil {
				return err
			}
		}
		for _, m := range p.Modules {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant_modules (tenant_id, module_id) VALUES ($1, $2)
				ON CONFLICT DO NOTHING`, id, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Resolved{}, mapWriteError("create tenant", err)
	}
	return scanResolved(tx.QueryRow(ctx, resolveSQL+`WHERE t.id = $1`, id))
}

// mapWriteError turns constraint violations into kernel errors so callers get a 409/422, not
// a database message.
func mapWriteError(op string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("%s: %w: %s", op, ErrConflict, constraintSubject(pgErr.ConstraintName))
		case "23503", "23514":
			return fmt.Errorf("%s: %w: %s", op, ErrInvalid, constraintSubject(pgErr.ConstraintName))
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func constraintSubject(constraint string) string {
	switch constraint {
	case "tenants_slug_key":
		return "the slug is taken"
	case "tenants_kod_obce_key":
		return "the municipality already has a tenant"
	case "tenant_hosts_host":
		return "the host name belongs to another tenant"
	case "tenants_slug_check":
		return "the slug is not valid"
	}
	return constraint
}

// SetStatus moves a tenant to status.
func (g *Registry) SetStatus(ctx context.Context, id uuid.UUID, status Status) (Resolved, error) {
	var t Resolved
	err := pgx.BeginFunc(ctx, g.platform, func(tx pgx.Tx) error {
		var err error
		t, err = g.SetStatusTx(ctx, tx, id, status)
		return err
	})
	return t, err
}

// SetStatusTx is SetStatus inside the caller's platform transaction.
func (g *Registry) SetStatusTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, status Status) (Resolved, error) {
	if !status.Valid() {
		return Resolved{}, fmt.Errorf("%w: status %q", ErrInvalid, status)
	}
	// Setting the status it already has is a no-op that keeps status_changed_at; an unknown id
	// is reported by the read that follows.
	if _, err := tx.Exec(ctx, `UPDATE tenants SET status = $2, status_changed_at = now()
		WHERE id = $1 AND status <> $2`, id, string(status)); err != nil {
		return Resolved{}, mapWriteError("set tenant status", err)
	}
	return scanResolved(tx.QueryRow(ctx, resolveSQL+`WHERE t.id = $1`, id))
}

// ReplaceModulesTx makes modules the tenant's whole set of enabled modules, inside the
// caller's platform transaction, and reports which it switched on and off.
func (g *Registry) ReplaceModulesTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, modules []string) (on, off []string, err error) {
	if modules == nil {
		modules = []string{}
	}
	rows, err := tx.Query(ctx, `DELETE FROM tenant_modules WHERE tenant_id = $1 AND NOT (module_id = ANY($2))
		RETURNING module_id`, id, modules)
	if err != nil {
		return nil, nil, mapWriteError("disable tenant modules", err)
	}
	if off, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, nil, mapWriteError("disable tenant modules", err)
	}
	rows, err = tx.Query(ctx, `INSERT INTO tenant_modules (tenant_id, module_id)
		SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING module_id`, id, modules)
	if err != nil {
		return nil, nil, mapWriteError("enable tenant modules", err)
	}
	if on, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, nil, mapWriteError("enable tenant modules", err)
	}
	slices.Sort(on)
	slices.Sort(off)
	return on, off, nil
}

// SetModules switches module ids on (enabled) or off for a tenant.
func (g *Registry) SetModules(ctx context.Context, id uuid.UUID, modules []string, enabled bool) error {
	var err error
	if enabled {
		_, err = g.platform.Exec(ctx, `INSERT INTO tenant_modules (tenant_id, module_id)
			SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, id, modules)
	} else {
		_, err = g.platform.Exec(ctx, `DELETE FROM tenant_modules WHERE tenant_id = $1 AND module_id = ANY($2)`, id, modules)
	}
	return mapWriteError("set tenant modules", err)
}

// ListFilter narrows List.
type ListFilter struct {
	Status   Status
	KrajNUTS string
	Limit    int
	Offset   int
}

// List returns a page of tenants ordered by slug, and how many match in all.
func (g *Registry) List(ctx context.Context, f ListFilter) ([]Resolved, int, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	where := `WHERE ($1 = '' OR t.status = $1) AND ($2 = '' OR c.kraj_kod_nuts = $2)`
	var total int
	if err := g.platform.QueryRow(ctx, `SELECT count(*) FROM tenants t JOIN catalogue_municipalities c
		ON c.kod_obce = t.kod_obce `+where, string(f.Status), f.KrajNUTS).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count tenants: %w", err)
	}
	rows, err := g.platform.Query(ctx, resolveSQL+where+` ORDER BY t.slug LIMIT $3 OFFSET $4`,
		string(f.Status), f.KrajNUTS, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []Resolved
	for rows.Next() {
		r, err := scanResolved(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// ProvisionParams selects the municipalities to provision in bulk.
type ProvisionParams struct {
	KrajNUTS string // empty: the whole country
	Status   Status
	Modules  []string
}

// Provision creates a tenant for every municipality of the catalogue (or of one kraj) that has
// none yet, in one transaction with COPY, and returns how many it created. Slugs are the
// folded names; where a name repeats (there are dozens of Lhotas) the okres is appended, and
// then the kód obce.
func (g *Registry) Provision(ctx context.Context, p ProvisionParams) (int, error) {
	if p.Status == "" {
		p.Status = StatusActive
	}
	var created int
	err := pgx.BeginFunc(ctx, g.platform, func(tx pgx.Tx) error {
		// Serialise bulk provisioning so two runs cannot pick the same slug.
		if _, err := tx.Exec(ctx, `LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		taken := map[string]bool{}
		rows, err := tx.Query(ctx, `SELECT slug FROM tenants`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			taken[s] = true
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT c.kod_obce, c.nazev, c.okres_nazev FROM catalogue_municipalities c
			WHERE ($1 = '' OR c.kraj_kod_nuts = $1)
			  AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.kod_obce = c.kod_obce)
			ORDER BY c.kod_obce`, p.KrajNUTS)
		if err != nil {
			return err
		}
		type candidate struct{ kod, name, okres string }
		var cands []candidate
		for rows.Next() {
			var c candidate
			if err := rows.Scan(&c.kod, &c.name, &c.okres); err != nil {
				return err
			}
			cands = append(cands, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// Names that occur more than once get a qualified slug for every occurrence, so the
		// result does not depend on which one was provisioned first.
		count := map[string]int{}
		for _, c := range cands {
			count[Slugify(c.name)]++
		}
		tenantRows := make([][]any, 0, len(cands))
		var moduleTenants []uuid.UUID
		var moduleIDs []string
		now := g.now()
		for _, c := range cands {
			slug := Slugify(c.name)
			if count[slug] > 1 || taken[slug] {
				slug = Slugify(c.name + " " + c.okres)
			}
			if taken[slug] {
				slug = Slugify(c.name + " " + c.kod)
			}
			taken[slug] = true
			id := NewID()
			tenantRows = append(tenantRows, []any{id, c.kod, slug, string(p.Status), now, now})
			for _, m := range p.Modules {
				moduleTenants = append(moduleTenants, id)
				moduleIDs = append(moduleIDs, m)
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tenants"},
			[]string{"id", "kod_obce", "slug", "status", "created_at", "status_changed_at"},
			pgx.CopyFromRows(tenantRows)); err != nil {
			return err
		}
		// COPY is refused on tables with row-level security, so module rows go in as arrays.
		if _, err := tx.Exec(ctx, `INSERT INTO tenant_modules (tenant_id, module_id, enabled_at)
			SELECT unnest($1::uuid[]), unnest($2::text[]), $3`, moduleTenants, moduleIDs, now); err != nil {
			return err
		}
		created = len(tenantRows)
		return nil
	})
	if err != nil {
		return 0, mapWriteError("provision tenants", err)
	}
	return created, nil
}
