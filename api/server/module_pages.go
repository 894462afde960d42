package server

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
)

// modulePage hands /o/{slug}/<path>… to the module whose PublicPath the path starts with
// ("uredni-deska", "uredni-deska/…", "uredni-deska.<ext>").
func (p *pages) modulePage(c *gin.Context, s *Server) {
	rest := strings.TrimPrefix(c.Param("rest"), "/")
	first, _, _ := strings.Cut(rest, "/")
	var mod modules.PublicPages
	for _, m := range p.modules.All() {
		pp, ok := m.(modules.PublicPages)
		if !ok {
			continue
		}
		base := pp.PublicPath()
		if first == base || strings.HasPrefix(first, base+".") {
			mod = pp
			break
		}
	}
	if mod == nil {
		p.notFound(c)
		return
	}
	t, err := s.resolve(c, c.Param("slug"))
	if err != nil {
		pe := problem.From(err)
		d := p.base(c, pe.Type.TitleCS)
		d.Status, d.Problem = pe.Type.Status, &pe.Type
		p.render(c, pe.Type.Status, "error.html", d)
		return
	}
	if !t.Enabled(string(mod.(modules.Module).ID())) {
		p.notFound(c)
		return
	}
	ctx := tenants.WithTenant(c.Request.Context(), t.Tenant)
	profile, err := p.profile(c, t)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	if c.Query("embed") == "1" {
		httpx.AllowFraming(c, t.EmbedOrigins)
	}
	d := p.base(c, "")
	d.Tenant, d.Settings = &t, profile.Settings
	mod.ServePublic(c.Writer, c.Request.WithContext(ctx), modules.PublicRequest{
		Ctx: ctx, Tenant: t, Profile: profile, Rest: rest, Lang: d.Lang, BaseURL: p.baseURL,
		Page: func(status int, title string, body template.HTML) {
			d.Title, d.Body = title, body
			p.render(c, status, "module.html", d)
		},
		NotFound:   func() { p.notFound(c) },
		Alternates: func(l ...modules.Alternate) { d.Alternates = append(d.Alternates, l...) },
		ClientIP:   c.ClientIP(), Viewer: func() (modules.Viewer, bool) { return s.viewer(c) },
	})
}

// registerModulePages routes the modules' public pages (GET and HEAD; POST for forms).
func (p *pages) registerModulePages(e *gin.Engine, s *Server) {
	h := func(c *gin.Context) { p.modulePage(c, s) }
	e.Handle(http.MethodGet, "/o/:slug/*rest", h)
	e.Handle(http.MethodHead, "/o/:slug/*rest", h)
	e.Handle(http.MethodPost, "/o/:slug/*rest", h) // subscription forms; the module refuses other POSTs
}
