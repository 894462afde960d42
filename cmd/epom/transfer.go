package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/transfer"
)

const transferUsage = `usage:
  epom tenant export SLUG [-o FILE]      write the tenant's archive (docs/export-format.md) to FILE or stdout
  epom tenant import [-new-id] [-kod KOD_OBCE] [-slug SLUG] [-status S] [-no-hosts] [FILE]
                                         restore an archive from FILE or stdin, in one transaction
  epom tenant drop SLUG -yes             delete the tenant and every row it has, for good`

// isTransfer reports whether a tenant subcommand is one of this file's.
func isTransfer(sub string) bool { return sub == "export" || sub == "import" || sub == "drop" }

// runTransfer is `epom tenant export|import|drop`. Export reads as the app role (row-level
// security keeps it to the tenant); import and drop write as the owner role (see
// tenants/transfer.Importer), so they need EPOM_OWNER_DATABASE_URL, like migrate.
func runTransfer(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tenant "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	output := fs.String("o", "", "export: write the archive to this file instead of stdout")
	newID := fs.Bool("new-id", false, "import: give the tenant a new id (a copy next to the original)")
	kod := fs.String("kod", "", "import: kód obce of the imported tenant (default: the archive's)")
	slug := fs.String("slug", "", "import: slug of the imported tenant (default: the archive's)")
	status := fs.String("status", "", "import: status of the imported tenant (default: the archive's); suspended holds its tasks")
	noHosts := fs.Bool("no-hosts", false, "import: leave out the custom host names")
	yes := fs.Bool("yes", false, "drop: yes, delete the tenant's data for good")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 2, "platform")
	if err != nil {
		return err
	}
	defer platform.Close()
	registry := tenants.NewRegistry(platform)

	switch args[0] {
	case "export":
		if len(pos) != 1 {
			return usagef("%s", transferUsage)
		}
		t, err := registry.BySlugOrID(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("tenant %s: %w", pos[0], err)
		}
		app, err := openPool(ctx, cfg.DatabaseURL, 2, "app")
		if err != nil {
			return err
		}
		defer app.Close()
		m, err := exportTo(tenants.WithTenant(ctx, t.Tenant), transfer.NewExporter(app), *output, out)
		if err != nil {
			return err
		}
		// Who took all of a municipality's data out, and when, is a security event.
		return record(ctx, platform, &t.ID, audit.Event{Action: "tenant-exported", Target: t.Slug,
			Details: map[string]string{"created_at": m.CreatedAt.Format(time.RFC3339Nano), "rows": strconv.FormatInt(rows(m.Tables), 10),
				"files": strconv.FormatInt(m.Files.Count, 10)}})

	case "import":
		if len(pos) > 1 {
			return usagef("%s", transferUsage)
		}
		in := io.Reader(os.Stdin)
		if len(pos) == 0 {
			if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return usagef("give the archive as FILE or on stdin (epom tenant import < archive.tar)")
			}
		}
		if len(pos) == 1 && pos[0] != "-" {
			f, err := os.Open(pos[0])
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		owner, err := openPool(ctx, cfg.OwnerDatabaseURL, 2, "owner")
		if err != nil {
			return err
		}
		defer owner.Close()
		start := time.Now()
		res, err := transfer.NewImporter(owner).Import(ctx, in, transfer.ImportOptions{NewID: *newID, KodObce: *kod,
			Slug: *slug, Status: tenants.Status(*status), NoHosts: *noHosts})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "imported %s (kód obce %s, %s) as %s (kód obce %s, %s), id %s\n", res.From.Slug, res.From.KodObce,
			res.From.ID, res.Tenant.Slug, res.Tenant.KodObce, res.Tenant.Status, res.Tenant.ID)
		fmt.Fprintf(out, "%d rows in %d tables, %d files (%d bytes); accounts: %d created without a password, %d existing, %d matched by e-mail; %s\n",
			rows(res.Tables), len(res.Tables), res.Files.Count, res.Files.Bytes, res.UsersCreated, res.UsersExisting, res.UsersByEmail,
			time.Since(start).Round(time.Millisecond))
		if res.AuditEntriesLeftOut > 0 {
			fmt.Fprintf(out, "%d audit log entries left out: their hash chain is bound to the old tenant id\n", res.AuditEntriesLeftOut)
		}
		if err := record(ctx, platform, &res.Tenant.ID, audit.Event{Action: "tenant-imported", Target: res.Tenant.Slug,
			Details: map[string]string{"from_id": res.From.ID.String(), "from_slug": res.From.Slug, "from_kod_obce": res.From.KodObce,
				"rows": strconv.FormatInt(rows(res.Tables), 10), "files": strconv.FormatInt(res.Files.Count, 10)}}); err != nil {
			return err
		}
		return announce(ctx, cfg, platform, registry, res.Tenant.ID)

	case "drop":
		if len(pos) != 1 {
			return usagef("%s", transferUsage)
		}
		t, err := registry.BySlugOrID(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("tenant %s: %w", pos[0], err)
		}
		if !*yes {
			return usagef("drop deletes %s (%s, kód obce %s) and all its data for good; export it first, then add -yes",
				t.Slug, t.DisplayName, t.KodObce)
		}
		owner, err := openPool(ctx, cfg.OwnerDatabaseURL, 2, "owner")
		if err != nil {
			return err
		}
		defer owner.Close()
		d, err := transfer.Drop(ctx, owner, t.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "dropped %s (%s): %d rows in %d tables\n", t.Slug, t.ID, rows(d.Tables), len(d.Tables))
		// The tenant's own chain is gone with it; the platform's records the drop.
		if err := record(ctx, platform, nil, audit.Event{Action: "tenant-dropped", Target: t.Slug,
			Details: map[string]string{"id": t.ID.String(), "kod_obce": t.KodObce, "rows": strconv.FormatInt(rows(d.Tables), 10)}}); err != nil {
			return err
		}
		return announce(ctx, cfg, platform, registry, t.ID)
	}
	return usagef("%s", transferUsage)
}

// exportTo writes the archive to path or, without one, to stdout. A file is written under a
// temporary name and renamed when complete, so a failed export leaves no archive that looks
// whole (Import would refuse it anyway: it has no manifest).
func exportTo(ctx context.Context, x *transfer.Exporter, path string, stdout io.Writer) (*transfer.Manifest, error) {
	var w io.Writer
	var f *os.File
	if path == "" {
		if st, ok := stdout.(*os.File); ok {
			if fi, err := st.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return nil, usagef("the archive is binary; redirect stdout to a file or use -o FILE")
			}
		}
		w = stdout
	} else {
		var err error
		if f, err = os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".partial-*"); err != nil {
			return nil, err
		}
		defer os.Remove(f.Name()) // after the rename there is nothing left to remove
		defer f.Close()
		w = f
	}
	start := time.Now()
	bw := bufio.NewWriterSize(w, 256<<10)
	m, err := x.Export(ctx, bw)
	if err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write archive: %w", err)
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		if err := os.Rename(f.Name(), path); err != nil {
			return nil, err
		}
	}
	// The summary goes to stderr: stdout may be the archive.
	fmt.Fprintf(os.Stderr, "exported %s (kód obce %s): %d rows in %d tables, %d files (%d bytes) in %s\n",
		m.Tenant.Slug, m.Tenant.KodObce, rows(m.Tables), len(m.Tables), m.Files.Count, m.Files.Bytes, time.Since(start).Round(time.Millisecond))
	return m, nil
}

func rows(tables []transfer.Table) int64 {
	var n int64
	for _, t := range tables {
		n += t.Rows
	}
	return n
}

// record appends what the command did to the tenant's audit chain (unless tenant is nil) and
// to the platform's, with the operating-system user as the actor, as `epom tenant` does.
func record(ctx context.Context, platform *pgxpool.Pool, tenant *uuid.UUID, e audit.Event) error {
	e.Actor = "epom tenant (CLI)"
	if u := os.Getenv("USER"); u != "" {
		e.Actor += " " + u
	}
	log := audit.New(nil, platform)
	if tenant != nil {
		if err := log.TenantByPlatform(ctx, *tenant, e); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	if err := log.Platform(ctx, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// announce tells running servers and workers that a tenant appeared or vanished: their
// cached tenant and their role assignments (memberships came or went with it).
func announce(ctx context.Context, cfg config.Config, platform *pgxpool.Pool, registry *tenants.Registry, id uuid.UUID) error {
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("EPOM_REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(ropts)
	defer rdb.Close()
	tenants.NewResolver(registry, rdb, time.Second).Invalidate(ctx, id.String())
	reg, err := buildModules(moduleDeps{})
	if err != nil {
		return err
	}
	az, err := authz.New(ctx, platform, rdb, append(authz.KernelPermissions(), reg.Permissions()...))
	if err != nil {
		return fmt.Errorf("reload role assignments: %w", err)
	}
	if err := az.Changed(ctx); err != nil {
		return fmt.Errorf("reload role assignments: %w", err)
	}
	return nil
}

// parseInterspersed parses flags before, between and after positional arguments
// (`epom tenant export liberec -o x.tar` as well as `-o x.tar liberec`), which the flag
// package alone stops at the first positional one.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// exports is the tenant admin's data export over the app role: the web server requests
// exports and streams finished ones (mailer nil); the worker runs the export task and
// e-mails the link (mailer set), so it registers the task handlers:
//
//	a.exports(mailSvc).RegisterTasks(mux)      // with the other handlers (jobsMux)
//	specs = append(specs, a.exports(nil).Periodic()...)  // daily deletion of expired archives
func (a *app) exports(mailer transfer.Mailer) *transfer.Exports {
	return transfer.NewExports(a.db, files.NewPostgres(a.db), transfer.NewExporter(a.appPool), mailer,
		transfer.ExportsConfig{BaseURL: a.cfg.BaseURL, Logger: a.log})
}
