package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/identity"
)

// demoPassword is the password of every demo account; `epom dev` prints it.
const demoPassword = "demo-heslo-2026"

// demoTOTPSecret is the TOTP secret of every demo staff account, published in the README so
// the demo shows the real two-step sign-in: add it to an authenticator app, or compute the
// code (oathtool --totp -b EPOMDEMOEPOMDEMOEPOMDEMOEPOMDEMO).
const demoTOTPSecret = "EPOMDEMOEPOMDEMOEPOMDEMOEPOMDEMO"

// devSecretKey encrypts TOTP secrets in `epom dev` when EPOM_SECRET_KEY is unset. It is
// public, so it is for a developer's machine only; `serve` has no such fallback.
var devSecretKey = []byte("epom dev key: published, public!")

// demoTenant is a municipality of Liberecký kraj in the demo region.
type demoTenant struct {
	kod, slug, displayName, email, phone, website, address string
}

func demoTenants() []demoTenant {
	return []demoTenant{
		{"563889", "liberec", "Statutární město Liberec", "posta@magistrat.liberec.cz", "+420 485 243 111",
			"https://www.liberec.cz", "nám. Dr. E. Beneše 1/1, 460 01 Liberec"},
		{"564061", "hodkovice-nad-mohelkou", "Město Hodkovice nad Mohelkou", "mesto@hodkovice.cz", "+420 485 145 120",
			"https://www.hodkovice.cz", "nám. T. G. Masaryka 1, 463 42 Hodkovice nad Mohelkou"},
		{"546631", "bily-potok", "Obec Bílý Potok", "obec@bilypotok.cz", "+420 482 322 061",
			"https://www.bilypotok.cz", "Bílý Potok 1, 463 62 Hejnice"},
	}
}

type demoUser struct {
	email, name string
	platform    []identity.PlatformRole
	roles       map[string][]string // tenant slug → roles
}

func demoUsers() []demoUser {
	return []demoUser{
		{email: "admin@epom.demo", name: "Správce platformy", platform: []identity.PlatformRole{{Role: authz.RolePlatformAdmin, Scope: authz.PlatformDomain}}},
		{email: "operator@liberecky-kraj.demo", name: "Operátor Libereckého kraje", platform: []identity.PlatformRole{{Role: authz.RoleOperator, Scope: "kraj:CZ051"}}},
		{email: "starosta@liberec.demo", name: "Jana Nováková", roles: map[string][]string{"liberec": {authz.RoleTenantAdmin}}},
		{email: "urednik@liberec.demo", name: "Petr Svoboda", roles: map[string][]string{"liberec": {authz.RoleClerk}}},
		{email: "ucetni@hodkovice.demo", name: "Marie Dvořáková", roles: map[string][]string{
			"hodkovice-nad-mohelkou": {authz.RoleTenantAdmin}, "bily-potok": {authz.RoleClerk}}},
		{email: "auditor@liberec.demo", name: "Karel Černý", roles: map[string][]string{"liberec": {authz.RoleAuditor}}},
		{email: "obcan@epom.demo", name: "Tomáš Procházka"},
	}
}

// seedDemo makes the demo region: the three tenants (every module on), their settings, the
// demo accounts, and each module's demo data. Running it again changes nothing.
func seedDemo(ctx context.Context, a *app) error {
	bySlug := map[string]tenants.Resolved{}
	for _, d := range demoTenants() {
		t, err := a.registry.BySlugOrID(ctx, d.slug)
		if errors.Is(err, tenants.ErrNotFound) {
			t, err = a.registry.Create(ctx, tenants.CreateParams{KodObce: d.kod, Slug: d.slug, Status: tenants.StatusActive, Modules: a.modules.IDs()})
		}
		if err != nil {
			return fmt.Errorf("demo tenant %s: %w", d.slug, err)
		}
		if err := a.registry.SetModules(ctx, t.ID, a.modules.IDs(), true); err != nil {
			return err
		}
		tctx := tenants.WithTenant(ctx, t.Tenant)
		store := tenants.NewSettingsStore(a.db)
		if _, saved, err := store.Get(tctx, t.Name); err != nil {
			return err
		} else if !saved {
			if _, err := store.Put(tctx, tenants.Settings{DisplayName: d.displayName, ContactEmail: d.email,
				ContactPhone: d.phone, Website: d.website, Address: d.address}, tenants.NewID()); err != nil {
				return err
			}
		}
		bySlug[d.slug] = t
	}
	for _, u := range demoUsers() {
		user, err := a.identity.UserByEmail(ctx, u.email)
		if errors.Is(err, identity.ErrBadCredentials) {
			user, err = a.identity.CreateUser(ctx, u.email, u.name, demoPassword)
		}
		if err != nil {
			return fmt.Errorf("demo user %s: %w", u.email, err)
		}
		if len(u.platform) > 0 || len(u.roles) > 0 {
			on, err := a.identity.HasTOTP(ctx, user.ID)
			if err != nil {
				return err
			}
			if !on {
				if err := a.identity.EnrolTOTPWithSecret(ctx, user, demoTOTPSecret); err != nil {
					return fmt.Errorf("demo totp %s: %w", u.email, err)
				}
			}
		}
		for _, pr := range u.platform {
			if err := a.identity.GrantPlatformRole(ctx, user.ID, pr); err != nil {
				return err
			}
		}
		for slug, roles := range u.roles {
			for _, r := range roles {
				if err := a.identity.Grant(tenants.WithTenant(ctx, bySlug[slug].Tenant), user.ID, r); err != nil {
					return fmt.Errorf("demo role %s in %s: %w", r, slug, err)
				}
			}
		}
	}
	for _, t := range bySlug {
		tctx := tenants.WithTenant(ctx, t.Tenant)
		for _, m := range a.modules.All() {
			if d, ok := m.(modules.WithDemoData); ok {
				if err := d.SeedDemo(tctx); err != nil {
					return fmt.Errorf("demo data of %s in %s: %w", m.ID(), t.Slug, err)
				}
			}
		}
		a.resolver.Invalidate(ctx, t.ID.String())
	}
	return a.authz.Changed(ctx)
}

func runDev(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) > 0 {
		return usagef("dev takes no arguments")
	}
	m, done, err := migrator(ctx, cfg)
	if err != nil {
		return err
	}
	res, err := m.Up(ctx)
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "migrations applied: %d\n", res.Applied)
	if len(cfg.SecretKey) == 0 {
		cfg.SecretKey = devSecretKey
		fmt.Fprintln(out, "EPOM_SECRET_KEY is not set: using the published development key")
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	if err := seedDemo(ctx, a); err != nil {
		return err
	}
	mailSvc := a.mail
	mounts, closeOps, err := a.jobsOps()
	if err != nil {
		return err
	}
	defer closeOps()
	srv, err := a.server(ctx, mounts)
	if err != nil {
		return err
	}
	// Unset (the usual case here), /metrics stays on the public port; set, dev behaves as serve.
	if err := a.serveOps(ctx); err != nil {
		return err
	}
	// One process does everything here: the worker (with the outbox relay) and the scheduler
	// run beside the server and stop with it.
	go func() {
		if err := a.runJobWorker(ctx, mailSvc); err != nil && ctx.Err() == nil {
			a.log.Error("worker stopped", "err", err)
		}
	}()
	go func() {
		if err := a.runJobScheduler(ctx, mailSvc); err != nil && ctx.Err() == nil {
			a.log.Error("scheduler stopped", "err", err)
		}
	}()
	fmt.Fprintf(out, `
epom is running at %[1]s

  Public pages    %[1]s/o/liberec   %[1]s/o/hodkovice-nad-mohelkou   %[1]s/o/bily-potok
  Staff app       %[1]s/app/
  API             %[1]s/api/v1/modules
  Health          %[1]s/readyz   %[4]s
  Queues          %[1]s/admin/queues (platform admin)

Demo sign-ins (password for all: %[2]s)
Staff accounts have two-factor sign-in on with the published TOTP secret %[3]s
(add it to an authenticator app, or: oathtool --totp -b %[3]s)
`, cfg.BaseURL, demoPassword, demoTOTPSecret, metricsURL(cfg))
	for _, u := range demoUsers() {
		what := "citizen"
		switch {
		case len(u.platform) > 0:
			what = u.platform[0].String()
		case len(u.roles) > 0:
			what = fmt.Sprint(u.roles)
		}
		fmt.Fprintf(out, "  %-32s %s\n", u.email, what)
	}
	fmt.Fprintln(out)
	return a.serveHTTP(ctx, srv)
}

// metricsURL is where this process answers /metrics: on the ops listener when EPOM_OPS_ADDR
// is set, otherwise on the public port.
func metricsURL(cfg config.Config) string {
	if cfg.OpsAddr == "" {
		return cfg.BaseURL + "/metrics"
	}
	host, port, _ := net.SplitHostPort(cfg.OpsAddr) // config.Load checked the form
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/metrics"
}
