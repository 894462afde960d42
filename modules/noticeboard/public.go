package noticeboard

import (
	"bytes"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/modules"
)

// publicPath is where the board hangs for citizens: /o/{slug}/uredni-deska.
const publicPath = "uredni-deska"

// PublicPath implements modules.Public.
func (m *Module) PublicPath() string { return publicPath }

var _ modules.PublicPages = (*Module)(nil)

//go:embed templates/*.html
var templateFiles embed.FS

const publicPageSize = 20

// ServePublic implements modules.PublicPages: the board, its archive, a notice, a document
// and the open data (OFN Úřední desky).
func (m *Module) ServePublic(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) {
	if m.svc == nil {
		p.NotFound()
		return
	}
	rest := strings.TrimSuffix(p.Rest, "/")
	if rest == publicPath+".jsonld" {
		m.cached(w, r, p, "jsonld", m.serveJSONLD)
		return
	}
	if rest == rssPath || rest == icsPath { // RSS and iCalendar, cached like the pages
		m.cached(w, r, p, "feed", func(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) { m.serveFeed(w, r, p, rest) })
		return
	}
	parts := strings.Split(rest, "/")
	if parts[0] != publicPath {
		p.NotFound()
		return
	}
	switch {
	case len(parts) >= 2 && parts[1] == "odber":
		m.serveSubscription(w, r, p, parts[2:])
	case r.Method == http.MethodPost: // only the subscription pages take a POST
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case len(parts) == 1:
		m.cached(w, r, p, "board", func(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) { m.serveBoard(w, r, p, false) })
	case len(parts) == 2 && parts[1] == "archiv":
		m.cached(w, r, p, "archive", func(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) { m.serveBoard(w, r, p, true) })
	case len(parts) == 2:
		m.cached(w, r, p, "notice", func(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) {
			m.serveNotice(w, r, p, parts[1])
		})
	case len(parts) == 4 && parts[2] == "prilohy":
		m.serveDocument(w, r, p, parts[1], parts[3])
	default:
		p.NotFound()
	}
}

// words of the public pages.
var publicWords = map[string][2]string{
	"title":       {"Úřední deska", "Official notice board"},
	"archiveT":    {"Archiv úřední desky", "Notice board archive"},
	"sections":    {"Části úřední desky", "Parts of the notice board"},
	"current":     {"Vyvěšená oznámení", "Current notices"},
	"archive":     {"Archiv (sejmutá oznámení)", "Archive (taken down)"},
	"opendata":    {"Otevřená data (JSON-LD)", "Open data (JSON-LD)"},
	"search":      {"Hledat v textu", "Search the text"},
	"category":    {"Kategorie", "Category"},
	"all":         {"Všechny kategorie", "All categories"},
	"filter":      {"Zobrazit", "Show"},
	"ref":         {"č. j.", "ref."},
	"mark":        {"Spisová značka", "File mark"},
	"posted":      {"Vyvěšeno", "Posted"},
	"until":       {"Relevantní do", "Relevant until"},
	"takendown":   {"Sejmuto", "Taken down"},
	"reason":      {"Důvod sejmutí", "Reason for taking it down"},
	"revision":    {"Verze", "Revision"},
	"documents":   {"Dokumenty", "Documents"},
	"nodocuments": {"Bez příloh.", "No documents."},
	"back":        {"Zpět na úřední desku", "Back to the notice board"},
	"origin":      {"Původce", "Issued by"},
	"pages":       {"Stránky", "Pages"},
	"prev":        {"Předchozí", "Previous"},
	"next":        {"Další", "Next"},
	"furthernote": {"do odvolání", "until further notice"},
	"count":       {"Nalezeno oznámení: %d", "Notices found: %d"},
	"docs":        {"příloh: %d", "documents: %d"},
	"rss":         {"Novinky (RSS)", "News feed (RSS)"},
	"ics":         {"Kalendář vyvěšení (iCalendar)", "Posting calendar (iCalendar)"},
	"feedDesc":    {"Oznámení vyvěšená na úřední desce:", "Notices on the board of"},
	"subscribe":   {"Odběr e-mailem", "Subscribe by e-mail"},
}

func words(lang string) map[string]string {
	i := 0
	if lang == "en" {
		i = 1
	}
	out := make(map[string]string, len(publicWords))
	for k, v := range publicWords {
		out[k] = v[i]
	}
	return out
}

type categoryOption struct {
	Code, Name string
	Selected   bool
}

type publicFile struct {
	Name, URL, Kind, Size, SHA string
}

type publicNotice struct {
	Title, URL, Category, Origin, Reference, FileMark string
	Posted, PostedISO, Until, Down, DownISO, Reason   string
	Documents                                         string
	Revision                                          int
	Body                                              []string
	Files                                             []publicFile
}

type boardView struct {
	Lang, LangQ, Base, Self, Heading, Municipality, Query, Count, Prev, Next string
	Archive, Embed                                                           bool
	T                                                                        map[string]string
	Categories                                                               []categoryOption
	Notices                                                                  []publicNotice
	N                                                                        publicNotice
}

func categoryName(code, lang string) string {
	c, ok := CategoryByCode(code)
	if !ok {
		return code
	}
	if lang == "en" {
		return c.EN
	}
	return c.CS
}

func (m *Module) view(p modules.PublicRequest, n Notice, base, langQ string) publicNotice {
	loc := m.prague
	t := words(p.Lang)
	format := func(x *time.Time) (string, string) {
		if x == nil {
			return "", ""
		}
		return x.In(loc).Format("2. 1. 2006 15:04"), x.Format(time.RFC3339)
	}
	v := publicNotice{Title: n.Title, URL: base + "/" + n.ID.String() + langQ, Category: categoryName(n.Category, p.Lang),
		Reference: n.ReferenceNumber, FileMark: n.FileMark, Reason: n.TakeDownReason, Revision: n.Revision}
	v.Origin = p.Profile.DisplayName
	if n.Origin == OriginOther {
		v.Origin = n.OriginName
	}
	v.Posted, v.PostedISO = format(n.PostedAt)
	v.Down, v.DownISO = format(n.TakenDownAt)
	v.Until = t["furthernote"]
	if n.RelevantUntil != nil {
		v.Until, _ = format(n.RelevantUntil)
	}
	for _, para := range strings.Split(n.Body, "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			v.Body = append(v.Body, para)
		}
	}
	if len(n.Attachments) > 0 {
		v.Documents = fmt.Sprintf(t["docs"], len(n.Attachments))
	}
	for _, a := range n.Attachments {
		kind := strings.ToUpper(strings.TrimPrefix(extOf(a.Name), "."))
		v.Files = append(v.Files, publicFile{Name: a.Name, URL: base + "/" + n.ID.String() + "/prilohy/" + a.ID.String(),
			Kind: kind, Size: humanSize(a.Size), SHA: hex.EncodeToString(a.SHA256)})
	}
	return v
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

func humanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%d kB", (n+512)/1024)
	}
	return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
}

func (m *Module) render(w http.ResponseWriter, v boardView, p modules.PublicRequest, status int, name, title string) {
	var buf bytes.Buffer
	if err := m.pages.ExecuteTemplate(&buf, name, v); err != nil {
		http.Error(w, "notice board unavailable", http.StatusInternalServerError)
		return
	}
	// The template escaped every value; its output is trusted HTML.
	p.Page(status, title, template.HTML(buf.String()))
}

func (m *Module) newView(r *http.Request, p modules.PublicRequest) boardView {
	base := "/o/" + p.Tenant.Slug + "/" + publicPath
	langQ := ""
	q := url.Values{}
	if p.Lang == "en" {
		q.Set("lang", "en")
	}
	if r.URL.Query().Get("embed") == "1" {
		q.Set("embed", "1")
	}
	if len(q) > 0 {
		langQ = "?" + q.Encode()
	}
	return boardView{Lang: p.Lang, LangQ: langQ, Base: base, T: words(p.Lang), Municipality: p.Profile.DisplayName,
		Embed: r.URL.Query().Get("embed") == "1"}
}

func (m *Module) serveBoard(w http.ResponseWriter, r *http.Request, p modules.PublicRequest, archive bool) {
	v := m.newView(r, p)
	v.Archive = archive
	v.Self = v.Base
	v.Heading = v.T["title"]
	if archive {
		v.Self, v.Heading = v.Base+"/archiv", v.T["archiveT"]
	}
	query := r.URL.Query()
	f := PublicFilter{Archive: archive, Query: strings.TrimSpace(query.Get("q")), Limit: publicPageSize}
	if len([]rune(f.Query)) > 200 {
		f.Query = string([]rune(f.Query)[:200])
	}
	if c := query.Get("kategorie"); c != "" {
		if _, ok := CategoryByCode(c); ok {
			f.Category = c
		}
	}
	page, _ := strconv.Atoi(query.Get("strana"))
	page = max(page, 1)
	f.Offset = (page - 1) * publicPageSize
	ns, total, err := m.svc.store.PublicList(p.Ctx, f)
	if err != nil {
		http.Error(w, "notice board unavailable", http.StatusInternalServerError)
		return
	}
	v.Query = f.Query
	for _, c := range Categories() {
		v.Categories = append(v.Categories, categoryOption{Code: c.Code, Name: categoryName(c.Code, p.Lang), Selected: c.Code == f.Category})
	}
	for _, n := range ns {
		v.Notices = append(v.Notices, m.view(p, n, v.Base, v.LangQ))
	}
	v.Count = fmt.Sprintf(v.T["count"], total)
	pageURL := func(n int) string {
		q := url.Values{}
		for k, vs := range query {
			q[k] = vs
		}
		q.Set("strana", strconv.Itoa(n))
		return v.Self + "?" + q.Encode()
	}
	if page > 1 {
		v.Prev = pageURL(page - 1)
	}
	if f.Offset+len(ns) < total {
		v.Next = pageURL(page + 1)
	}
	if p.Alternates != nil { // the feeds in the head
		p.Alternates(feedAlternates(p)...)
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	m.render(w, v, p, http.StatusOK, "board", v.Heading+" – "+p.Profile.DisplayName)
}

// publicNoticeByID returns a notice citizens may see: posted or archived.
func (m *Module) publicNoticeByID(p modules.PublicRequest, raw string) (Notice, bool) {
	id, err := uuid.Parse(raw)
	if err != nil {
		return Notice{}, false
	}
	n, err := m.svc.store.Get(p.Ctx, id, false)
	if err != nil || (n.State != StatePosted && n.State != StateArchived) {
		return Notice{}, false
	}
	return n, true
}

func (m *Module) serveNotice(w http.ResponseWriter, r *http.Request, p modules.PublicRequest, raw string) {
	n, ok := m.publicNoticeByID(p, raw)
	if !ok {
		p.NotFound()
		return
	}
	v := m.newView(r, p)
	v.N = m.view(p, n, v.Base, v.LangQ)
	w.Header().Set("Cache-Control", "public, max-age=60")
	m.render(w, v, p, http.StatusOK, "notice", n.Title+" – "+v.T["title"]+" – "+p.Profile.DisplayName)
}

// serveDocument sends a document of a public notice, also one of an earlier revision.
func (m *Module) serveDocument(w http.ResponseWriter, r *http.Request, p modules.PublicRequest, rawNotice, rawID string) {
	n, ok := m.publicNoticeByID(p, rawNotice)
	if !ok {
		p.NotFound()
		return
	}
	id, err := uuid.Parse(rawID)
	if err != nil {
		p.NotFound()
		return
	}
	a, rc, err := m.svc.OpenAttachment(p.Ctx, n.ID, id)
	if errors.Is(err, modules.ErrNotFound) {
		p.NotFound()
		return
	}
	if err != nil {
		http.Error(w, "document unavailable", http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	h.Set("X-Content-SHA256", hex.EncodeToString(a.SHA256))
	h.Set("Cache-Control", "public, max-age=3600")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, rc)
}
