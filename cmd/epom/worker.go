package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// newMailService builds the tenants' e-mail service: SMTP from EPOM_SMTP_URL with the
// platform sender from EPOM_MAIL_FROM or, when no SMTP server is configured, a sender that
// only logs (the tenant's mail log then says "not sent" rather than pretending).
func newMailService(cfg config.Config, db *tenants.Database, log *slog.Logger) (*email.Service, error) {
	tpl, err := mail.LoadTemplates()
	if err != nil {
		return nil, err
	}
	name, addr, err := mail.ParseSender(cfg.MailFrom)
	if err != nil {
		return nil, fmt.Errorf("EPOM_MAIL_FROM: %w", err)
	}
	var sender mail.Sender
	if cfg.SMTPURL == "" {
		sender = mail.LogOnly{Log: log, MessageIDDomain: addr[strings.LastIndexByte(addr, '@')+1:]}
	} else {
		mc, err := mail.ParseURL(cfg.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("EPOM_SMTP_URL: %w", err)
		}
		mc.FromAddress, mc.FromName = addr, name
		if sender, err = mail.NewSMTP(mc); err != nil {
			return nil, err
		}
	}
	return email.NewService(db, tpl, sender, email.Config{Logger: log}), nil
}

// jobsMux holds every task handler of this binary: the kernel's (e-mail) and each module's,
// each module confined to its own task types.
func jobsMux(reg *modules.Registry, mailSvc *email.Service) (*jobs.Mux, error) {
	mux := jobs.NewMux()
	if err := mailSvc.RegisterTasks(mux); err != nil {
		return nil, err
	}
	if err := reg.RegisterTasks(mux); err != nil {
		return nil, err
	}
	return mux, nil
}

// register adds c to the process's metrics, once (`epom dev` builds several parts).
func (a *app) register(c prometheus.Collector) {
	if err := a.promReg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			a.log.Warn("register metrics", "err", err)
		}
	}
}

// runJobWorker runs the outbox relay and the task worker until ctx ends, then shuts the
// worker down gracefully (running tasks get EPOM_SHUTDOWN_TIMEOUT to finish; the rest go
// back to their queues). `epom worker` and `epom dev` use it.
func (a *app) runJobWorker(ctx context.Context, mailSvc *email.Service) error {
	mux, err := jobsMux(a.modules, mailSvc)
	if err != nil {
		return err
	}
	// The tenant admin's data export runs as a kernel task.
	if err := a.exports(mailSvc).RegisterTasks(mux); err != nil {
		return err
	}
	relay, err := jobs.NewRelay(a.platform, jobs.RelayConfig{RedisURL: a.cfg.RedisURL, Logger: a.log})
	if err != nil {
		return err
	}
	w, err := jobs.NewWorker(a.platform, jobs.ResolverGate(a.resolver), mux, jobs.Config{
		RedisURL: a.cfg.RedisURL, ShutdownTimeout: a.cfg.ShutdownTimeout, Logger: a.log, Tracer: a.tracerOrNil(),
	})
	if err != nil {
		return err
	}
	a.register(w.Metrics())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return relay.Run(gctx) })
	g.Go(func() error { return w.Run(gctx) })
	// Mail in the deployment's own name (account e-mails) has no tenant and its own queue.
	g.Go(func() error { return mailSvc.RunPlatformSender(gctx, a.platform, email.PlatformSenderConfig{}) })
	// Expired sessions, links and sign-in steps of users who never come back.
	g.Go(func() error { return a.identity.RunPrune(gctx, a.log, time.Hour) })
	return g.Wait()
}

// jobsOps is the operations side for the web server: the asynq UI (read-only) to mount at
// /admin/queues behind the platform-admin check, and the queue and outbox metrics registered
// for /metrics. closeOps releases their Redis connections.
func (a *app) jobsOps() (mounts map[string]http.Handler, closeOps func(), err error) {
	ui, closeUI, err := jobs.NewQueuesUI(a.cfg.RedisURL, "/admin/queues")
	if err != nil {
		return nil, nil, err
	}
	col, err := jobs.NewCollector(a.cfg.RedisURL, a.platform, a.log)
	if err != nil {
		_ = closeUI()
		return nil, nil, err
	}
	a.register(col)
	return map[string]http.Handler{"/admin/queues": ui}, func() { _ = closeUI(); _ = col.Close() }, nil
}

// runWorker is `epom worker`.
func runWorker(ctx context.Context, cfg config.Config, args []string, _ io.Writer) error {
	if len(args) > 0 {
		return usagef("worker takes no arguments")
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	mailSvc := a.mail
	// A suspension or a module switched off reaches the worker's gate at once, not after
	// the cache TTL.
	go a.resolver.Listen(ctx)
	if err := a.serveOps(ctx); err != nil {
		return err
	}
	return a.runJobWorker(ctx, mailSvc)
}
