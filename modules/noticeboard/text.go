package noticeboard

import (
	"strings"

	"golang.org/x/net/html"
)

// plainText turns what a clerk typed or pasted into plain text: markup is dropped (the text
// of elements is kept, the content of script and style is not), so nothing stored can ever be
// interpreted as HTML, whatever renders it later. Line structure of paragraphs and line
// breaks survives.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.TrimSpace(normalizeLines(s))
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(normalizeLines(b.String()))
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "iframe", "object", "noscript", "template":
				skip++
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "iframe", "object", "noscript", "template":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li":
				b.WriteByte('\n')
			}
		}
	}
}

// normalizeLines unifies line ends, trims trailing spaces and keeps at most one empty line
// between paragraphs.
func normalizeLines(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	empty := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			empty++
			if empty > 1 {
				continue
			}
		} else {
			empty = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// singleLine is plainText for one-line fields (title, reference numbers).
func singleLine(s string) string {
	return strings.Join(strings.Fields(plainText(s)), " ")
}
