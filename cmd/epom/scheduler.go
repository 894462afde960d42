package main

import (
	"context"
	"io"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// periodicSpecs is every periodic job of this binary: the kernel's and each module's.
func periodicSpecs(reg *modules.Registry, mailSvc *email.Service) ([]jobs.PeriodicSpec, error) {
	specs, err := reg.Periodic()
	if err != nil {
		return nil, err
	}
	return append(mailSvc.Periodic(), specs...), nil
}

// runJobScheduler writes each periodic window's tasks to the outbox until ctx ends. Any
// number of schedulers may run (each window is created once), so `epom dev` and a
// dedicated `epom scheduler` do not conflict.
func (a *app) runJobScheduler(ctx context.Context, mailSvc *email.Service) error {
	specs, err := periodicSpecs(a.modules, mailSvc)
	if err != nil {
		return err
	}
	// Expired export archives are deleted on a schedule.
	specs = append(specs, a.exports(nil).Periodic()...)
	s, err := jobs.NewScheduler(a.platform, specs, jobs.SchedulerConfig{Logger: a.log})
	if err != nil {
		return err
	}
	a.log.Info("scheduler started", "specs", len(specs))
	return s.Run(ctx)
}

// runScheduler is `epom scheduler`.
func runScheduler(ctx context.Context, cfg config.Config, args []string, _ io.Writer) error {
	if len(args) > 0 {
		return usagef("scheduler takes no arguments")
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.serveOps(ctx); err != nil {
		return err
	}
	return a.runJobScheduler(ctx, a.mail)
}
