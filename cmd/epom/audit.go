package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
)

// errAuditBroken makes `epom audit verify` exit non-zero when a chain is broken.
var errAuditBroken = errors.New("the audit log has been tampered with")

func runAudit(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "list") {
		return usagef("usage: epom audit verify [-tenant SLUG] | epom audit list -tenant SLUG [-n 50]")
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	slug := fs.String("tenant", "", "only this tenant's chain")
	n := fs.Int("n", 50, "entries to list")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 2, "platform")
	if err != nil {
		return err
	}
	defer platform.Close()
	app, err := openPool(ctx, cfg.DatabaseURL, 2, "app")
	if err != nil {
		return err
	}
	defer app.Close()
	db, err := tenants.NewDatabase(app)
	if err != nil {
		return err
	}
	log := audit.New(db, platform)
	var t tenants.Resolved
	if *slug != "" {
		if t, err = tenants.NewRegistry(platform).BySlugOrID(ctx, *slug); err != nil {
			return fmt.Errorf("tenant %s: %w", *slug, err)
		}
	}
	if args[0] == "list" {
		if *slug == "" {
			return usagef("audit list needs -tenant")
		}
		entries, err := log.Recent(tenants.WithTenant(ctx, t.Tenant), *n)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
		fmt.Fprintln(w, "SEQ\tAT (Europe/Prague)\tACTOR\tIP\tACTION\tTARGET\tDETAILS")
		prague := pragueLocation()
		for _, e := range entries {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%v\n", e.Seq, e.At.In(prague).Format("2006-01-02 15:04:05"),
				e.Actor, e.IP, e.Action, e.Target, e.Details)
		}
		return w.Flush()
	}
	id := uuid.Nil
	if *slug != "" {
		id = t.ID
	}
	rep, err := log.Verify(ctx, id)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(out, "BROKEN", p)
	}
	fmt.Fprintf(out, "%d chains, %d entries, %d problems\n", rep.Chains, rep.Entries, len(rep.Problems))
	if !rep.OK() {
		return errAuditBroken
	}
	return nil
}

// pragueLocation is where Czech users read times; the tz database is embedded (time/tzdata in
// main.go), so this works in a minimal image too.
func pragueLocation() *time.Location {
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		return time.UTC
	}
	return loc
}
