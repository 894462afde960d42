package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/epom-cz/epom/tenants/catalogue"
	"github.com/epom-cz/epom/tenants/migrations"
)

// MigrationSet is one independently versioned group of migrations: the kernel's, or one
// module's with its own version table goose_<module>.
type MigrationSet struct {
	Name string
	FS   fs.FS
}

// VersionTable is the goose version table of the set.
func (s MigrationSet) VersionTable() string { return "goose_" + s.Name }

// Migrator applies the kernel migrations, then every module's, then refreshes the catalogue.
// It runs as the owner role; the app role never runs DDL.
type Migrator struct {
	owner *pgxpool.Pool
	sets  []MigrationSet
}

// NewMigrator returns a migrator for the kernel set followed by modules in order.
func NewMigrator(owner *pgxpool.Pool, modules []MigrationSet) *Migrator {
	sets := append([]MigrationSet{{Name: "core", FS: migrations.FS()}}, modules...)
	return &Migrator{owner: owner, sets: sets}
}

// Sets lists the migration sets in the order they apply.
func (m *Migrator) Sets() []MigrationSet { return m.sets }

func (m *Migrator) provider(db *sql.DB, s MigrationSet) (*goose.Provider, error) {
	// A session advisory lock serialises concurrent migrators (several pods, parallel tests).
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, s.FS,
		goose.WithTableName(s.VersionTable()),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("migrations %s: %w", s.Name, err)
	}
	return p, nil
}

// UpResult says what Up did.
type UpResult struct {
	Applied       int   // migrations applied
	CatalogueRows int64 // catalogue rows inserted or updated
}

// Up applies every pending migration and synchronises the catalogue. Running it again
// changes nothing.
func (m *Migrator) Up(ctx context.Context) (UpResult, error) {
	db := stdlib.OpenDBFromPool(m.owner)
	defer db.Close()
	var res UpResult
	for _, s := range m.sets {
		p, err := m.provider(db, s)
		if err != nil {
			return res, err
		}
		applied, err := p.Up(ctx)
		res.Applied += len(applied)
		if err != nil {
			return res, fmt.Errorf("migrate %s up: %w", s.Name, err)
		}
	}
	ms, err := catalogue.Load()
	if err != nil {
		return res, err
	}
	if res.CatalogueRows, err = catalogue.Sync(ctx, m.owner, ms); err != nil {
		return res, err
	}
	return res, nil
}

// Down rolls back the newest migration of the last set (in apply order) that has one applied.
func (m *Migrator) Down(ctx context.Context) (string, error) {
	db := stdlib.OpenDBFromPool(m.owner)
	defer db.Close()
	for i := len(m.sets) - 1; i >= 0; i-- {
		s := m.sets[i]
		p, err := m.provider(db, s)
		if err != nil {
			return "", err
		}
		v, err := p.GetDBVersion(ctx)
		if err != nil {
			return "", fmt.Errorf("version of %s: %w", s.Name, err)
		}
		if v == 0 {
			continue
		}
		r, err := p.Down(ctx)
		if err != nil {
			return "", fmt.Errorf("migrate %s down: %w", s.Name, err)
		}
		return fmt.Sprintf("%s: rolled back %s", s.Name, r.Source.Path), nil
	}
	return "", errors.New("nothing to roll back")
}

// SetStatus is the state of one migration set.
type SetStatus struct {
	Name    string
	Current int64
	Target  int64
	Pending []string
}

// Status reports every set's applied and embedded versions.
func (m *Migrator) Status(ctx context.Context) ([]SetStatus, error) {
	db := stdlib.OpenDBFromPool(m.owner)
	defer db.Close()
	var out []SetStatus
	for _, s := range m.sets {
		p, err := m.provider(db, s)
		if err != nil {
			return nil, err
		}
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", s.Name, err)
		}
		ss := SetStatus{Name: s.Name}
		for _, x := range st {
			ss.Target = max(ss.Target, x.Source.Version)
			if x.State == goose.StateApplied {
				ss.Current = max(ss.Current, x.Source.Version)
			} else {
				ss.Pending = append(ss.Pending, x.Source.Path)
			}
		}
		out = append(out, ss)
	}
	return out, nil
}

// ExpectedVersions returns the newest embedded version of every set, for readiness checks.
func ExpectedVersions(sets []MigrationSet) (map[string]int64, error) {
	out := make(map[string]int64, len(sets))
	for _, s := range sets {
		files, err := fs.Glob(s.FS, "*.sql")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			v, err := goose.NumericComponent(f)
			if err != nil {
				return nil, fmt.Errorf("migration %s/%s: %w", s.Name, f, err)
			}
			out[s.VersionTable()] = max(out[s.VersionTable()], v)
		}
	}
	return out, nil
}

// CheckMigrated reports an error when a set is behind the version embedded in the binary. A
// database ahead of the binary is fine: during a rolling upgrade the migration hook runs
// first, and the old pods must keep serving until they are replaced (migrations are written
// to be backwards compatible, expand then contract). It runs as the app role through
// epom_migration_versions().
func CheckMigrated(ctx context.Context, app *pgxpool.Pool, expected map[string]int64) error {
	rows, err := app.Query(ctx, `SELECT version_table, version FROM epom_migration_versions()`)
	if err != nil {
		return fmt.Errorf("read migration versions: %w", err)
	}
	defer rows.Close()
	have := map[string]int64{}
	for rows.Next() {
		var t string
		var v int64
		if err := rows.Scan(&t, &v); err != nil {
			return err
		}
		have[t] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for t, want := range expected {
		if have[t] < want {
			return fmt.Errorf("migrations %s at version %d, binary expects %d", t, have[t], want)
		}
	}
	return nil
}
