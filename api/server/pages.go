package server

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/catalogue"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages renders the server-side HTML that citizens reach from a municipality's web site:
// fast, cacheable, and usable without JavaScript.
type pages struct {
	tmpl      *template.Template
	frontend  fs.FS
	publicCSS []string // hashed stylesheet paths of the public entry, from the Vite manifest
	baseHost  string
	modules   *modules.Registry
	settings  func(*gin.Context, tenants.Resolved) (tenants.Settings, error)
	// noticeboard: the modules' public pages (module_pages.go)
	profile func(*gin.Context, tenants.Resolved) (tenants.Profile, error)
	baseURL string
}

func newPages(d Deps) (*pages, error) {
	tmpl, err := template.New("").Funcs(template.FuncMap{
		"t": translate,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	u, err := url.Parse(d.Config.BaseURL)
	if err != nil {
		return nil, err
	}
	p := &pages{tmpl: tmpl, frontend: d.Frontend, baseHost: strings.ToLower(u.Host), modules: d.Modules}
	if p.publicCSS, err = publicStylesheets(d.Frontend); err != nil {
		return nil, err
	}
	settings := tenants.NewSettingsStore(d.DB)
	p.settings = func(c *gin.Context, t tenants.Resolved) (tenants.Settings, error) {
		ctx := tenants.WithTenant(c.Request.Context(), t.Tenant)
		st, _, err := settings.Get(ctx, t.DisplayName)
		return st, err
	}
	p.profile = func(c *gin.Context, t tenants.Resolved) (tenants.Profile, error) {
		// Cached with the tenant: a page-cache hit then costs no database round trip.
		return d.Resolver.Profile(c.Request.Context(), t.Tenant, settings)
	}
	p.baseURL = strings.TrimSuffix(d.Config.BaseURL, "/")
	return p, nil
}

// publicStylesheets reads the CSS of the "src/public.ts" entry from Vite's manifest.
func publicStylesheets(dist fs.FS) ([]string, error) {
	data, err := fs.ReadFile(dist, ".vite/manifest.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read frontend manifest: %w", err)
	}
	var manifest map[string]struct {
		CSS []string `json:"css"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, fmt.Errorf("parse frontend manifest: %w", err)
	}
	var out []string
	for _, css := range manifest["src/public.ts"].CSS {
		out = append(out, "/app/"+css)
	}
	return out, nil
}

func (p *pages) register(e *gin.Engine, s *Server) {
	home := func(c *gin.Context) {
		if t, ok := hostTenantFrom(c); ok {
			p.landing(c, s, t.Slug)
			return
		}
		d := p.base(c, "epom")
		if q := strings.TrimSpace(c.Query("q")); q != "" {
			hits, err := catalogue.Search(c.Request.Context(), s.deps.App, q, "", 30)
			if err != nil {
				httpx.Abort(c, problem.From(err))
				return
			}
			d.Message, d.Hits = q, hits
		}
		p.render(c, http.StatusOK, "home.html", d)
	}
	landing := func(c *gin.Context) { p.landing(c, s, c.Param("slug")) }
	// Link checkers and crawlers ask with HEAD; gin does not map it onto GET by itself.
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		e.Handle(m, "/", home)
		e.Handle(m, "/o/:slug", landing)
	}
	p.registerModulePages(e, s)
	e.GET("/problems/:name", p.problemPage)
	e.GET("/app", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/app/") })
	e.GET("/app/*path", p.spa)
	// The design system's components load their icons from this fixed absolute path.
	e.GET("/assets/icons/components/:file", p.icon)
}

type pageData struct {
	Lang     string
	Title    string
	CSS      []string
	Path     string
	Tenant   *tenants.Resolved
	Settings tenants.Settings
	Services []service
	Status   int
	Problem  *problem.Type
	Problems []problem.Type
	Message  string
	Hits     []catalogue.Hit
	Body     template.HTML // a module's page (module.html)

	Alternates []modules.Alternate // a module page's feeds
}

type service struct {
	Name, Description, URL string
}

func (p *pages) base(c *gin.Context, title string) pageData {
	lang := "cs"
	if c.Query("lang") == "en" {
		lang = "en"
	}
	return pageData{Lang: lang, Title: title, CSS: p.publicCSS, Path: c.Request.URL.Path}
}

func (p *pages) render(c *gin.Context, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, d); err != nil {
		httpx.Abort(c, &problem.Error{Type: problem.Internal, Err: fmt.Errorf("render %s: %w", name, err)})
		return
	}
	c.Header("Content-Language", d.Lang)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// landing is the municipality's public page: what it offers online and how to reach it.
func (p *pages) landing(c *gin.Context, s *Server, slug string) {
	t, err := s.resolve(c, slug)
	if err != nil {
		pe := problem.From(err)
		d := p.base(c, pe.Type.TitleCS)
		d.Status = pe.Type.Status
		d.Problem = &pe.Type
		p.render(c, pe.Type.Status, "error.html", d)
		return
	}
	st, err := p.settings(c, t)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	d := p.base(c, st.DisplayName)
	d.Tenant, d.Settings = &t, st
	for _, m := range p.modules.All() {
		pub, ok := m.(modules.Public)
		if !ok || !t.Enabled(string(m.ID())) {
			continue
		}
		name, desc := m.Name().CS, m.Description().CS
		if d.Lang == "en" {
			name, desc = m.Name().EN, m.Description().EN
		}
		d.Services = append(d.Services, service{Name: name, Description: desc, URL: "/o/" + t.Slug + "/" + pub.PublicPath()})
	}
	if c.Query("embed") == "1" {
		httpx.AllowFraming(c, t.EmbedOrigins)
	}
	c.Header("Cache-Control", "public, max-age=60")
	p.render(c, http.StatusOK, "landing.html", d)
}

func (p *pages) problemPage(c *gin.Context) {
	for _, t := range problem.Types() {
		if t.Name == c.Param("name") {
			d := p.base(c, t.TitleCS)
			d.Problem = &t
			d.Problems = problem.Types()
			p.render(c, http.StatusOK, "problem.html", d)
			return
		}
	}
	p.notFound(c)
}

func (p *pages) notFound(c *gin.Context) {
	d := p.base(c, problem.NotFound.TitleCS)
	d.Status = http.StatusNotFound
	d.Problem = &problem.NotFound
	p.render(c, http.StatusNotFound, "error.html", d)
}

// spa serves the single-page app: hashed assets cached for a year, everything else gets
// index.html (never cached, so a deploy takes effect at the next load).
func (p *pages) spa(c *gin.Context) {
	rel := strings.TrimPrefix(path.Clean(c.Param("path")), "/")
	if strings.HasPrefix(rel, "assets/") {
		data, err := fs.ReadFile(p.frontend, rel)
		if err != nil {
			p.notFound(c)
			return
		}
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.Data(http.StatusOK, contentType(rel), data)
		return
	}
	index, err := fs.ReadFile(p.frontend, "index.html")
	if err != nil {
		httpx.Abort(c, problem.New(problem.Unavailable, "The user interface is not built (make frontend)."))
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/html; charset=utf-8", index)
}

func (p *pages) icon(c *gin.Context) {
	name := c.Param("file")
	if strings.Contains(name, "/") || !strings.HasSuffix(name, ".svg") {
		p.notFound(c)
		return
	}
	data, err := fs.ReadFile(p.frontend, "icons/components/"+name)
	if err != nil {
		p.notFound(c)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/svg+xml", data)
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	case ".png":
		return "image/png"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// translate is the public pages' small dictionary; the SPA has its own.
func translate(lang, key string) string {
	if lang == "en" {
		if v, ok := english[key]; ok {
			return v
		}
	}
	if v, ok := czech[key]; ok {
		return v
	}
	return key
}

var czech = map[string]string{
	"skip":          "Přeskočit na obsah",
	"tagline":       "Úřad obce online",
	"services":      "Služby obce online",
	"no-services":   "Obec zatím nenabízí žádné služby online.",
	"contact":       "Kontakt",
	"staff":         "Přihlášení pro pracovníky úřadu a občany",
	"home-title":    "epom — úřad obce online",
	"home-lead":     "Úřední deska, podání, objednávky a další agendy malých obcí na jednom místě.",
	"find":          "Najít obec",
	"find-label":    "Název obce",
	"search":        "Hledat",
	"sign-in":       "Přihlásit se",
	"back-home":     "Zpět na úvodní stránku",
	"language":      "English",
	"problem-types": "Typy chyb rozhraní API",
	"ico":           "IČO",
	"website":       "Web obce",
	"email":         "E-mail",
	"phone":         "Telefon",
	"address":       "Adresa",
	// operator: the online subscription.
	"order":      "Objednat epom pro obec",
	"order-lead": "Obec může epom objednat online; žádost posoudí operátor jejího kraje.",
}

var english = map[string]string{
	"skip":          "Skip to content",
	"tagline":       "The municipal office online",
	"services":      "Online services",
	"no-services":   "The municipality does not offer online services yet.",
	"contact":       "Contact",
	"staff":         "Sign in for office staff and citizens",
	"home-title":    "epom — the municipal office online",
	"home-lead":     "Notice board, submissions, appointments and the other agendas of small municipalities in one place.",
	"find":          "Find a municipality",
	"find-label":    "Municipality name",
	"search":        "Search",
	"sign-in":       "Sign in",
	"back-home":     "Back to the home page",
	"language":      "Česky",
	"problem-types": "API problem types",
	"ico":           "Company ID",
	"website":       "Web site",
	"email":         "E-mail",
	"phone":         "Phone",
	"address":       "Address",
	// operator: the online subscription.
	"order":      "Order epom for a municipality",
	"order-lead": "A municipality can order epom online; the operator of its region reviews the request.",
}
