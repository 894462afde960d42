// Package server assembles the HTTP server: the request flow every API operation goes through
// (resolve tenant → authenticate → module gate → authorize → validate against the spec →
// handler), the kernel's own operations, health and metrics endpoints, the public pages and
// the single-page app.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/epom-cz/epom/api"
	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/internal/metrics"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/identity"
)

// SessionCookie holds the session token.
const SessionCookie = "epom_session"

// CSRFHeader carries the session's CSRF token on cookie-authenticated writes.
const CSRFHeader = "X-CSRF-Token"

// Deps are the server's collaborators, built by cmd/epom.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Spec     *httpx.Spec
	Modules  *modules.Registry
	Registry *tenants.Registry
	Resolver *tenants.Resolver
	DB       *tenants.Database
	App      *pgxpool.Pool
	Identity *identity.Service
	Authz    *authz.Authorizer
	Metrics  *metrics.HTTP
	// Gatherer is what the public router answers at /metrics. Nil when the process has an
	// ops listener (EPOM_OPS_ADDR) that serves /metrics instead: then the public router has
	// no /metrics, and the path is not found like any other unknown one.
	Gatherer    prometheus.Gatherer
	Frontend    fs.FS
	Ready       func(ctx context.Context) error // readiness: database, Redis, migrations
	AdminMounts map[string]http.Handler         // platform-admin-only handlers, e.g. /admin/queues
	Tracer      trace.TracerProvider            // nil: no tracing
	// tokens: API tokens of machine clients (Authorization: Bearer epom_…).
	Tokens *apitokens.Store
}

// Server is the HTTP handler.
type Server struct {
	deps   Deps
	engine *gin.Engine
	pages  *pages
}

// LoadSpec parses the embedded OpenAPI document.
func LoadSpec(ctx context.Context) (*httpx.Spec, error) { return httpx.LoadSpec(ctx, api.Document()) }

// New builds the server. handlers is the composed strict server: the kernel's operations
// (Kernel) embedded together with every module's.
func New(d Deps, handlers gen.StrictServerInterface) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Handlers receive *gin.Context as context.Context; with the fallback its Value reaches
	// the request context, where the tenant, user and request id live.
	e.ContextWithFallback = true
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	if err := e.SetTrustedProxies(d.Config.TrustedProxies); err != nil {
		return nil, err
	}
	p, err := newPages(d)
	if err != nil {
		return nil, err
	}
	s := &Server{deps: d, engine: e, pages: p}

	e.Use(httpx.RequestID())
	if d.Tracer != nil {
		e.Use(otelgin.Middleware("epom", otelgin.WithTracerProvider(d.Tracer)))
	}
	e.Use(d.Metrics.Middleware(), httpx.AccessLog(d.Log, d.Config.AccessLogAll), httpx.Recover(),
		httpx.SecurityHeaders(d.Config.HSTS), s.hostTenant)

	e.GET("/livez", s.livez)
	e.GET("/readyz", s.readyz)
	if d.Gatherer != nil {
		e.GET("/metrics", s.metricsHandler())
	}

	// Validation comes after the gate and authorisation: someone who may not use an operation
	// learns 403/404, never what a valid body would look like.
	apiRoutes := e.Group("", s.operation, s.resolveTenant, s.authenticate, s.gate, s.authorize, s.validate)
	strict := gen.NewStrictHandlerWithOptions(handlers, nil, gen.StrictGinServerOptions{
		RequestErrorHandlerFunc: func(c *gin.Context, err error) {
			httpx.Abort(c, problem.New(problem.Validation, err.Error()))
		},
		HandlerErrorFunc: func(c *gin.Context, err error) {
			httpx.Abort(c, problem.From(err))
		},
		ResponseErrorHandlerFunc: func(c *gin.Context, err error) {
			httpx.Abort(c, problem.From(err))
		},
	})
	gen.RegisterHandlersWithOptions(apiRoutes, strict, gen.GinServerOptions{
		ErrorHandler: func(c *gin.Context, err error, status int) {
			httpx.Abort(c, problem.New(problem.Validation, err.Error()))
		},
	})

	for path, h := range d.AdminMounts {
		e.Any(path+"/*rest", s.requirePlatformAdmin, gin.WrapH(h))
	}
	p.register(e, s)
	// oidc: external sign-in's browser legs (redirects and pages, outside the API chain).
	if o, ok := handlers.(oidcRoutes); ok {
		o.registerOIDC(e, p)
	}
	e.NoRoute(s.noRoute)
	e.NoMethod(func(c *gin.Context) {
		httpx.Abort(c, problem.New(problem.MethodNotAllowed, ""))
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Per-request values live in gin's keys rather than in new request contexts: every
// Request.WithContext copies the request, and with ContextWithFallback a handler's ctx.Value
// finds string keys there. Only the tenant goes into the request context, where the tenant
// transaction reads it.
const (
	keyOperation  = "epom.operation"
	keyUser       = "epom.user"
	keyHostTenant = "epom.host-tenant"
	keyTenant     = "epom.tenant"
)

// Client is who sent the request, for sessions and the audit log.
type Client struct {
	IP        string
	UserAgent string
}

func operationFrom(ctx context.Context) *httpx.Operation {
	op, _ := ctx.Value(keyOperation).(*httpx.Operation)
	return op
}

// Principal is the signed-in user of a request, or an API token. A token acts for the user
// who created it, with User.Email naming the token ("token:<id>"), so what handlers record
// shows the token rather than the person.
type Principal struct {
	User     identity.User
	Session  identity.Session
	Token    string
	APIToken *apitokens.Token // set when the request carries a bearer token instead of a session
}

func principalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(keyUser).(Principal)
	return p, ok
}

// clientFrom tells who sent the request. Handlers receive the gin context as ctx; call it
// there, not on a context derived from it (a transaction's).
func clientFrom(ctx context.Context) Client {
	if c, ok := ctx.(*gin.Context); ok {
		return Client{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
	}
	return Client{}
}

// hostTenant resolves a custom host name (epom.kunzak.cz) to its tenant. Requests to the
// deployment's own host carry no host tenant.
func (s *Server) hostTenant(c *gin.Context) {
	host := strings.ToLower(c.Request.Host)
	if host == "" || host == s.pages.baseHost || strings.HasPrefix(host, "localhost") || strings.HasPrefix(host, "127.0.0.1") || strings.HasPrefix(host, "[::1]") {
		c.Next()
		return
	}
	t, err := s.deps.Resolver.ByHost(c.Request.Context(), host)
	switch {
	case err == nil:
		c.Set(keyHostTenant, t)
	case !errors.Is(err, tenants.ErrNotFound):
		httpx.Abort(c, problem.From(err))
		return
	}
	c.Next()
}

func hostTenantFrom(ctx context.Context) (tenants.Resolved, bool) {
	t, ok := ctx.Value(keyHostTenant).(tenants.Resolved)
	return t, ok
}

// operation finds the spec operation gin matched; every API route has one.
func (s *Server) operation(c *gin.Context) {
	op, ok := s.deps.Spec.Lookup(c.Request.Method, c.FullPath())
	if !ok {
		httpx.Abort(c, problem.New(problem.NotFound, ""))
		return
	}
	c.Set(keyOperation, op)
	// The span names the operation and carries the request id that problem answers and logs
	// show, so a support call can find its trace.
	trace.SpanFromContext(c.Request.Context()).SetAttributes(
		attribute.String("epom.operation", op.ID), attribute.String("epom.request_id", httpx.RequestIDFrom(c)))
	c.Next()
}

// resolveTenant binds the {tenant} of the path. A suspended tenant is refused; a pending or
// closed one does not exist for the public. On a tenant's own host name, a path naming another
// tenant is not found, so one tenant's host never serves another's data.
func (s *Server) resolveTenant(c *gin.Context) {
	ref := c.Param("tenant")
	if ref == "" {
		c.Next()
		return
	}
	t, err := s.resolve(c, ref)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	c.Request = c.Request.WithContext(tenants.WithTenant(c.Request.Context(), t.Tenant))
	c.Set(keyTenant, t)
	httpx.LogAttrs(c, slog.String("tenant", t.Slug))
	trace.SpanFromContext(c.Request.Context()).SetAttributes(attribute.String("epom.tenant", t.Slug))
	c.Next()
}

func (s *Server) resolve(c *gin.Context, ref string) (tenants.Resolved, error) {
	t, err := s.deps.Resolver.BySlugOrID(c.Request.Context(), ref)
	if err != nil {
		return tenants.Resolved{}, err
	}
	if ht, ok := hostTenantFrom(c); ok && ht.ID != t.ID {
		return tenants.Resolved{}, tenants.ErrNotFound
	}
	switch t.Status {
	case tenants.StatusActive:
		return t, nil
	case tenants.StatusSuspended:
		return tenants.Resolved{}, tenants.ErrUnavailable
	default:
		return tenants.Resolved{}, tenants.ErrNotFound
	}
}

func resolvedFrom(c *gin.Context) (tenants.Resolved, bool) {
	v, ok := c.Get(keyTenant)
	if !ok {
		return tenants.Resolved{}, false
	}
	t, ok := v.(tenants.Resolved)
	return t, ok
}

// authenticate reads the session cookie. Missing or expired sessions leave the request
// anonymous; the authorize step decides whether that is enough. Unsafe methods on a cookie
// session need the session's CSRF token in X-CSRF-Token.
func (s *Server) authenticate(c *gin.Context) {
	if raw, ok := bearer(c); ok {
		s.authenticateToken(c, raw)
		return
	}
	token, err := c.Cookie(SessionCookie)
	if err != nil || token == "" {
		c.Next()
		return
	}
	sess, err := s.deps.Identity.Session(c.Request.Context(), token)
	if errors.Is(err, identity.ErrNoSession) {
		c.Next()
		return
	}
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		got := c.GetHeader(CSRFHeader)
		if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
			httpx.Abort(c, problem.New(problem.CSRF, "Send the token from GET /api/v1/me in the X-CSRF-Token header."))
			return
		}
	}
	u, err := s.deps.Identity.User(c.Request.Context(), sess.UserID)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	c.Set(keyUser, Principal{User: u, Session: sess, Token: token})
	httpx.LogAttrs(c, slog.String("user", u.ID.String()))
	c.Next()
}

// validate checks parameters and body against the spec; nothing reaches a handler otherwise.
func (s *Server) validate(c *gin.Context) {
	op := operationFrom(c)
	if _, perr := httpx.ReadBody(c.Request, max(s.deps.Config.MaxBodyBytes, op.MaxBody)); perr != nil {
		httpx.Abort(c, perr)
		return
	}
	params := make(map[string]string, len(c.Params))
	for _, p := range c.Params {
		params[p.Key] = p.Value
	}
	if perr := s.deps.Spec.Validate(c.Request.Context(), c.Request, op, params); perr != nil {
		httpx.Abort(c, perr)
		return
	}
	c.Next()
}

// gate answers 404 for an operation of a module the tenant has not switched on.
func (s *Server) gate(c *gin.Context) {
	op := operationFrom(c)
	if op.Module == "" {
		c.Next()
		return
	}
	t, ok := resolvedFrom(c)
	if !ok || !t.Enabled(op.Module) || !s.deps.Modules.Has(op.Module) {
		httpx.Abort(c, problem.New(problem.ModuleDisabled, ""))
		return
	}
	c.Next()
}

// authorize enforces the operation's x-permission.
func (s *Server) authorize(c *gin.Context) {
	op := operationFrom(c)
	if op.Permission == httpx.PermissionPublic {
		c.Next()
		return
	}
	p, signedIn := principalFrom(c)
	if !signedIn {
		httpx.Abort(c, problem.New(problem.Unauthenticated, ""))
		return
	}
	if p.APIToken != nil {
		s.authorizeToken(c, op, p)
		return
	}
	if op.Permission == httpx.PermissionAuthenticated {
		c.Next()
		return
	}
	domain := authz.PlatformDomain
	if t, ok := resolvedFrom(c); ok {
		domain = t.ID.String()
	} else if kraj := c.Param("kraj"); kraj != "" {
		// The operator console (/api/v1/operator/{kraj}/…) is checked in the kraj's domain,
		// where regional operators hold their role; validation has checked the code's form.
		domain = "kraj:" + kraj
	}
	allowed, err := s.deps.Authz.Allowed(p.User.ID.String(), domain, op.Permission)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	if !allowed {
		httpx.Abort(c, problem.New(problem.Forbidden, ""))
		return
	}
	// mfa: a permission means staff, and staff need a second factor when the policy says so.
	// Checked after the permission, so that a citizen still hears "forbidden".
	if s.deps.Identity.StaffMFARequired() && !p.Session.Assurance.MultiFactor() {
		httpx.Abort(c, problem.New(problem.MFAEnrolmentRequired,
			"Turn on two-factor sign-in at /app/ucet (Zabezpečení účtu), or sign in again with your code."))
		return
	}
	c.Next()
}

// requirePlatformAdmin guards operator tools mounted outside the API (the queue monitor).
func (s *Server) requirePlatformAdmin(c *gin.Context) {
	token, err := c.Cookie(SessionCookie)
	if err != nil {
		httpx.Abort(c, problem.New(problem.Unauthenticated, ""))
		return
	}
	sess, err := s.deps.Identity.Session(c.Request.Context(), token)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		httpx.Abort(c, problem.New(problem.MethodNotAllowed, "The monitor is read-only."))
		return
	}
	ok, err := s.deps.Authz.Allowed(sess.UserID.String(), authz.PlatformDomain, "platform.tenants:read")
	if err != nil || !ok {
		httpx.Abort(c, problem.New(problem.Forbidden, ""))
		return
	}
	if s.deps.Identity.StaffMFARequired() && !sess.Assurance.MultiFactor() {
		httpx.Abort(c, problem.New(problem.MFAEnrolmentRequired, ""))
		return
	}
	c.Next()
}

func (s *Server) noRoute(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		httpx.Abort(c, problem.New(problem.NotFound, ""))
		return
	}
	s.pages.notFound(c)
}
