package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/frontend"
	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/internal/metrics"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/catalogue"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/onboarding"
	"github.com/epom-cz/epom/tenants/tenanttest"
	"github.com/epom-cz/epom/tenants/transfer"
)

const password = "correct horse battery staple"

// fixture is a complete server on a private database with two tenants: A (Liberec, host
// epom.liberec.test) and B (Kunžak, host epom.kunzak.test).
type fixture struct {
	env      *tenanttest.Env
	srv      *server.Server
	spec     *httpx.Spec
	a, b     tenants.Resolved
	identity *identity.Service
	authz    *authz.Authorizer
	settings *tenants.SettingsStore
	resolver *tenants.Resolver
	reg      *prometheus.Registry
	ready    func(context.Context) error
	deps     server.Deps               // what srv was built from, for a variant of it
	handlers gen.StrictServerInterface // ditto
	exports  *transfer.Exports
	mail     *email.Service
	kernel   *server.Kernel // accounts: tests set Accounts and Limiter on it
	tokens   *apitokens.Store
	// noticeboard: the module is switched on for A and B, so the walk reaches its handlers.
	noticeboard *noticeboard.Module
	onboarding  *onboarding.Service
}

func testConfig(t testing.TB) config.Config {
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "EPOM_BASE_URL":
			return "http://epom.test"
		case "EPOM_MAX_BODY_BYTES":
			return "4096"
		case "EPOM_REDIS_URL", "EPOM_ACCESS_LOG":
			return os.Getenv(k)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// testSecretKey stands in for EPOM_SECRET_KEY.
var testSecretKey = bytes.Repeat([]byte{7}, 32)

// newFixtureWith builds the fixture with a tracer provider (nil: tracing off); opts adjust the
// identity policy (the staff two-factor requirement is off unless an option turns it on).
func newFixtureWith(t testing.TB, tracer trace.TracerProvider, opts ...func(*identity.Config)) *fixture {
	t.Helper()
	nbStatic := noticeboard.New(noticeboard.Deps{})
	env := tenanttest.New(t, tenants.MigrationSet{Name: string(nbStatic.ID()), FS: nbStatic.Migrations()})
	ctx := context.Background()
	cfg := testConfig(t)
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })

	f := &fixture{env: env}
	if f.a, err = env.Registry.Create(ctx, tenants.CreateParams{KodObce: "563889", Slug: "liberec", Status: tenants.StatusActive, Hosts: []string{"epom.liberec.test"}, Modules: []string{"noticeboard"}}); err != nil {
		t.Fatal(err)
	}
	if f.b, err = env.Registry.Create(ctx, tenants.CreateParams{KodObce: "546615", Slug: "kunzak", Status: tenants.StatusActive, Hosts: []string{"epom.kunzak.test"}, Modules: []string{"noticeboard"}}); err != nil {
		t.Fatal(err)
	}
	idCfg := identity.Config{Argon2: identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1},
		SecretKey: testSecretKey}
	for _, o := range opts {
		o(&idCfg)
	}
	f.identity, err = identity.NewService(env.App, env.Platform, env.DB, idCfg)
	if err != nil {
		t.Fatal(err)
	}
	f.settings = tenants.NewSettingsStore(env.DB)
	// Tenant A's settings carry a marker that must never appear in an answer about B.
	if _, err := f.settings.Put(tenants.WithTenant(ctx, f.a.Tenant), tenants.Settings{DisplayName: "Liberec MARKER-A",
		ContactEmail: "marker-a@liberec.test", EmbedOrigins: []string{"https://www.liberec.cz"}}, tenants.NewID()); err != nil {
		t.Fatal(err)
	}
	f.user(t, "admin-a@test.cz", f.a, authz.RoleTenantAdmin)
	f.user(t, "clerk-a@test.cz", f.a, authz.RoleClerk)
	f.user(t, "citizen@test.cz", tenants.Resolved{}, "")
	pa, err := f.identity.CreateUser(ctx, "platform@test.cz", "Platform", password)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.identity.GrantPlatformRole(ctx, pa.ID, identity.PlatformRole{Role: authz.RolePlatformAdmin, Scope: authz.PlatformDomain}); err != nil {
		t.Fatal(err)
	}
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	f.mail = email.NewService(env.DB, tpl, mail.LogOnly{Log: slog.New(slog.DiscardHandler), MessageIDDomain: "epom.test"}, email.Config{})
	f.noticeboard = noticeboard.New(noticeboard.Deps{DB: env.DB, Files: files.NewPostgres(env.DB), Audit: audit.New(env.DB, env.Platform),
		Mail: f.mail, Config: noticeboard.Config{BaseURL: cfg.BaseURL, SecretKey: testSecretKey}})
	if f.authz, err = authz.New(ctx, env.Platform, nil, append(authz.KernelPermissions(), f.noticeboard.Permissions()...)); err != nil {
		t.Fatal(err)
	}
	mods, err := modules.NewRegistry(f.noticeboard)
	if err != nil {
		t.Fatal(err)
	}
	if f.spec, err = server.LoadSpec(ctx); err != nil {
		t.Fatal(err)
	}
	f.resolver = tenants.NewResolver(env.Registry, rdb, time.Minute)
	expected, err := tenants.ExpectedVersions(env.Sets)
	if err != nil {
		t.Fatal(err)
	}
	f.ready = func(ctx context.Context) error { return tenants.CheckMigrated(ctx, env.App, expected) }
	f.reg = prometheus.NewRegistry()
	f.exports = transfer.NewExports(env.DB, files.NewPostgres(env.DB), transfer.NewExporter(env.App), nil,
		transfer.ExportsConfig{BaseURL: cfg.BaseURL, Logger: slog.New(slog.DiscardHandler)})
	f.tokens = apitokens.NewStore(env.DB, env.Platform, audit.New(env.DB, env.Platform))
	// operator: the console and the subscription, with a fixed set of offered modules.
	auditLog := audit.New(env.DB, env.Platform)
	staff := identity.NewStaff(f.identity, env.DB, f.mail, auditLog, f.authz, identity.StaffConfig{BaseURL: cfg.BaseURL})
	f.onboarding = onboarding.New(onboarding.Deps{Platform: env.Platform, Registry: env.Registry, Resolver: f.resolver,
		Audit: auditLog, Mail: onboarding.PlatformMail{Service: f.mail}, Inviter: onboarding.StaffInviter{Staff: staff},
		HasModule: func(id string) bool { return id == "waste" || id == "noticeboard" }, BaseURL: cfg.BaseURL,
		Log: slog.New(slog.DiscardHandler)})
	kernel := &server.Kernel{Onboarding: f.onboarding, Tokens: f.tokens, Exports: f.exports, Modules: mods, Registry: env.Registry, Resolver: f.resolver, Settings: f.settings,
		Identity: f.identity, Authz: f.authz, BaseURL: cfg.BaseURL, SessionMaxAge: time.Hour,
		Audit: audit.New(env.DB, env.Platform), Mail: f.mail,
		Staff: identity.NewStaff(f.identity, env.DB, f.mail, audit.New(env.DB, env.Platform), f.authz,
			identity.StaffConfig{BaseURL: cfg.BaseURL}),
		Catalogue: func(ctx context.Context, q, kraj string, limit int) ([]catalogue.Hit, error) {
			return catalogue.Search(ctx, env.App, q, kraj, limit)
		}}
	f.kernel = kernel
	f.deps = server.Deps{
		Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Spec: f.spec, Modules: mods,
		Registry: env.Registry, Resolver: f.resolver, DB: env.DB, App: env.App, Identity: f.identity,
		Authz: f.authz, Metrics: metrics.NewHTTP(f.reg), Gatherer: f.reg, Frontend: frontend.Dist(),
		Ready: func(ctx context.Context) error { return f.ready(ctx) }, Tracer: tracer, Tokens: f.tokens,
	}
	f.handlers = &struct {
		*server.Kernel
		*noticeboard.API // its own tests are in modules/noticeboard
	}{kernel, noticeboard.NewAPI(f.noticeboard.Service(), time.UTC)}
	f.srv, err = server.New(f.deps, f.handlers)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) user(t testing.TB, email string, in tenants.Resolved, role string) {
	t.Helper()
	ctx := context.Background()
	u, err := f.identity.CreateUser(ctx, email, email, password)
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		if err := f.identity.Grant(tenants.WithTenant(ctx, in.Tenant), u.ID, role); err != nil {
			t.Fatal(err)
		}
	}
}

// session is a signed-in client.
type session struct {
	cookie *http.Cookie
	csrf   string
}

type request struct {
	method, path, host, body, contentType string
	sess                                  *session
	noCSRF                                bool
}

func (f *fixture) do(t testing.TB, r request) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.host != "" {
		req.Host = r.host
	}
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.sess != nil {
		req.AddCookie(r.sess.cookie)
		if !r.noCSRF {
			req.Header.Set(server.CSRFHeader, r.sess.csrf)
		}
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

func (f *fixture) signIn(t testing.TB, email string) *session {
	t.Helper()
	w := f.do(t, request{method: "POST", path: "/api/v1/session", body: fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)})
	if w.Code != http.StatusOK {
		t.Fatalf("sign in %s: %d %s", email, w.Code, w.Body)
	}
	var me gen.Me
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == server.SessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Fatalf("session cookie flags: %+v", c)
			}
			return &session{cookie: c, csrf: me.CsrfToken}
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func problemOf(t testing.TB, w *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, body %s", ct, w.Body)
	}
	var p problem.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, w.Body)
	}
	if p.Status != w.Code || p.Type == "" || p.Title == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem: %+v (HTTP %d)", p, w.Code)
	}
	return p
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin-a@test.cz")
	ctxA := tenants.WithTenant(context.Background(), f.a.Tenant)
	before, _, err := f.settings.Get(ctxA, "")
	if err != nil {
		t.Fatal(err)
	}
	big := `{"displayName":"` + strings.Repeat("x", 5000) + `"}`
	cases := []struct {
		name, path, body, contentType string
		status                        int
		problem                       string
		field                         string
	}{
		{"malformed JSON", "/api/v1/tenants/liberec/settings", `{"displayName":`, "", 400, "/problems/malformed-json", ""},
		{"unknown field", "/api/v1/tenants/liberec/settings", `{"displayName":"X","admin":true}`, "", 400, "/problems/validation", "/admin"},
		{"wrong type", "/api/v1/tenants/liberec/settings", `{"displayName":42}`, "", 400, "/problems/validation", "/displayName"},
		{"missing required", "/api/v1/tenants/liberec/settings", `{"website":"https://x.cz"}`, "", 400, "/problems/validation", "/displayName"},
		{"bad nested item", "/api/v1/tenants/liberec/settings", `{"displayName":"X","embedOrigins":["javascript:alert(1)"]}`, "", 400, "/problems/validation", "/embedOrigins/0"},
		{"oversized", "/api/v1/tenants/liberec/settings", big, "", 413, "/problems/payload-too-large", ""},
		{"not JSON", "/api/v1/tenants/liberec/settings", `displayName=X`, "application/x-www-form-urlencoded", 415, "/problems/unsupported-media-type", ""},
		{"unknown tenant", "/api/v1/tenants/atlantida/settings", `{"displayName":"X"}`, "", 404, "/problems/tenant-not-found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(t, request{method: "PUT", path: tc.path, body: tc.body, contentType: tc.contentType, sess: admin})
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			p := problemOf(t, w)
			if p.Type != tc.problem {
				t.Fatalf("type %s, want %s", p.Type, tc.problem)
			}
			if tc.field != "" {
				found := false
				for _, fe := range p.Errors {
					found = found || fe.Field == tc.field
				}
				if !found {
					t.Fatalf("no field error for %s: %+v", tc.field, p.Errors)
				}
			}
		})
	}
	// Messages are for the person filling the form: Czech by default, English on request.
	for lang, want := range map[string]string{"": "Musí být text.", "cs-CZ,cs;q=0.9": "Musí být text.", "en-GB,en;q=0.8": "Must be a string."} {
		req := httptest.NewRequest("PUT", "/api/v1/tenants/liberec/settings", strings.NewReader(`{"displayName":7,"x":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", lang)
		req.AddCookie(admin.cookie)
		req.Header.Set(server.CSRFHeader, admin.csrf)
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, req)
		p := problemOf(t, w)
		got := map[string]string{}
		for _, fe := range p.Errors {
			got[fe.Field] = fe.Message
		}
		if got["/displayName"] != want || got["/x"] == "" {
			t.Errorf("Accept-Language %q: field errors %v, want /displayName %q and /x named", lang, got, want)
		}
	}
	after, _, err := f.settings.Get(ctxA, "")
	if err != nil {
		t.Fatal(err)
	}
	if after.DisplayName != before.DisplayName || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("bad input changed the settings: %+v → %+v", before, after)
	}
	// The same body, valid, goes through: the failures above were the input's fault.
	w := f.do(t, request{method: "PUT", path: "/api/v1/tenants/liberec/settings", body: `{"displayName":"Liberec"}`, sess: admin})
	if w.Code != http.StatusOK {
		t.Fatalf("valid update: %d %s", w.Code, w.Body)
	}
}

func TestTenantPathAndHostNeverCrossTenants(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin-a@test.cz")
	cases := []struct {
		name, method, path, host string
		sess                     *session
		wantStatus               int
	}{
		{"B's profile", "GET", "/api/v1/tenants/kunzak", "", nil, 200},
		{"B's profile by id", "GET", "/api/v1/tenants/" + f.b.ID.String(), "", nil, 200},
		{"A's path on B's host", "GET", "/api/v1/tenants/liberec", "epom.kunzak.test", nil, 404},
		{"A's id on B's host", "GET", "/api/v1/tenants/" + f.a.ID.String() + "/settings", "epom.kunzak.test", admin, 404},
		{"A's page on B's host", "GET", "/o/liberec", "epom.kunzak.test", nil, 404},
		{"B's host landing", "GET", "/", "epom.kunzak.test", nil, 200},
		{"A's admin reads B's settings", "GET", "/api/v1/tenants/kunzak/settings", "", admin, 403},
		{"A's admin writes B's settings", "PUT", "/api/v1/tenants/kunzak/settings", "", admin, 403},
		{"A's admin lists B's members", "GET", "/api/v1/tenants/kunzak/members", "", admin, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "PUT" {
				body = `{"displayName":"MARKER-A hijack"}`
			}
			w := f.do(t, request{method: tc.method, path: tc.path, host: tc.host, sess: tc.sess, body: body})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if strings.Contains(w.Body.String(), "MARKER-A") || strings.Contains(w.Body.String(), "marker-a@") {
				t.Fatalf("tenant A's data in the answer: %s", w.Body)
			}
		})
	}
	ctxB := tenants.WithTenant(context.Background(), f.b.Tenant)
	if st, saved, _ := f.settings.Get(ctxB, ""); saved {
		t.Fatalf("B's settings were written: %+v", st)
	}
}

func TestTenantStatusGatesRequests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.env.Registry.SetStatus(ctx, f.b.ID, tenants.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	f.resolver.Invalidate(ctx, f.b.ID.String())
	w := f.do(t, request{method: "GET", path: "/api/v1/tenants/kunzak"})
	if w.Code != 403 || problemOf(t, w).Type != "/problems/tenant-unavailable" {
		t.Fatalf("suspended: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/o/kunzak"}); w.Code != 403 || !strings.Contains(w.Body.String(), "pozastavena") {
		t.Fatalf("suspended page: %d %s", w.Code, w.Body)
	}
	if _, err := f.env.Registry.SetStatus(ctx, f.b.ID, tenants.StatusClosed); err != nil {
		t.Fatal(err)
	}
	f.resolver.Invalidate(ctx, f.b.ID.String())
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/kunzak"}); w.Code != 404 {
		t.Fatalf("closed: %d", w.Code)
	}
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	wrong := f.do(t, request{method: "POST", path: "/api/v1/session", body: `{"email":"admin-a@test.cz","password":"nope"}`})
	unknown := f.do(t, request{method: "POST", path: "/api/v1/session", body: `{"email":"nobody@test.cz","password":"nope"}`})
	pw, pu := problemOf(t, wrong), problemOf(t, unknown)
	if wrong.Code != 401 || pw.Type != pu.Type || pw.Title != pu.Title || pw.Detail != pu.Detail {
		t.Fatalf("wrong password and unknown user must look alike: %+v vs %+v", pw, pu)
	}
	if len(wrong.Result().Cookies()) != 0 {
		t.Fatal("failed sign-in set a cookie")
	}
	var failed int
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT count(*) FROM platform_audit_log
		WHERE action = 'sign-in-failed' AND actor IN ('admin-a@test.cz', 'nobody@test.cz')`).Scan(&failed); err != nil || failed != 2 {
		t.Fatalf("failed sign-ins audited: %d %v", failed, err)
	}
	sess := f.signIn(t, "admin-a@test.cz")
	w := f.do(t, request{method: "PUT", path: "/api/v1/tenants/liberec/settings", body: `{"displayName":"CSRF"}`, sess: sess, noCSRF: true})
	if w.Code != 403 || problemOf(t, w).Type != "/problems/csrf" {
		t.Fatalf("write without CSRF token: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "GET", path: "/api/v1/me", sess: sess})
	var me gen.Me
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &me) != nil || len(me.Memberships) != 1 || me.Memberships[0].Slug != "liberec" {
		t.Fatalf("me: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/session", sess: sess}); w.Code != 204 {
		t.Fatalf("sign out: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/me", sess: sess}); w.Code != 401 {
		t.Fatalf("me after sign-out: %d", w.Code)
	}
}

func TestPlatformOperations(t *testing.T) {
	f := newFixture(t)
	citizen := f.signIn(t, "citizen@test.cz")
	if w := f.do(t, request{method: "GET", path: "/api/v1/platform/tenants", sess: citizen}); w.Code != 403 {
		t.Fatalf("citizen lists tenants: %d", w.Code)
	}
	admin := f.signIn(t, "platform@test.cz")
	w := f.do(t, request{method: "POST", path: "/api/v1/platform/tenants", sess: admin, body: `{"kodObce":"564061","status":"active"}`})
	if w.Code != 201 || !strings.Contains(w.Body.String(), `"slug":"hodkovice-nad-mohelkou"`) {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "POST", path: "/api/v1/platform/tenants", sess: admin, body: `{"kodObce":"564061"}`})
	if w.Code != 409 {
		t.Fatalf("second tenant of a municipality: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "POST", path: "/api/v1/platform/tenants", sess: admin, body: `{"kodObce":"000000"}`})
	if w.Code != 422 || problemOf(t, w).Errors[0].Field != "/kodObce" {
		t.Fatalf("unknown municipality: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "PATCH", path: "/api/v1/platform/tenants/" + f.b.ID.String(), sess: admin, body: `{"status":"suspended"}`})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"suspended"`) {
		t.Fatalf("suspend: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/kunzak"}); w.Code != 403 {
		t.Fatalf("suspended tenant still served: %d", w.Code)
	}
	var action, details string
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT action, details::text FROM tenant_audit_log
		WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1`, f.b.ID).Scan(&action, &details); err != nil ||
		action != "tenant-status" || !strings.Contains(details, `"to": "suspended"`) {
		t.Fatalf("audit of the suspension: %q %q %v", action, details, err)
	}
	w = f.do(t, request{method: "GET", path: "/api/v1/platform/tenants?status=active&limit=1", sess: admin})
	var list gen.ListTenants200JSONResponse
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &list) != nil || list.Total != 2 || len(list.Items) != 1 {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t)
	if w := f.do(t, request{method: "GET", path: "/livez"}); w.Code != 200 {
		t.Fatalf("livez %d", w.Code)
	}
	if w := f.do(t, request{method: "GET", path: "/readyz"}); w.Code != 200 {
		t.Fatalf("readyz %d %s", w.Code, w.Body)
	}
	f.ready = func(ctx context.Context) error {
		return tenants.CheckMigrated(ctx, f.env.App, map[string]int64{"goose_core": 999})
	}
	if w := f.do(t, request{method: "GET", path: "/readyz"}); w.Code != 503 {
		t.Fatalf("readyz with a pending migration: %d", w.Code)
	}
	f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec"})
	w := f.do(t, request{method: "GET", path: "/metrics"})
	if !strings.Contains(w.Body.String(), `epom_http_requests_total{method="GET",route="/api/v1/tenants/:tenant",status="200"} 1`) {
		t.Fatalf("metrics lack the request counter:\n%s", w.Body)
	}
}

// TestMetricsOffThePublicRouter: without a Gatherer (the process serves /metrics on its ops
// listener, EPOM_OPS_ADDR) the public router does not know /metrics, yet still counts into
// the registry the ops listener serves.
func TestMetricsOffThePublicRouter(t *testing.T) {
	f := newFixture(t)
	deps := f.deps
	deps.Gatherer = nil
	srv, err := server.New(deps, f.handlers)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	for _, path := range []string{"/metrics", "/metrics/"} {
		w := f.do(t, request{method: "GET", path: path})
		if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "epom_http_requests_total") {
			t.Fatalf("GET %s on the public router: %d\n%s", path, w.Code, w.Body)
		}
	}
	if w := f.do(t, request{method: "GET", path: "/livez"}); w.Code != http.StatusOK {
		t.Fatalf("livez %d", w.Code)
	}
	w := httptest.NewRecorder()
	promhttp.HandlerFor(f.reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`epom_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`epom_http_requests_total{method="GET",route="/livez",status="200"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the registry lacks %s:\n%s", want, w.Body)
		}
	}
}

func TestSecurityHeadersAndEmbedding(t *testing.T) {
	f := newFixture(t)
	w := f.do(t, request{method: "GET", path: "/o/liberec"})
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		w.Header().Get("X-Frame-Options") != "DENY" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers: %v", w.Header())
	}
	if !strings.Contains(w.Body.String(), "<h1>Liberec MARKER-A</h1>") {
		t.Fatalf("landing page: %s", w.Body)
	}
	w = f.do(t, request{method: "GET", path: "/o/liberec?embed=1"})
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://www.liberec.cz") || w.Header().Get("X-Frame-Options") != "" {
		t.Fatalf("embed headers: %v", w.Header())
	}
	// Kunžak configured no origins: its embed stays unframeable.
	w = f.do(t, request{method: "GET", path: "/o/kunzak?embed=1"})
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("embed without origins: %v", w.Header())
	}
	if w := f.do(t, request{method: "GET", path: "/o/atlantida"}); w.Code != 404 || !strings.Contains(w.Body.String(), `<html lang="cs"`) {
		t.Fatalf("unknown tenant page: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "GET", path: "/?q=kunzak"})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `href="/o/kunzak"`) {
		t.Fatalf("home search: %d %s", w.Code, w.Body)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	f := newFixture(t)
	if w := f.do(t, request{method: "GET", path: "/api/v1/nothing"}); w.Code != 404 || problemOf(t, w).Type != "/problems/not-found" {
		t.Fatalf("unknown API path: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/modules"}); w.Code != 405 {
		t.Fatalf("wrong method: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/catalogue/municipalities?limit=0"}); w.Code != 400 || problemOf(t, w).Errors[0].Field != "limit" {
		t.Fatalf("bad query parameter: %d %s", w.Code, w.Body)
	}
}

// TestGate checks the module gate on a synthetic operation: a module the tenant has not
// switched on answers 404 even to an authorized user.
func TestModuleGate(t *testing.T) {
	gin.SetMode(gin.TestMode)
	mods, err := modules.NewRegistry(fakeModule("waste"))
	if err != nil {
		t.Fatal(err)
	}
	on := tenants.Resolved{Modules: []string{"waste"}}
	off := tenants.Resolved{}
	for _, tc := range []struct {
		name   string
		t      tenants.Resolved
		status int
	}{{"on", on, 200}, {"off", off, 404}} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("GET", "/x", nil)
		server.GateForTest(c, mods, &httpx.Operation{Module: "waste"}, tc.t)
		if !c.IsAborted() {
			c.Status(200)
		}
		if w.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.status)
		}
	}
}

type fakeModule string

func (m fakeModule) ID() modules.ID            { return modules.ID(m) }
func (m fakeModule) Name() modules.Text        { return modules.Text{CS: string(m), EN: string(m)} }
func (m fakeModule) Description() modules.Text { return modules.Text{} }

func TestSpecOperationsDeclarePermissions(t *testing.T) {
	spec, err := server.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, p := range append(authz.KernelPermissions(), noticeboard.New(noticeboard.Deps{}).Permissions()...) {
		if len(p.Roles) == 0 {
			t.Errorf("permission %s is held by no role", p)
		}
		known[p.String()] = true
	}
	for _, op := range spec.Operations() {
		switch {
		case op.ID == "":
			t.Errorf("%s %s has no operationId", op.Method, op.Path)
		case op.Permission == "":
			t.Errorf("%s has no x-permission", op.ID)
		case op.Permission == httpx.PermissionPublic || op.Permission == httpx.PermissionAuthenticated:
		case !known[op.Permission]:
			t.Errorf("%s: x-permission %q is not declared by the kernel or any module", op.ID, op.Permission)
		}
	}
}

// TestRequestBodiesRejectUnknownFields makes additionalProperties: false a rule of the spec,
// so no request schema silently ignores a misspelt field.
func TestRequestBodiesRejectUnknownFields(t *testing.T) {
	spec, err := server.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range spec.Operations() {
		for _, schema := range server.RequestSchemasForTest(spec, op) {
			if bad := server.OpenObjects(schema, ""); len(bad) > 0 {
				t.Errorf("%s: objects that allow unknown fields: %v", op.ID, bad)
			}
		}
	}
}

func TestProblemPages(t *testing.T) {
	f := newFixture(t)
	w := f.do(t, request{method: "GET", path: "/problems/validation"})
	if w.Code != 200 || !bytes.Contains(w.Body.Bytes(), []byte("Požadavek není platný")) {
		t.Fatalf("problem page: %d", w.Code)
	}
}

func TestTenantAdminReadsTheLogs(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin-a@test.cz")
	if w := f.do(t, request{method: "PUT", path: "/api/v1/tenants/liberec/settings", body: `{"displayName":"Liberec"}`, sess: admin}); w.Code != 200 {
		t.Fatalf("settings: %d", w.Code)
	}
	ctxA := tenants.WithTenant(context.Background(), f.a.Tenant)
	if err := f.env.DB.InTx(ctxA, func(ctx context.Context) error {
		_, err := f.mail.Queue(ctx, email.Message{Template: "notification", Lang: "cs", To: "obcan@test.cz",
			Ref: "test:1", Data: &mail.Notification{Title: "Zkouška", Paragraphs: []string{"Text"}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/audit", sess: admin})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"action":"settings-changed"`) {
		t.Fatalf("audit log: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/mail-log?status=queued", sess: admin})
	var log gen.ListMailLog200JSONResponse
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &log) != nil || log.Total != 1 || log.Items[0].To != "obcan@test.cz" {
		t.Fatalf("mail log: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/mail-log/" + log.Items[0].Id.String(), sess: admin})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Zkouška") {
		t.Fatalf("mail message: %d %s", w.Code, w.Body)
	}
	// Another tenant's message id is not found, and a clerk may not read the logs.
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/mail-log/" + tenants.NewID().String(), sess: admin}); w.Code != 404 {
		t.Fatalf("unknown message: %d", w.Code)
	}
	clerk := f.signIn(t, "clerk-a@test.cz")
	for _, p := range []string{"/api/v1/tenants/liberec/audit", "/api/v1/tenants/liberec/mail-log"} {
		if w := f.do(t, request{method: "GET", path: p, sess: clerk}); w.Code != 403 {
			t.Fatalf("clerk reads %s: %d", p, w.Code)
		}
	}
}

func TestRequestsAreTraced(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	f := newFixtureWith(t, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec"})
	if w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].Name() != "GET /api/v1/tenants/:tenant" {
		t.Fatalf("spans: %v", spans)
	}
	attrs := map[string]string{}
	for _, a := range spans[0].Attributes() {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	if attrs["epom.operation"] != "getTenant" || attrs["epom.tenant"] != "liberec" ||
		attrs["epom.request_id"] != w.Header().Get("X-Request-Id") {
		t.Fatalf("span attributes: %v", attrs)
	}
}
