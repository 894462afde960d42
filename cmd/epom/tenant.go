package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
)

const tenantUsage = `usage:
  epom tenant list [-status S] [-kraj CZ051]
  epom tenant create -kod KOD_OBCE [-slug SLUG] [-status pending|active] [-modules a,b|all] [-host h1,h2]
  epom tenant suspend|activate|close SLUG
  epom tenant modules SLUG -enable a,b | -disable a,b
  epom tenant provision [-kraj CZ051] [-status active] [-modules a,b|all]   (every municipality without a tenant)
  epom tenant export SLUG [-o FILE] | import [flags] [FILE] | drop SLUG -yes   (see epom tenant import -h)`

// tenantCLI is the platform-side tenant administration; it works with the platform role and
// tells running servers to drop their cached copy of a changed tenant.
type tenantCLI struct {
	registry *tenants.Registry
	audit    *audit.Log
	resolver *tenants.Resolver
	modules  []string
	out      io.Writer
}

func runTenant(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usagef(tenantUsage)
	}
	if isTransfer(args[0]) {
		return runTransfer(ctx, cfg, args, out)
	}
	reg, err := buildModules(moduleDeps{})
	if err != nil {
		return err
	}
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 4, "platform")
	if err != nil {
		return err
	}
	defer platform.Close()
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(ropts)
	defer rdb.Close()
	registry := tenants.NewRegistry(platform)
	c := &tenantCLI{registry: registry, audit: audit.New(nil, platform), resolver: tenants.NewResolver(registry, rdb, time.Second), modules: reg.IDs(), out: out}
	return c.run(ctx, platform, args)
}

// record writes what the command line did to a tenant into its audit chain and the
// platform's, with the operating-system user as the actor.
func (c *tenantCLI) record(ctx context.Context, t tenants.Resolved, action string, details map[string]string) error {
	actor := "epom tenant (CLI)"
	if u := os.Getenv("USER"); u != "" {
		actor += " " + u
	}
	ev := audit.Event{Actor: actor, Action: action, Target: t.Slug, Details: details}
	if err := c.audit.TenantByPlatform(ctx, t.ID, ev); err != nil {
		return err
	}
	return c.audit.Platform(ctx, ev)
}

func (c *tenantCLI) moduleList(s string) ([]string, error) {
	if s == "all" {
		return c.modules, nil
	}
	list := splitList(s)
	for _, m := range list {
		known := false
		for _, k := range c.modules {
			known = known || k == m
		}
		if !known {
			return nil, usagef("unknown module %q (known: %v)", m, c.modules)
		}
	}
	return list, nil
}

func (c *tenantCLI) run(ctx context.Context, platform *pgxpool.Pool, args []string) error {
	fs := flag.NewFlagSet("tenant "+args[0], flag.ContinueOnError)
	fs.SetOutput(c.out)
	status := fs.String("status", "", "tenant status")
	kraj := fs.String("kraj", "", "NUTS 3 code of the kraj, e.g. CZ051")
	kod := fs.String("kod", "", "kód obce (6 digits)")
	slug := fs.String("slug", "", "URL slug; default from the name")
	mods := fs.String("modules", "", "comma-separated module ids, or all")
	hosts := fs.String("host", "", "comma-separated custom host names")
	enable := fs.String("enable", "", "modules to switch on")
	disable := fs.String("disable", "", "modules to switch off")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "list":
		list, total, err := c.registry.List(ctx, tenants.ListFilter{Status: tenants.Status(*status), KrajNUTS: *kraj, Limit: 10000})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(c.out, 0, 2, 2, ' ', 0)
		fmt.Fprintln(w, "SLUG\tSTATUS\tKÓD OBCE\tNAME\tKRAJ\tMODULES")
		for _, t := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\n", t.Slug, t.Status, t.KodObce, t.DisplayName, t.KrajNUTS, t.Modules)
		}
		_ = w.Flush()
		fmt.Fprintf(c.out, "%d tenants\n", total)
	case "create":
		if *kod == "" {
			return usagef("tenant create needs -kod")
		}
		ms, err := c.moduleList(*mods)
		if err != nil {
			return err
		}
		t, err := c.registry.Create(ctx, tenants.CreateParams{KodObce: *kod, Slug: *slug,
			Status: tenants.Status(*status), Hosts: splitList(*hosts), Modules: ms})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "created %s (%s), %s, id %s\n", t.Slug, t.DisplayName, t.Status, t.ID)
	case "suspend", "activate", "close":
		if fs.NArg() != 1 {
			return usagef("usage: epom tenant %s SLUG", args[0])
		}
		t, err := c.registry.BySlugOrID(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		to := map[string]tenants.Status{"suspend": tenants.StatusSuspended, "activate": tenants.StatusActive, "close": tenants.StatusClosed}[args[0]]
		from := t.Status
		if t, err = c.registry.SetStatus(ctx, t.ID, to); err != nil {
			return err
		}
		if from != to {
			if err := c.record(ctx, t, "tenant-status", map[string]string{"from": string(from), "to": string(to)}); err != nil {
				return err
			}
		}
		c.resolver.Invalidate(ctx, t.ID.String())
		fmt.Fprintf(c.out, "%s is now %s\n", t.Slug, t.Status)
	case "modules":
		if fs.NArg() != 1 || (*enable == "") == (*disable == "") {
			return usagef("usage: epom tenant modules SLUG -enable a,b | -disable a,b")
		}
		t, err := c.registry.BySlugOrID(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		on := *enable != ""
		ms, err := c.moduleList(*enable + *disable)
		if err != nil {
			return err
		}
		if err := c.registry.SetModules(ctx, t.ID, ms, on); err != nil {
			return err
		}
		action := map[bool]string{true: "module-enabled", false: "module-disabled"}[on]
		if err := c.record(ctx, t, action, map[string]string{"modules": strings.Join(ms, ",")}); err != nil {
			return err
		}
		c.resolver.Invalidate(ctx, t.ID.String())
		fmt.Fprintf(c.out, "%s: modules %v switched %s\n", t.Slug, ms, map[bool]string{true: "on", false: "off"}[on])
	case "provision":
		ms, err := c.moduleList(*mods)
		if err != nil {
			return err
		}
		st := tenants.Status(*status)
		if st == "" {
			st = tenants.StatusActive
		}
		start := time.Now()
		n, err := c.registry.Provision(ctx, tenants.ProvisionParams{KrajNUTS: *kraj, Status: st, Modules: ms})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "provisioned %d tenants in %s\n", n, time.Since(start).Round(time.Millisecond))
	default:
		return usagef(tenantUsage)
	}
	return nil
}
