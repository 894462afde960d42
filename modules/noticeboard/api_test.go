package noticeboard_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/frontend"
	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/internal/metrics"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

const password = "correct horse battery staple"

// web is the whole server with the board switched on for Liberec (A) and Kunžak (B).
type web struct {
	srv      *server.Server
	svc      *noticeboard.Service
	identity *identity.Service
	ctxA     context.Context
	ctxB     context.Context
	users    map[string]noticeboard.Actor
}

func newWeb(t *testing.T) *web {
	t.Helper()
	m := noticeboard.New(noticeboard.Deps{})
	e := tenanttest.New(t, tenants.MigrationSet{Name: string(m.ID()), FS: m.Migrations()})
	ctx := context.Background()
	redisURL := os.Getenv("EPOM_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/11"
	}
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "EPOM_BASE_URL":
			return "http://epom.test"
		case "EPOM_REDIS_URL":
			return redisURL
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })
	ctxA, a := e.Tenant(t, "563889", "liberec", "noticeboard")
	ctxB, b := e.Tenant(t, "546615", "kunzak", "noticeboard")
	m = noticeboard.New(noticeboard.Deps{DB: e.DB, Files: files.NewPostgres(e.DB), Audit: audit.New(e.DB, e.Platform)})
	mods, err := modules.NewRegistry(m)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.NewService(e.App, e.Platform, e.DB, identity.Config{
		Argon2: identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}})
	if err != nil {
		t.Fatal(err)
	}
	w := &web{svc: m.Service(), identity: id, ctxA: ctxA, ctxB: ctxB, users: map[string]noticeboard.Actor{}}
	for _, u := range []struct {
		email string
		in    tenants.Resolved
		role  string
	}{
		{"clerk@a.test", a, authz.RoleClerk}, {"clerk2@a.test", a, authz.RoleClerk},
		{"admin@a.test", a, authz.RoleTenantAdmin}, {"auditor@a.test", a, authz.RoleAuditor},
		{"clerk@b.test", b, authz.RoleClerk},
	} {
		user, err := id.CreateUser(ctx, u.email, u.email, password)
		if err != nil {
			t.Fatal(err)
		}
		if err := id.Grant(tenants.WithTenant(ctx, u.in.Tenant), user.ID, u.role); err != nil {
			t.Fatal(err)
		}
		w.users[u.email] = noticeboard.Actor{UserID: user.ID, Email: u.email}
	}
	az, err := authz.New(ctx, e.Platform, nil, append(authz.KernelPermissions(), mods.Permissions()...))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := server.LoadSpec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resolver := tenants.NewResolver(e.Registry, rdb, time.Minute)
	reg := prometheus.NewRegistry()
	kernel := &server.Kernel{Modules: mods, Registry: e.Registry, Resolver: resolver, Settings: tenants.NewSettingsStore(e.DB),
		Identity: id, Authz: az, Audit: audit.New(e.DB, e.Platform), BaseURL: cfg.BaseURL, SessionMaxAge: time.Hour}
	w.srv, err = server.New(server.Deps{Config: cfg, Log: slog.New(slog.DiscardHandler), Spec: spec, Modules: mods,
		Registry: e.Registry, Resolver: resolver, DB: e.DB, App: e.App, Identity: id, Authz: az,
		Metrics: metrics.NewHTTP(reg), Gatherer: reg, Frontend: frontend.Dist(),
		Ready: func(context.Context) error { return nil },
	}, &struct {
		*server.Kernel
		*noticeboard.API
	}{kernel, noticeboard.NewAPI(m.Service(), time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

type client struct {
	w      *web
	cookie *http.Cookie
	csrf   string
}

func (w *web) signIn(t *testing.T, email string) *client {
	t.Helper()
	c := &client{w: w}
	res := c.do(t, "POST", "/api/v1/session", "application/json", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if res.Code != http.StatusOK {
		t.Fatalf("sign in %s: %d %s", email, res.Code, res.Body)
	}
	var me gen.Me
	if err := json.Unmarshal(res.Body.Bytes(), &me); err != nil {
		t.Fatal(err)
	}
	c.csrf = me.CsrfToken
	for _, ck := range res.Result().Cookies() {
		if ck.Name == server.SessionCookie {
			c.cookie = ck
		}
	}
	return c
}

func (c *client) do(t *testing.T, method, path, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
		req.Header.Set(server.CSRFHeader, c.csrf)
	}
	rec := httptest.NewRecorder()
	c.w.srv.ServeHTTP(rec, req)
	return rec
}

func (c *client) json(t *testing.T, method, path, body string, want int, out any) {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	res := c.do(t, method, path, ct, body)
	if res.Code != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, res.Code, want, res.Body)
	}
	if out != nil {
		if err := json.Unmarshal(res.Body.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}
}

func (c *client) upload(t *testing.T, path, name string, content []byte) *httptest.ResponseRecorder {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	return c.do(t, "POST", path, mw.FormDataContentType(), b.String())
}

func problemFields(t *testing.T, res *httptest.ResponseRecorder) []problem.FieldError {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal(res.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem: %v %s", err, res.Body)
	}
	return p.Errors
}

const base = "/api/v1/tenants/liberec/noticeboard"

func TestAPIClerkPostsNoticeWithDocument(t *testing.T) {
	w := newWeb(t)
	clerk := w.signIn(t, "clerk@a.test")
	var n gen.Notice
	clerk.json(t, "POST", base+"/notices", `{"title":"Návrh rozpočtu 2027","body":"<b>Připomínky</b> do 10. 12.","category":"rozpocet","referenceNumber":"OÚ/1/2026"}`, 201, &n)
	if n.State != "draft" || n.Body != "Připomínky do 10. 12." {
		t.Fatalf("created: %+v", n)
	}
	doc := []byte("%PDF-1.4\n% rozpočet\n%%EOF\n")
	res := clerk.upload(t, base+"/notices/"+n.Id.String()+"/attachments", "rozpocet.pdf", doc)
	if res.Code != 201 {
		t.Fatalf("upload: %d %s", res.Code, res.Body)
	}
	var a gen.NoticeAttachment
	_ = json.Unmarshal(res.Body.Bytes(), &a)
	sum := sha256.Sum256(doc)
	if a.ContentType != "application/pdf" || a.Sha256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("attachment: %+v", a)
	}
	exe := append([]byte("MZ\x90\x00"), make([]byte, 64)...)
	res = clerk.upload(t, base+"/notices/"+n.Id.String()+"/attachments", "faktura.pdf", exe)
	if fields := problemFields(t, res); res.Code != 400 || len(fields) != 1 || fields[0].Field != "file" || !strings.Contains(fields[0].Message, "typ souboru") {
		t.Fatalf("disguised exe: %d %s", res.Code, res.Body)
	}
	res = clerk.do(t, "GET", base+"/notices/"+n.Id.String()+"/attachments/"+a.Id.String(), "", "")
	if res.Code != 200 || !bytes.Equal(res.Body.Bytes(), doc) || res.Header().Get("X-Content-SHA256") != a.Sha256 ||
		!strings.Contains(res.Header().Get("Content-Disposition"), "rozpocet.pdf") ||
		!strings.HasPrefix(res.Header().Get("Content-Disposition"), "attachment") ||
		res.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("download: %d %v", res.Code, res.Header())
	}
	clerk.json(t, "POST", base+"/notices/"+n.Id.String()+"/publish", "", 200, &n)
	if n.State != "posted" || n.Revision != 1 {
		t.Fatalf("published: %+v", n)
	}
	var list gen.NoticeList
	clerk.json(t, "GET", base+"/notices?state=posted&category=rozpocet", "", 200, &list)
	if list.Total != 1 || list.Items[0].Id != n.Id {
		t.Fatalf("list: %+v", list)
	}
	res = clerk.do(t, "POST", base+"/notices", "application/json", `{"title":" ","category":"rozpocet"}`)
	if fields := problemFields(t, res); res.Code != 400 || fields[0].Field != "/title" {
		t.Fatalf("missing title: %d %s", res.Code, res.Body)
	}
	res = clerk.do(t, "POST", base+"/notices", "application/json", `{"title":"X","category":"tajne"}`)
	if fields := problemFields(t, res); res.Code != 400 || fields[0].Field != "/category" {
		t.Fatalf("unknown category: %d %s", res.Code, res.Body)
	}
	var revs struct{ Items []gen.NoticeRevision }
	clerk.json(t, "PUT", base+"/notices/"+n.Id.String(), `{"title":"Návrh rozpočtu 2027 (opraveno)","category":"rozpocet","note":"Překlep"}`, 200, &n)
	clerk.json(t, "GET", base+"/notices/"+n.Id.String()+"/revisions", "", 200, &revs)
	if len(revs.Items) != 2 || revs.Items[0].Title != "Návrh rozpočtu 2027" || revs.Items[1].Note != "Překlep" {
		t.Fatalf("revisions: %+v", revs)
	}
	clerk.json(t, "POST", base+"/notices/"+n.Id.String()+"/take-down", `{"reason":"Nahrazeno"}`, 200, &n)
	if n.State != "archived" {
		t.Fatalf("taken down: %+v", n)
	}
}

func TestAPIAnotherTenantsNoticeIsNotFound(t *testing.T) {
	w := newWeb(t)
	nb, err := w.svc.Create(w.ctxB, w.users["clerk@b.test"], noticeboard.Draft{Title: "Kunžak MARKER-B", Category: "volby"})
	if err != nil {
		t.Fatal(err)
	}
	ab, err := w.svc.AddAttachment(w.ctxB, w.users["clerk@b.test"], nb.ID, "b.pdf", []byte("%PDF-1.4 MARKER-B"))
	if err != nil {
		t.Fatal(err)
	}
	clerk := w.signIn(t, "clerk@a.test")
	id := nb.ID.String()
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/notices/" + id, ""},
		{"PUT", "/notices/" + id, `{"title":"MARKER-A","category":"volby"}`},
		{"POST", "/notices/" + id + "/submit", ""},
		{"POST", "/notices/" + id + "/approve", ""},
		{"POST", "/notices/" + id + "/publish", ""},
		{"POST", "/notices/" + id + "/take-down", `{"reason":"x"}`},
		{"GET", "/notices/" + id + "/revisions", ""},
		{"GET", "/notices/" + id + "/revisions/1", ""},
		{"GET", "/notices/" + id + "/attachments/" + ab.ID.String(), ""},
		{"DELETE", "/notices/" + id + "/attachments/" + ab.ID.String(), ""},
	} {
		ct := ""
		if r.body != "" {
			ct = "application/json"
		}
		res := clerk.do(t, r.method, base+r.path, ct, r.body)
		if res.Code != 404 || strings.Contains(res.Body.String(), "MARKER-B") {
			t.Errorf("%s %s with B's id: %d %s", r.method, r.path, res.Code, res.Body)
		}
	}
	res := clerk.upload(t, base+"/notices/"+id+"/attachments", "a.pdf", []byte("%PDF-1.4"))
	if res.Code != 404 {
		t.Errorf("upload to B's notice: %d %s", res.Code, res.Body)
	}
	// On B's own path, A's clerk is not a member: refused before anything is read.
	res = clerk.do(t, "GET", "/api/v1/tenants/kunzak/noticeboard/notices/"+id, "", "")
	if res.Code != 403 {
		t.Errorf("B's path: %d", res.Code)
	}
	got, err := w.svc.Get(w.ctxB, nb.ID)
	if err != nil || got.Title != "Kunžak MARKER-B" || got.State != noticeboard.StateDraft || len(got.Attachments) != 1 {
		t.Fatalf("B's notice after A's attempts: %+v %v", got, err)
	}
}

func TestAPIRolesAndApproval(t *testing.T) {
	w := newWeb(t)
	auditor := w.signIn(t, "auditor@a.test")
	auditor.json(t, "GET", base+"/notices", "", 200, nil)
	auditor.json(t, "POST", base+"/notices", `{"title":"X","category":"volby"}`, 403, nil)
	clerk := w.signIn(t, "clerk@a.test")
	clerk.json(t, "PUT", base+"/settings", `{"approvalRequired":true}`, 403, nil)
	admin := w.signIn(t, "admin@a.test")
	admin.json(t, "PUT", base+"/settings", `{"approvalRequired":true}`, 200, nil)
	var n gen.Notice
	clerk.json(t, "POST", base+"/notices", `{"title":"Pozvánka na zastupitelstvo","category":"ostatni"}`, 201, &n)
	clerk.json(t, "POST", base+"/notices/"+n.Id.String()+"/publish", "", 409, nil)
	clerk.json(t, "POST", base+"/notices/"+n.Id.String()+"/submit", "", 200, nil)
	clerk.json(t, "POST", base+"/notices/"+n.Id.String()+"/approve", "", 403, nil)
	w.signIn(t, "clerk2@a.test").json(t, "POST", base+"/notices/"+n.Id.String()+"/approve", "", 200, &n)
	if n.State != "posted" || n.ApprovedBy == nil || *n.ApprovedBy != w.users["clerk2@a.test"].UserID {
		t.Fatalf("approved: %+v", n)
	}
}
