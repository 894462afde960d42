package noticeboard_test

import (
	"encoding/xml"
	"html"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/epom-cz/epom/modules/noticeboard"
)

type rssFeed struct {
	Version string `xml:"version,attr"`
	Channel struct {
		Title string `xml:"title"`
		// atom:link first: encoding/xml gives an element to the first field it matches.
		Self struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Link        string `xml:"link"`
		Description string `xml:"description"`
		Language    string `xml:"language"`
		Items       []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Category    string `xml:"category"`
			GUID        struct {
				IsPermaLink string `xml:"isPermaLink,attr"`
				Value       string `xml:",chardata"`
			} `xml:"guid"`
			PubDate string `xml:"pubDate"`
		} `xml:"item"`
	} `xml:"channel"`
}

// icsProperty is one unfolded content line of an iCalendar feed.
type icsProperty struct{ name, value string }

// parseICS checks the RFC 5545 line rules and returns the unfolded content lines.
func parseICS(t *testing.T, body string) []icsProperty {
	t.Helper()
	if !strings.HasSuffix(body, "\r\n") {
		t.Fatal("the calendar does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	var logical []string
	for i, l := range physical {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare line end: %q", i, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets long: %q", i, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i, l)
		}
		if strings.HasPrefix(l, " ") {
			logical[len(logical)-1] += l[1:]
			continue
		}
		logical = append(logical, l)
	}
	out := make([]icsProperty, 0, len(logical))
	for _, l := range logical {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("no colon in %q", l)
		}
		out = append(out, icsProperty{name, value})
	}
	return out
}

// icsUnescape reverses the TEXT escaping.
func icsUnescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\;`, `;`, `\,`, `,`, `\n`, "\n", `\N`, "\n").Replace(s)
}

func TestFeeds(t *testing.T) {
	w := newWeb(t)
	clerk, clerkB := w.users["clerk@a.test"], w.users["clerk@b.test"]
	until := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	title := "Veřejná vyhláška, kterou se oznamuje návrh opatření obecné povahy; změna č. 2 územního plánu " +
		`Liberec – lokalita Ruprechtice\Horní, Vesec a Kateřinky`
	body := "Veřejné projednání se koná 15. 12. v zasedací síni, Nám. Dr. E. Beneše 1; vstup volný.\n\n" +
		"Námitky lze podat do 7 dnů ode dne veřejného projednání."
	full, err := w.svc.Create(w.ctxA, clerk, noticeboard.Draft{Title: title, Body: body, Category: "uzemni-plan",
		ReferenceNumber: "MML/1207/2026", FileMark: "UP/2026/14", RelevantUntil: &until})
	if err != nil {
		t.Fatal(err)
	}
	if full, err = w.svc.Publish(w.ctxA, clerk, full.ID); err != nil {
		t.Fatal(err)
	}
	open, err := w.svc.Create(w.ctxA, clerk, noticeboard.Draft{Title: "Svoz odpadu", Category: "ostatni"})
	if err != nil {
		t.Fatal(err)
	}
	if open, err = w.svc.Publish(w.ctxA, clerk, open.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Create(w.ctxA, clerk, noticeboard.Draft{Title: "Koncept DRAFT-MARKER", Category: "volby"}); err != nil {
		t.Fatal(err)
	}
	gone, err := w.svc.Create(w.ctxA, clerk, noticeboard.Draft{Title: "Sejmuto ARCHIVE-MARKER", Category: "volby"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Publish(w.ctxA, clerk, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.TakeDown(w.ctxA, clerk, gone.ID, "Volby proběhly"); err != nil {
		t.Fatal(err)
	}
	other, err := w.svc.Create(w.ctxB, clerkB, noticeboard.Draft{Title: "Kunžak OTHER-TENANT-MARKER", Category: "volby"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Publish(w.ctxB, clerkB, other.ID); err != nil {
		t.Fatal(err)
	}
	anon := &client{w: w}
	const board = "http://epom.test/o/liberec/uredni-deska"
	noLeak := func(t *testing.T, body string) {
		t.Helper()
		for _, marker := range []string{"DRAFT-MARKER", "ARCHIVE-MARKER", "OTHER-TENANT-MARKER", other.ID.String(), gone.ID.String()} {
			if strings.Contains(body, marker) {
				t.Errorf("the feed shows %s", marker)
			}
		}
	}

	t.Run("rss", func(t *testing.T) {
		res := anon.do(t, "GET", "/o/liberec/uredni-deska.rss", "", "")
		if res.Code != 200 || res.Header().Get("Content-Type") != "application/rss+xml; charset=utf-8" {
			t.Fatalf("RSS: %d %v", res.Code, res.Header())
		}
		noLeak(t, res.Body.String())
		var feed rssFeed
		if err := xml.Unmarshal(res.Body.Bytes(), &feed); err != nil {
			t.Fatalf("RSS does not parse: %v\n%s", err, res.Body)
		}
		c := feed.Channel
		if feed.Version != "2.0" || c.Link != board || c.Self.Href != board+".rss" || c.Self.Rel != "self" || c.Language != "cs" || !strings.Contains(c.Title, "Úřední deska") ||
			c.Description == "" {
			t.Fatalf("channel: %+v", c)
		}
		if len(c.Items) != 2 {
			t.Fatalf("%d items, want 2", len(c.Items))
		}
		byTitle := map[string]int{}
		for i, it := range c.Items {
			byTitle[it.Title] = i
		}
		i, ok := byTitle[title]
		if !ok {
			t.Fatalf("no item titled %q: %+v", title, c.Items)
		}
		it := c.Items[i]
		page := board + "/" + full.ID.String()
		if it.Link != page || it.GUID.Value != page || it.GUID.IsPermaLink != "true" || it.Category != "Územní plán" {
			t.Errorf("item: %+v", it)
		}
		posted, err := time.Parse(time.RFC1123Z, it.PubDate)
		if err != nil || !posted.Equal(full.PostedAt.Truncate(time.Second)) {
			t.Errorf("pubDate %q (%v), posted at %v", it.PubDate, err, full.PostedAt)
		}
		for _, want := range []string{"č. j. MML/1207/2026", "UP/2026/14", "Námitky lze podat do 7 dnů"} {
			if !strings.Contains(it.Description, want) {
				t.Errorf("description lacks %q: %q", want, it.Description)
			}
		}
		if strings.ContainsAny(it.Description, "<>") {
			t.Errorf("description is not plain text: %q", it.Description)
		}
	})

	t.Run("ics", func(t *testing.T) {
		res := anon.do(t, "GET", "/o/liberec/uredni-deska.ics", "", "")
		if res.Code != 200 || res.Header().Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Fatalf("iCalendar: %d %v", res.Code, res.Header())
		}
		noLeak(t, res.Body.String())
		props := parseICS(t, res.Body.String())
		if props[0] != (icsProperty{"BEGIN", "VCALENDAR"}) || props[len(props)-1] != (icsProperty{"END", "VCALENDAR"}) {
			t.Fatalf("not a VCALENDAR: %v … %v", props[0], props[len(props)-1])
		}
		head := map[string]string{}
		var events []map[string]string
		var ev map[string]string
		for _, p := range props[1 : len(props)-1] {
			switch {
			case p == icsProperty{"BEGIN", "VEVENT"}:
				ev = map[string]string{}
			case p == icsProperty{"END", "VEVENT"}:
				events = append(events, ev)
				ev = nil
			case ev != nil:
				ev[p.name] = p.value
			default:
				head[p.name] = p.value
			}
		}
		if head["VERSION"] != "2.0" || head["PRODID"] == "" || !strings.Contains(icsUnescape(head["X-WR-CALNAME"]), "Úřední deska") {
			t.Errorf("calendar properties: %v", head)
		}
		if len(events) != 2 {
			t.Fatalf("%d events, want 2", len(events))
		}
		var e, o map[string]string
		for _, x := range events {
			switch icsUnescape(x["SUMMARY"]) {
			case title:
				e = x
			case "Svoz odpadu":
				o = x
			}
		}
		if e == nil || o == nil {
			t.Fatalf("events: %v", events)
		}
		// The escaping itself, not only its round trip.
		if !strings.Contains(e["SUMMARY"], `vyhláška\, kterou`) || !strings.Contains(e["SUMMARY"], `povahy\; změna`) ||
			!strings.Contains(e["SUMMARY"], `Ruprechtice\\Horní`) {
			t.Errorf("SUMMARY escaping: %q", e["SUMMARY"])
		}
		desc := icsUnescape(e["DESCRIPTION"])
		if !strings.Contains(e["DESCRIPTION"], `\n\n`) || !strings.Contains(desc, body) || strings.Contains(e["DESCRIPTION"], "\n") {
			t.Errorf("DESCRIPTION: %q", e["DESCRIPTION"])
		}
		stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
		if e["UID"] != full.ID.String()+"-r1@epom.test" || e["DTSTART"] != stamp(*full.PostedAt) ||
			e["DTEND"] != stamp(*full.RelevantUntil) || e["URL"] != board+"/"+full.ID.String() || icsUnescape(e["CATEGORIES"]) != "Územní plán" {
			t.Errorf("event: %v", e)
		}
		if _, err := time.Parse("20060102T150405Z", e["DTSTAMP"]); err != nil {
			t.Errorf("DTSTAMP: %v", err)
		}
		if _, ok := o["DTEND"]; ok || o["DTSTART"] != stamp(*open.PostedAt) {
			t.Errorf("open-ended event: %v", o)
		}

		// An edit is a new revision, and so a new event identity.
		if _, err := w.svc.Update(w.ctxA, clerk, open.ID, noticeboard.Draft{Title: "Svoz odpadu – nový termín",
			Category: "ostatni", Note: "Nový termín"}); err != nil {
			t.Fatal(err)
		}
		res = anon.do(t, "GET", "/o/liberec/uredni-deska.ics", "", "")
		if s := strings.ReplaceAll(res.Body.String(), "\r\n ", ""); !strings.Contains(s, "UID:"+open.ID.String()+"-r2@") ||
			strings.Contains(s, "UID:"+open.ID.String()+"-r1@") || !strings.Contains(s, "UID:"+full.ID.String()+"-r1@") {
			t.Errorf("after the edit:\n%s", s)
		}
	})

	t.Run("other tenant", func(t *testing.T) {
		for _, path := range []string{"/o/kunzak/uredni-deska.rss", "/o/kunzak/uredni-deska.ics"} {
			res := anon.do(t, "GET", path, "", "")
			if s := res.Body.String(); res.Code != 200 || !strings.Contains(s, "OTHER-TENANT-MARKER") || strings.Contains(s, "Svoz odpadu") {
				t.Errorf("%s: %d\n%s", path, res.Code, s)
			}
		}
	})

	t.Run("links", func(t *testing.T) {
		// html/template writes the + of a media type as &#43;, which means the same.
		page := html.UnescapeString(anon.do(t, "GET", "/o/liberec/uredni-deska", "", "").Body.String())
		for _, want := range []string{
			`<link rel="alternate" type="application/rss+xml" href="/o/liberec/uredni-deska.rss"`,
			`<link rel="alternate" type="text/calendar" href="/o/liberec/uredni-deska.ics"`,
			`<a href="/o/liberec/uredni-deska.rss" type="application/rss+xml">`,
			`<a href="/o/liberec/uredni-deska.ics" type="text/calendar">`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the board page lacks %s", want)
			}
		}
	})
}
