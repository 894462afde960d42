package noticeboard

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/epom-cz/epom/modules"
)

// The board's feeds: RSS 2.0 for feed readers and iCalendar (RFC 5545) for calendars, both of
// the notices now on the board.
const (
	rssPath          = publicPath + ".rss"
	icsPath          = publicPath + ".ics"
	rssType          = "application/rss+xml; charset=utf-8"
	icsType          = "text/calendar; charset=utf-8"
	feedCacheControl = "public, max-age=60"
)

// serveFeed answers the feed paths; it reports whether rest was one.
func (m *Module) serveFeed(w http.ResponseWriter, r *http.Request, p modules.PublicRequest, rest string) bool {
	var build func(modules.PublicRequest, []Notice, time.Time) ([]byte, error)
	var contentType string
	switch rest {
	case rssPath:
		build, contentType = m.rss, rssType
	case icsPath:
		build, contentType = m.ics, icsType
	default:
		return false
	}
	ns, err := m.currentNotices(p)
	if err != nil {
		http.Error(w, "notice board unavailable", http.StatusInternalServerError)
		return true
	}
	body, err := build(p, ns, m.svc.nowUTC())
	if err != nil {
		http.Error(w, "notice board unavailable", http.StatusInternalServerError)
		return true
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", feedCacheControl)
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return true
}

// currentNotices returns every notice now on the board, newest first.
func (m *Module) currentNotices(p modules.PublicRequest) ([]Notice, error) {
	var all []Notice
	for offset := 0; ; offset += 100 {
		ns, total, err := m.svc.store.PublicList(p.Ctx, PublicFilter{Limit: 100, Offset: offset})
		if err != nil {
			return nil, err
		}
		all = append(all, ns...)
		if len(ns) == 0 || len(all) >= total {
			return all, nil
		}
	}
}

// feedAlternates are the feeds a board page links in its head.
func feedAlternates(p modules.PublicRequest) []modules.Alternate {
	base := "/o/" + p.Tenant.Slug + "/"
	t := words(p.Lang)
	return []modules.Alternate{
		{Href: base + rssPath, Type: "application/rss+xml", Title: t["rss"]},
		{Href: base + icsPath, Type: "text/calendar", Title: t["ics"]},
	}
}

func (m *Module) boardURL(p modules.PublicRequest) string {
	return p.BaseURL + "/o/" + p.Tenant.Slug + "/" + publicPath
}

func langQuery(p modules.PublicRequest) string {
	if p.Lang == "en" {
		return "?lang=en"
	}
	return ""
}

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate"`
	TTL           int       `xml:"ttl"`
	Self          rssSelf   `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

// rssSelf is the channel's own address (atom:link rel="self"), which feed validators ask for.
type rssSelf struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	Description string  `xml:"description"`
	Category    string  `xml:"category"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// rss builds the RSS 2.0 feed. An item's guid is the notice's page, which stays the same
// through its revisions; pubDate is when it really went up.
func (m *Module) rss(p modules.PublicRequest, ns []Notice, now time.Time) ([]byte, error) {
	t := words(p.Lang)
	board := m.boardURL(p)
	c := rssChannel{Title: t["title"] + " – " + p.Profile.DisplayName, Link: board + langQuery(p),
		Description: t["feedDesc"] + " " + p.Profile.DisplayName, Language: p.Lang, TTL: 60,
		LastBuildDate: now.Format(time.RFC1123Z),
		Self:          rssSelf{Href: board + ".rss" + langQuery(p), Rel: "self", Type: "application/rss+xml"}}
	if c.Language != "en" {
		c.Language = "cs"
	}
	for _, n := range ns {
		page := board + "/" + n.ID.String()
		it := rssItem{Title: n.Title, Link: page + langQuery(p), Description: m.feedText(p, n),
			Category: categoryName(n.Category, p.Lang), GUID: rssGUID{IsPermaLink: true, Value: page}}
		if n.PostedAt != nil {
			it.PubDate = n.PostedAt.UTC().Format(time.RFC1123Z)
		}
		c.Items = append(c.Items, it)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(rssDoc{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: c}); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// feedText is a notice's plain-text summary: who issued it, its reference numbers, until
// when it hangs, and its text.
func (m *Module) feedText(p modules.PublicRequest, n Notice) string {
	t := words(p.Lang)
	v := m.view(p, n, "", "")
	lines := []string{t["origin"] + ": " + v.Origin}
	if n.ReferenceNumber != "" {
		lines = append(lines, t["ref"]+" "+n.ReferenceNumber)
	}
	if n.FileMark != "" {
		lines = append(lines, t["mark"]+": "+n.FileMark)
	}
	lines = append(lines, t["until"]+": "+v.Until)
	if n.Body != "" {
		lines = append(lines, "", n.Body)
	}
	return strings.Join(lines, "\n")
}

// ics builds the iCalendar feed: one event per notice from its posting to its planned
// take-down. The UID names the notice and its revision, so a calendar shows an edited notice
// as the new version it is. Times are UTC (the Z form), which needs no VTIMEZONE.
func (m *Module) ics(p modules.PublicRequest, ns []Notice, now time.Time) ([]byte, error) {
	t := words(p.Lang)
	board := m.boardURL(p)
	host := "epom"
	if u, err := url.Parse(p.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	var b icsWriter
	b.line("BEGIN:VCALENDAR")
	b.line("VERSION:2.0")
	b.line("PRODID:-//epom//Uredni deska//CS")
	b.line("CALSCALE:GREGORIAN")
	b.line("METHOD:PUBLISH")
	b.line("X-WR-CALNAME:" + icsText(t["title"]+" – "+p.Profile.DisplayName))
	b.line("X-WR-CALDESC:" + icsText(t["feedDesc"]+" "+p.Profile.DisplayName))
	b.line("X-PUBLISHED-TTL:PT1H")
	stamp := icsTime(now)
	for _, n := range ns {
		if n.PostedAt == nil {
			continue // never for a posted notice; an event needs its start
		}
		page := board + "/" + n.ID.String()
		b.line("BEGIN:VEVENT")
		b.line("UID:" + n.ID.String() + "-r" + strconv.Itoa(n.Revision) + "@" + host)
		b.line("DTSTAMP:" + stamp)
		b.line("DTSTART:" + icsTime(*n.PostedAt))
		if n.RelevantUntil != nil && n.RelevantUntil.After(*n.PostedAt) {
			b.line("DTEND:" + icsTime(*n.RelevantUntil))
		}
		b.line("SUMMARY:" + icsText(n.Title))
		b.line("DESCRIPTION:" + icsText(m.feedText(p, n)))
		b.line("URL:" + page + langQuery(p))
		b.line("CATEGORIES:" + icsText(categoryName(n.Category, p.Lang)))
		b.line("TRANSP:TRANSPARENT") // a notice hanging does not make anyone busy
		b.line("END:VEVENT")
	}
	b.line("END:VCALENDAR")
	return b.Bytes(), nil
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsText escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line ends.
func icsText(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	return strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, "\n", `\n`).Replace(s)
}

// icsWriter writes content lines ended by CRLF and folded (RFC 5545 3.1) so that no line is
// longer than 75 octets, never inside a UTF-8 sequence; a continuation starts with a space.
type icsWriter struct{ b bytes.Buffer }

const icsMaxOctets = 75

func (w *icsWriter) line(s string) {
	limit := icsMaxOctets
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.b.WriteString(s[:cut])
		w.b.WriteString("\r\n ")
		s = s[cut:]
		limit = icsMaxOctets - 1 // the leading space counts
	}
	w.b.WriteString(s)
	w.b.WriteString("\r\n")
}

func (w *icsWriter) Bytes() []byte { return w.b.Bytes() }
