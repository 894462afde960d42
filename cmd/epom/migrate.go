package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants"
)

func migrator(ctx context.Context, cfg config.Config) (*tenants.Migrator, func(), error) {
	reg, err := buildModules(moduleDeps{})
	if err != nil {
		return nil, nil, err
	}
	owner, err := openPool(ctx, cfg.OwnerDatabaseURL, 2, "owner")
	if err != nil {
		return nil, nil, err
	}
	return tenants.NewMigrator(owner, moduleMigrationSets(reg)), owner.Close, nil
}

func runMigrate(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) != 1 {
		return usagef("usage: epom migrate up|down|status")
	}
	m, done, err := migrator(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	switch args[0] {
	case "up":
		res, err := m.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "migrations applied: %d; catalogue rows inserted or updated: %d\n", res.Applied, res.CatalogueRows)
	case "down":
		msg, err := m.Down(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, msg)
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "current"
			if len(s.Pending) > 0 {
				state = "pending: " + strings.Join(s.Pending, ", ")
			}
			fmt.Fprintf(out, "%-14s version %d of %d, %s\n", s.Name, s.Current, s.Target, state)
		}
	default:
		return usagef("usage: epom migrate up|down|status")
	}
	return nil
}
