package noticeboard

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/epom-cz/epom/modules"
)

// The public pages of subscriptions: /o/{slug}/uredni-deska/odber (the form),
// …/odber/potvrdit?token= (confirm by a button: a link scanner's GET confirms nothing) and
// …/odber/zrusit?token= (one-click unsubscribe; also the RFC 8058 List-Unsubscribe-Post
// target). The form is cookieless; a POST must carry a form token this board signed and, when
// the browser sends an Origin, come from this host.

var subscriptionWords = map[string][2]string{
	"subscribe":     {"Odběr úřední desky", "Subscribe to the notice board"},
	"subLead":       {"Pošleme vám e-mail, kdykoli bude vyvěšeno nové oznámení. Odběr kdykoli zrušíte odkazem v každém e-mailu.", "We will e-mail you whenever a new notice is posted. Every e-mail has a link to unsubscribe."},
	"subLink":       {"Odebírat e-mailem", "Subscribe by e-mail"},
	"email":         {"E-mailová adresa", "E-mail address"},
	"cats":          {"Kategorie (nevyberete-li žádnou, dostanete všechna oznámení)", "Categories (choose none to receive every notice)"},
	"honeypot":      {"Toto pole nevyplňujte", "Leave this field empty"},
	"subButton":     {"Přihlásit k odběru", "Subscribe"},
	"checkMail":     {"Zkontrolujte svou e-mailovou schránku", "Check your mailbox"},
	"checkMailText": {"Pokud adresa platí, poslali jsme na ni odkaz k potvrzení odběru. Odběr začne, až jej potvrdíte.", "If the address is valid, we have sent it a link to confirm the subscription. It starts once you confirm."},
	"subscribed":    {"Odběr je aktivní", "You are subscribed"},
	"subscribedTxt": {"Nová oznámení vám budeme posílat na adresu svého účtu.", "We will send new notices to your account's address."},
	"confirmT":      {"Potvrzení odběru", "Confirm the subscription"},
	"confirmText":   {"Potvrďte prosím, že chcete dostávat e-mailem oznámení z úřední desky.", "Please confirm that you want to receive the notice board's notices by e-mail."},
	"confirmButton": {"Potvrdit odběr", "Confirm"},
	"confirmedT":    {"Odběr je potvrzen", "Subscription confirmed"},
	"confirmedText": {"Děkujeme. Nová oznámení vám budeme posílat e-mailem.", "Thank you. We will e-mail you new notices."},
	"badLink":       {"Odkaz neplatí", "The link is not valid"},
	"badLinkText":   {"Odkaz je neplatný, vypršel, nebo už byl použit. Můžete se k odběru přihlásit znovu.", "The link is invalid, has expired or was already used. You can subscribe again."},
	"unsubT":        {"Zrušení odběru", "Unsubscribe"},
	"unsubText":     {"Opravdu už nechcete dostávat oznámení z úřední desky e-mailem?", "Do you really want to stop receiving the notice board's notices by e-mail?"},
	"unsubButton":   {"Zrušit odběr", "Unsubscribe"},
	"unsubDoneT":    {"Odběr je zrušen", "You are unsubscribed"},
	"unsubDoneText": {"Další e-maily z úřední desky vám už nepošleme.", "We will not send you any more e-mails from the notice board."},
	"formError":     {"Formulář se nepodařilo odeslat", "The form could not be sent"},
	"formExpired":   {"Formulář vypršel nebo nepochází z této stránky. Odešlete jej prosím znovu.", "The form has expired or does not come from this page. Please send it again."},
	"unavailable":   {"Odběr teď není k dispozici.", "Subscriptions are not available now."},
	// The answer over the rate limit
	"tooManyT":    {"Příliš mnoho pokusů", "Too many attempts"},
	"tooManyText": {"Z vaší adresy přišlo v poslední hodině příliš mnoho přihlášek k odběru. Zkuste to prosím znovu později.", "Your address has sent too many subscriptions in the last hour. Please try again later."},
}

type subscriptionView struct {
	boardView
	S          map[string]string
	Heading    string
	Text       string
	Email      string
	EmailError string
	FormError  string
	FormToken  string
	Token      string
	Action     string // the button's form action
	Button     string
	Form       bool // show the subscription form
	Choices    []categoryOption
}

func (m *Module) subscriptionView(r *http.Request, p modules.PublicRequest) subscriptionView {
	v := subscriptionView{boardView: m.newView(r, p), S: map[string]string{}}
	i := 0
	if p.Lang == "en" {
		i = 1
	}
	for k, w := range subscriptionWords {
		v.S[k] = w[i]
	}
	return v
}

// serveSubscription routes …/odber[/potvrdit|/zrusit].
func (m *Module) serveSubscription(w http.ResponseWriter, r *http.Request, p modules.PublicRequest, rest []string) {
	w.Header().Set("Cache-Control", "no-store")
	// The tokens are in the URL: no referrer leaves the site (no-referrer would also make the
	// browser send "Origin: null" with the form, which sameOrigin refuses).
	w.Header().Set("Referrer-Policy", "same-origin")
	switch {
	case len(rest) == 0:
		m.serveSubscribe(w, r, p)
	case len(rest) == 1 && rest[0] == "potvrdit":
		m.serveConfirm(w, r, p)
	case len(rest) == 1 && rest[0] == "zrusit":
		m.serveUnsubscribe(w, r, p)
	default:
		p.NotFound()
	}
}

// sameOrigin refuses a cross-site POST where the browser says where it comes from; the
// signed form token covers the rest.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (m *Module) serveSubscribe(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) {
	v := m.subscriptionView(r, p)
	v.Heading, v.Form = v.S["subscribe"], true
	v.Action = v.Base + "/odber" + v.LangQ
	title := v.Heading + " – " + p.Profile.DisplayName
	chosen := map[string]bool{}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		if ok, wait := m.subLimit.allow(p.Ctx, p.ClientIP, m.svc.now()); !ok {
			m.serveTooMany(w, v, p, wait)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		for _, c := range r.PostForm["kategorie"] {
			chosen[c] = true
		}
		v.Email = strings.TrimSpace(r.PostForm.Get("email"))
		switch {
		case !sameOrigin(r) || !m.svc.formTokenValid(p.Ctx, r.PostForm.Get("form")):
			status, v.FormError = http.StatusForbidden, v.S["formExpired"]
		case r.PostForm.Get("web") != "":
			// The honeypot is filled: a robot. It gets the page a person would, nothing else.
			v.Form, v.Heading, v.Text = false, v.S["checkMail"], v.S["checkMailText"]
		default:
			who := Subscriber{Email: v.Email, IP: p.ClientIP}
			if p.Viewer != nil {
				if vw, ok := p.Viewer(); ok && strings.EqualFold(vw.Email, v.Email) {
					who.UserID, who.Verified = vw.UserID, vw.EmailVerified
				}
			}
			res, err := m.svc.Subscribe(p.Ctx, who, r.PostForm["kategorie"], p.Lang)
			var inv *modules.InvalidError
			switch {
			case errors.As(err, &inv):
				status = http.StatusUnprocessableEntity
				for _, f := range inv.Fields {
					msg := f.CS
					if p.Lang == "en" {
						msg = f.EN
					}
					if f.Field == "email" {
						v.EmailError = msg
					} else {
						v.FormError = msg
					}
				}
			case errors.Is(err, modules.ErrConflict):
				status, v.FormError = http.StatusServiceUnavailable, v.S["unavailable"]
			case err != nil:
				http.Error(w, "notice board unavailable", http.StatusInternalServerError)
				return
			case res.Confirmed:
				v.Form, v.Heading, v.Text = false, v.S["subscribed"], v.S["subscribedTxt"]
			default:
				v.Form, v.Heading, v.Text = false, v.S["checkMail"], v.S["checkMailText"]
			}
		}
		if v.FormError != "" || v.EmailError != "" {
			title = v.S["formError"] + " – " + title
		}
	} else if p.Viewer != nil {
		if vw, ok := p.Viewer(); ok {
			v.Email = vw.Email
		}
	}
	for _, c := range Categories() {
		v.Choices = append(v.Choices, categoryOption{Code: c.Code, Name: categoryName(c.Code, p.Lang), Selected: chosen[c.Code]})
	}
	v.FormToken = m.svc.formToken(p.Ctx, m.svc.now())
	m.renderSubscription(w, v, p, status, title)
}

func (m *Module) renderSubscription(w http.ResponseWriter, v subscriptionView, p modules.PublicRequest, status int, title string) {
	var buf bytes.Buffer
	if err := m.pages.ExecuteTemplate(&buf, "subscription", v); err != nil {
		http.Error(w, "notice board unavailable", http.StatusInternalServerError)
		return
	}
	// The template escaped every value; its output is trusted HTML.
	p.Page(status, title, template.HTML(buf.String()))
}

func (m *Module) serveConfirm(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) {
	v := m.subscriptionView(r, p)
	token := r.URL.Query().Get("token")
	v.Token = token
	status := http.StatusOK
	if r.Method == http.MethodPost {
		_, err := m.svc.Confirm(p.Ctx, token, p.ClientIP)
		switch {
		case errors.Is(err, modules.ErrNotFound):
			status, v.Heading, v.Text = http.StatusNotFound, v.S["badLink"], v.S["badLinkText"]
		case err != nil:
			http.Error(w, "notice board unavailable", http.StatusInternalServerError)
			return
		default:
			v.Heading, v.Text = v.S["confirmedT"], v.S["confirmedText"]
		}
	} else {
		ok, err := m.svc.ConfirmationValid(p.Ctx, token)
		if err != nil {
			http.Error(w, "notice board unavailable", http.StatusInternalServerError)
			return
		}
		if ok {
			v.Heading, v.Text, v.Button = v.S["confirmT"], v.S["confirmText"], v.S["confirmButton"]
			v.Action = v.Base + "/odber/potvrdit?" + tokenQuery(token, p.Lang)
		} else {
			status, v.Heading, v.Text = http.StatusNotFound, v.S["badLink"], v.S["badLinkText"]
		}
	}
	m.renderSubscription(w, v, p, status, v.Heading+" – "+p.Profile.DisplayName)
}

func (m *Module) serveUnsubscribe(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) {
	v := m.subscriptionView(r, p)
	token := r.URL.Query().Get("token")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		// One click: the button here, or a mail client's RFC 8058 POST
		// (List-Unsubscribe=One-Click); the token alone authorises it.
		err := m.svc.Unsubscribe(p.Ctx, token, p.ClientIP)
		switch {
		case errors.Is(err, modules.ErrNotFound):
			status, v.Heading, v.Text = http.StatusNotFound, v.S["badLink"], v.S["badLinkText"]
		case err != nil:
			http.Error(w, "notice board unavailable", http.StatusInternalServerError)
			return
		default:
			v.Heading, v.Text = v.S["unsubDoneT"], v.S["unsubDoneText"]
		}
	} else if m.svc.UnsubscribeValid(p.Ctx, token) {
		v.Heading, v.Text, v.Button = v.S["unsubT"], v.S["unsubText"], v.S["unsubButton"]
		v.Action = v.Base + "/odber/zrusit?" + tokenQuery(token, p.Lang)
	} else {
		status, v.Heading, v.Text = http.StatusNotFound, v.S["badLink"], v.S["badLinkText"]
	}
	m.renderSubscription(w, v, p, status, v.Heading+" – "+p.Profile.DisplayName)
}

func tokenQuery(token, lang string) string {
	q := url.Values{"token": {token}}
	if lang == "en" {
		q.Set("lang", "en")
	}
	return q.Encode()
}
