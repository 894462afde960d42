package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"regexp"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// Languages the templates exist in; Czech first, it is the default.
var Languages = []string{"cs", "en"}

// Common is what every template shows: embed it in the template's data.
type Common struct {
	Municipality string // the municipality's display name, shown in the header and footer
	Lang         string // set by Render
	Subject      string // set by Render, for the HTML title
}

// Base gives Render access to the common part of any template data.
func (c *Common) Base() *Common { return c }

// Data is template data: a pointer to a struct that embeds Common.
type Data interface{ Base() *Common }

// Notification is the generic "something happened" message modules reuse: a title, a few
// paragraphs, an optional button.
type Notification struct {
	Common
	Title       string
	Greeting    string // default "Dobrý den," / "Hello,"
	Paragraphs  []string
	ActionURL   string // http(s) only; anything else is neutralised by html/template
	ActionLabel string // default "Podrobnosti" / "Details"
	Note        string // small print, e.g. why the recipient gets this message
}

// Invitation asks someone to join a municipality's portal (staff invitation, welcome).
type Invitation struct {
	Common
	InviterName string
	Role        string // the role's display name in the message's language
	// Roles are the display names when there are several (Role is then empty): the Czech
	// sentence changes with the number ("s rolí" / "s rolemi").
	Roles     []string
	AcceptURL string
	ExpiresAt time.Time
}

// MFAReset tells an account holder that an administrator turned off their two-factor sign-in:
// who did it, why, and what to do next.
type MFAReset struct {
	Common
	Email string // the account
	// ResetBy is who reset it: the tenant admin's name, or the platform's operator.
	ResetBy string
	// Organisation is the municipality whose admin reset it; empty for the platform operator.
	Organisation string
	Reason       string
	SignInURL    string
}

// Validate refuses a message without a reason or with an unusable sign-in link.
func (m *MFAReset) Validate() error {
	if strings.TrimSpace(m.Reason) == "" || m.ResetBy == "" {
		return errors.New("two-factor reset without a reason or an author")
	}
	return checkURL(m.SignInURL)
}

// Validate refuses links a mail client should not be handed.
func (n *Notification) Validate() error {
	if n.Title == "" {
		return errors.New("notification without a title")
	}
	if n.ActionURL != "" {
		return checkURL(n.ActionURL)
	}
	return nil
}

// Validate refuses an invitation without a usable link.
func (i *Invitation) Validate() error { return checkURL(i.AcceptURL) }

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("link %q is not an http(s) URL", raw)
	}
	return nil
}

// Rendered is a message's subject and bodies.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// Templates are the embedded e-mail templates, parsed once.
type Templates struct {
	text  map[string]*texttemplate.Template // "notification.cs"
	html  map[string]*htmltemplate.Template
	names []string
}

var footers = map[string]string{
	"cs": "Tuto zprávu odeslal automaticky portál epom jménem: %s.",
	"en": "This message was sent automatically by the epom portal on behalf of %s.",
}

func tr(lang, key string, args ...any) string {
	if key == "footer" {
		f, ok := footers[lang]
		if !ok {
			f = footers["cs"]
		}
		return fmt.Sprintf(f, args...)
	}
	return key
}

// date formats t in Prague time the way each language writes dates.
func date(loc *time.Location) func(lang string, t time.Time) string {
	return func(lang string, t time.Time) string {
		t = t.In(loc)
		if lang == "en" {
			return t.Format("2 January 2006, 15:04")
		}
		return t.Format("2. 1. 2006 v 15:04")
	}
}

var templateName = regexp.MustCompile(`^([a-z]+)\.(cs|en)\.(txt|html)\.tmpl$`)

// LoadTemplates parses the embedded templates; every template exists in every language,
// as text and HTML, or loading fails.
func LoadTemplates() (*Templates, error) {
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		loc = time.UTC
	}
	funcs := map[string]any{"tr": tr, "date": date(loc), "join": strings.Join}
	layoutText, err := texttemplate.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	layoutHTML, err := htmltemplate.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	files, err := fs.Glob(templateFiles, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	seen := map[string]bool{}
	for _, f := range files {
		base := f[len("templates/"):]
		m := templateName.FindStringSubmatch(base)
		if m == nil {
			if !strings.HasPrefix(base, "layout.") {
				return nil, fmt.Errorf("mail templates: unexpected file %s", base)
			}
			continue
		}
		key := m[1] + "." + m[2]
		seen[m[1]] = true
		if m[3] == "txt" {
			c, err := layoutText.Clone()
			if err != nil {
				return nil, err
			}
			if t.text[key], err = c.ParseFS(templateFiles, f); err != nil {
				return nil, fmt.Errorf("mail template %s: %w", base, err)
			}
		} else {
			c, err := layoutHTML.Clone()
			if err != nil {
				return nil, err
			}
			if t.html[key], err = c.ParseFS(templateFiles, f); err != nil {
				return nil, fmt.Errorf("mail template %s: %w", base, err)
			}
		}
	}
	for name := range seen {
		for _, lang := range Languages {
			key := name + "." + lang
			if t.text[key] == nil || t.html[key] == nil {
				return nil, fmt.Errorf("mail template %s: missing text or HTML in %s", name, lang)
			}
		}
		t.names = append(t.names, name)
	}
	sort.Strings(t.names)
	return t, nil
}

// Names lists the templates.
func (t *Templates) Names() []string { return t.names }

// Render renders template name in lang ("" means Czech) with data.
func (t *Templates) Render(name, lang string, data Data) (Rendered, error) {
	if lang == "" {
		lang = "cs"
	}
	key := name + "." + lang
	tt, ok := t.text[key]
	if !ok {
		return Rendered{}, fmt.Errorf("%w: no template %s in %q", ErrPermanent, name, lang)
	}
	if v, ok := data.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return Rendered{}, fmt.Errorf("%w: %s: %w", ErrPermanent, name, err)
		}
	}
	base := data.Base()
	base.Lang = lang
	var sb bytes.Buffer
	if err := tt.ExecuteTemplate(&sb, "subject", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", key, err)
	}
	// A subject is one line, whatever the data held.
	base.Subject = strings.Join(strings.Fields(sb.String()), " ")
	var r Rendered
	r.Subject = base.Subject
	sb.Reset()
	if err := tt.ExecuteTemplate(&sb, "layout.txt.tmpl", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s text: %w", key, err)
	}
	r.Text = tidyText(sb.String())
	sb.Reset()
	if err := t.html[key].ExecuteTemplate(&sb, "layout.html.tmpl", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s HTML: %w", key, err)
	}
	r.HTML = sb.String()
	return r, nil
}

var blankRuns = regexp.MustCompile(`\n{3,}`)

// tidyText collapses the blank lines that template conditionals leave behind.
func tidyText(s string) string {
	return strings.TrimSpace(blankRuns.ReplaceAllString(s, "\n\n")) + "\n"
}
