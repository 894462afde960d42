package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/frontend"
	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/internal/keyring"
	"github.com/epom-cz/epom/internal/metrics"
	"github.com/epom-cz/epom/internal/observability"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/catalogue"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/identity/oidc"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/onboarding"
)

// moduleDeps are what the modules need at run time. Commands that only read the modules'
// declarations (migrate, tenant, transfer) pass the zero value.
type moduleDeps struct {
	db    *tenants.Database
	audit *audit.Log
	redis *redis.Client // the notice board's cache invalidation
	// Mail, links and tokens of the board's subscriptions.
	mail    *email.Service
	baseURL string
	keys    keyring.Ring
}

// buildModules is the registry of agenda modules this binary offers, in menu order. Each
// module that lands is added here explicitly.
func buildModules(d moduleDeps) (*modules.Registry, error) {
	nb := noticeboard.Deps{}
	if d.db != nil {
		nb = noticeboard.Deps{DB: d.db, Files: files.NewPostgres(d.db), Audit: d.audit}
		nb.Cache.Redis = d.redis
		nb.Mail, nb.Config.BaseURL = d.mail, d.baseURL
		nb.Config.SecretKey, nb.Config.PreviousKeys = d.keys.Current, d.keys.Previous
	}
	return modules.NewRegistry(
		noticeboard.New(nb),
	)
}

// noticeboard is the notice board module.
func (a *app) noticeboard() *noticeboard.Module {
	m, _ := a.modules.Get(noticeboard.ID)
	return m.(*noticeboard.Module)
}

// noticeboardAPI is the notice board's part of the API.
func (a *app) noticeboardAPI() *noticeboard.API {
	m, _ := a.modules.Get(noticeboard.ID)
	return noticeboard.NewAPI(m.(*noticeboard.Module).Service(), pragueLocation())
}

func newLogger(cfg config.Config) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func openPool(ctx context.Context, dsn string, maxConns int32, role string) (*pgxpool.Pool, error) {
	return openTracedPool(ctx, dsn, maxConns, role, observability.Tracing{})
}

// openTracedPool opens a pool whose queries become spans when tracing is on; off, it adds
// no tracer at all, so the hot path pays nothing.
func openTracedPool(ctx context.Context, dsn string, maxConns int32, role string, tr observability.Tracing) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%s database URL: %w", role, err)
	}
	pc.MaxConns = maxConns
	if tr.Enabled {
		pc.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tr.Provider),
			otelpgx.WithAttributes(attribute.String("db.user", role)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect as %s role: %w", role, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect as %s role (%s): %w; is PostgreSQL running (scripts/services.sh)?", role, config.Redacted(dsn), err)
	}
	return pool, nil
}

// app is everything the server and the worker share.
type app struct {
	cfg      config.Config
	log      *slog.Logger
	modules  *modules.Registry
	appPool  *pgxpool.Pool
	platform *pgxpool.Pool
	redis    *redis.Client
	db       *tenants.Database
	registry *tenants.Registry
	resolver *tenants.Resolver
	identity *identity.Service
	authz    *authz.Authorizer
	mail     *email.Service
	tracing  observability.Tracing
	promReg  *prometheus.Registry
}

func newApp(ctx context.Context, cfg config.Config) (*app, error) {
	a := &app{cfg: cfg, log: newLogger(cfg)}
	slog.SetDefault(a.log)
	var err error
	process := "epom"
	if len(os.Args) > 1 {
		process = os.Args[1]
	}
	if a.tracing, err = observability.Setup(ctx, process, version(), os.Getenv); err != nil {
		return nil, err
	}
	if a.appPool, err = openTracedPool(ctx, cfg.DatabaseURL, cfg.DBMaxConns, "app", a.tracing); err != nil {
		return nil, err
	}
	if err := tenants.CheckAppRole(ctx, a.appPool); err != nil {
		a.close()
		return nil, err
	}
	if a.platform, err = openTracedPool(ctx, cfg.PlatformDatabaseURL, max(cfg.DBMaxConns/4, 2), "platform", a.tracing); err != nil {
		a.close()
		return nil, err
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("EPOM_REDIS_URL: %w", err)
	}
	a.redis = redis.NewClient(ropts)
	if a.db, err = tenants.NewDatabase(a.appPool); err != nil {
		a.close()
		return nil, err
	}
	if a.mail, err = newMailService(cfg, a.db, a.log); err != nil {
		a.close()
		return nil, err
	} // before the modules, which queue mail
	if a.modules, err = buildModules(moduleDeps{db: a.db, audit: audit.New(a.db, a.platform), redis: a.redis,
		mail: a.mail, baseURL: cfg.BaseURL, keys: cfg.KeyRing()}); err != nil {
		a.close()
		return nil, err
	}
	a.registry = tenants.NewRegistry(a.platform)
	a.resolver = tenants.NewResolver(a.registry, a.redis, cfg.TenantCacheTTL)
	if a.identity, err = identity.NewService(a.appPool, a.platform, a.db, identity.Config{
		IdleTimeout: cfg.SessionIdle, MaxAge: cfg.SessionMaxAge,
		Argon2: identity.Argon2Params{MemoryKiB: uint32(cfg.Argon2MemoryKiB), Iterations: uint32(cfg.Argon2Iterations),
			Parallelism: uint8(cfg.Argon2Parallelism)},
		SecretKey: cfg.SecretKey, PreviousKeys: cfg.SecretKeysPrevious, RequireStaffMFA: !cfg.MFAStaffOptional,
	}); err != nil {
		a.close()
		return nil, err
	}
	perms := append(authz.KernelPermissions(), a.modules.Permissions()...)
	if a.authz, err = authz.New(ctx, a.platform, a.redis, perms); err != nil {
		a.close()
		return nil, err
	}
	a.promReg = prometheus.NewRegistry()
	a.promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewPoolCollector(map[string]*pgxpool.Pool{"app": a.appPool, "platform": a.platform}))
	return a, nil
}

func (a *app) close() {
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.tracing.Shutdown(shutdownCtx); err != nil {
		a.log.Warn("flush traces", "err", err)
	}
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.platform != nil {
		a.platform.Close()
	}
	if a.appPool != nil {
		a.appPool.Close()
	}
}

// tracerOrNil is the provider to instrument with, or nil when tracing is off.
func (a *app) tracerOrNil() trace.TracerProvider {
	if !a.tracing.Enabled {
		return nil
	}
	return a.tracing.Provider
}

// version is the module version the binary was built from ("(devel)" in a local build).
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return "unknown"
}

// ready is the /readyz check: the database answers, Redis answers, and every migration set is
// at the version this binary embeds.
func (a *app) ready() (func(ctx context.Context) error, error) {
	sets := tenants.NewMigrator(nil, moduleMigrationSets(a.modules)).Sets()
	expected, err := tenants.ExpectedVersions(sets)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if err := a.appPool.Ping(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		if err := a.redis.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		return tenants.CheckMigrated(ctx, a.appPool, expected)
	}, nil
}

func moduleMigrationSets(reg *modules.Registry) []tenants.MigrationSet {
	var out []tenants.MigrationSet
	for _, m := range reg.Migrations() {
		out = append(out, tenants.MigrationSet{Name: string(m.Module), FS: m.FS})
	}
	return out
}

// handlers composes the strict server: the kernel's operations plus every module's.
func (a *app) handlers() gen.StrictServerInterface {
	auditLog := audit.New(a.db, a.platform)
	// operator: the operator console and the online subscription.
	staff := a.staff()
	onboard := onboarding.New(onboarding.Deps{Platform: a.platform, Registry: a.registry, Resolver: a.resolver,
		Audit: auditLog, Mail: onboarding.PlatformMail{Service: a.mail}, Inviter: onboarding.StaffInviter{Staff: staff},
		HasModule: func(id string) bool { return a.modules.Has(id) }, BaseURL: a.cfg.BaseURL, Log: a.log})
	return &struct {
		*server.Kernel
		*noticeboard.API
	}{&server.Kernel{
		Modules: a.modules, Registry: a.registry, Resolver: a.resolver,
		Settings: tenants.NewSettingsStore(a.db), Identity: a.identity, Authz: a.authz,
		Audit: auditLog, Mail: a.mail, Exports: a.exports(a.mail),
		Catalogue: func(ctx context.Context, q, kraj string, limit int) ([]catalogue.Hit, error) {
			return catalogue.Search(ctx, a.appPool, q, kraj, limit)
		},
		BaseURL: a.cfg.BaseURL, CookieSecure: a.cfg.CookieSecure, SessionMaxAge: a.cfg.SessionMaxAge,
		Onboarding: onboard,
		// accounts:
		Accounts: identity.NewAccounts(a.identity, identity.PlatformMail{Mail: a.mail}, auditLog, identity.AccountsConfig{
			BaseURL: a.cfg.BaseURL, VerifyTTL: a.cfg.VerifyTTL, ResetTTL: a.cfg.ResetTTL}),
		Limiter: identity.NewRedisLimiter(a.redis, identity.LimitConfig{
			IPMax: a.cfg.SignInIPMax, IPWindow: a.cfg.SignInIPWindow, AccountMax: a.cfg.SignInAccountMax,
			LockBase: a.cfg.SignInLock, LockMax: a.cfg.SignInLockMax,
			MailPerIP: a.cfg.AccountMailPerIP, MailPerEmail: a.cfg.AccountMailPerAddr}),
		OIDC:   oidc.New(a.appPool, a.cfg.OIDCProviders, a.cfg.BaseURL),
		Tokens: a.apiTokens(),
		Staff:  staff,
	}, a.noticeboardAPI()}
}

// staff invites municipality staff and sets their roles (members).
func (a *app) staff() *identity.Staff {
	return identity.NewStaff(a.identity, a.db, a.mail, audit.New(a.db, a.platform), a.authz,
		identity.StaffConfig{BaseURL: a.cfg.BaseURL})
}

func (a *app) server(ctx context.Context, adminMounts map[string]http.Handler) (*server.Server, error) {
	spec, err := server.LoadSpec(ctx)
	if err != nil {
		return nil, err
	}
	ready, err := a.ready()
	if err != nil {
		return nil, err
	}
	return server.New(server.Deps{
		Config: a.cfg, Log: a.log, Spec: spec, Modules: a.modules, Registry: a.registry,
		Resolver: a.resolver, DB: a.db, App: a.appPool, Identity: a.identity, Authz: a.authz,
		Metrics: metrics.NewHTTP(a.promReg), Gatherer: a.publicMetrics(),
		Frontend: frontend.Dist(), Ready: ready, AdminMounts: adminMounts, Tracer: a.tracerOrNil(),
		Tokens: a.apiTokens(),
	}, a.handlers())
}

// serveHTTP runs the server until ctx ends, then drains in-flight requests.
func (a *app) serveHTTP(ctx context.Context, h http.Handler) error {
	srv := &http.Server{Addr: a.cfg.HTTPAddr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	go a.resolver.Listen(ctx)
	go a.noticeboard().Listen(ctx) // the board's public cache
	go a.authz.Run(ctx, time.Minute)
	a.log.Info("listening", "addr", a.cfg.HTTPAddr, "url", a.cfg.BaseURL)
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// publicMetrics is what the public router answers at /metrics: nothing when the process has
// an ops listener (EPOM_OPS_ADDR), which serves /metrics out of the Ingress's reach instead.
// Without one (`epom dev`, e2e, a local serve) /metrics stays on the public port as before.
func (a *app) publicMetrics() prometheus.Gatherer {
	if a.cfg.OpsAddr != "" {
		return nil
	}
	return a.promReg
}

// opsHandler is the ops listener's: /livez for the orchestrator's probes and /metrics with
// whatever this process registered in promReg (serve: HTTP, pool, queue and outbox figures;
// worker: task durations and start delays).
func (a *app) opsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.promReg, promhttp.HandlerOpts{}))
	return mux
}

// serveOps starts the ops listener of serve, worker and scheduler (EPOM_OPS_ADDR) and runs it
// until ctx ends; without an address it does nothing. It binds before it returns, so a port
// already taken fails the start-up instead of leaving the process without probe or metrics.
func (a *app) serveOps(ctx context.Context) error {
	if a.cfg.OpsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.OpsAddr)
	if err != nil {
		return fmt.Errorf("ops listener on %s: %w", a.cfg.OpsAddr, err)
	}
	srv := &http.Server{Handler: a.opsHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("ops listener stopped", "err", err)
		}
	}()
	a.log.Info("ops listener", "addr", ln.Addr().String())
	return nil
}

func runServe(ctx context.Context, cfg config.Config, args []string, _ io.Writer) error {
	if len(args) > 0 {
		return usagef("serve takes no arguments")
	}
	if err := cfg.RequireSecretKey(); err != nil {
		return err
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	mounts, closeOps, err := a.jobsOps()
	if err != nil {
		return err
	}
	defer closeOps()
	srv, err := a.server(ctx, mounts)
	if err != nil {
		return err
	}
	if err := a.serveOps(ctx); err != nil {
		return err
	}
	if cfg.OpsAddr == "" {
		a.log.Warn("EPOM_OPS_ADDR is not set, so /metrics is served on the public port: set it in production " +
			"(the Helm chart sets :9090) to keep per-route traffic and queue figures off the Internet")
	}
	return a.serveHTTP(ctx, srv)
}

// apiTokens is the store of API tokens (tokens: machine clients), shared by the request flow
// and the kernel's token operations.
func (a *app) apiTokens() *apitokens.Store {
	return apitokens.NewStore(a.db, a.platform, audit.New(a.db, a.platform))
}
