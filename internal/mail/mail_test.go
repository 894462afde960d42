package mail_test

import (
	"context"
	"errors"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/internal/mail/mailtest"
)

func TestTemplatesRenderInEveryLanguage(t *testing.T) {
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tpl.Names(), ","); got != "invitation,mfareset,notification" {
		t.Fatalf("templates %s", got)
	}
	expires := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC) // 12:00 in Prague (CEST)
	cases := []struct {
		name, lang string
		data       mail.Data
		want       []string // in text and HTML
		wantText   []string
	}{
		{"notification", "cs", &mail.Notification{
			Common: mail.Common{Municipality: "Obec Kunžak"}, Title: "Nová úřední deska",
			Paragraphs: []string{"Byl zveřejněn dokument <Rozpočet 2026> & příloha."},
			ActionURL:  "https://kunzak.epom.test/o/kunzak/uredni-deska", ActionLabel: "Zobrazit",
		}, []string{"Nová úřední deska", "Dobrý den,", "Obec Kunžak", "portál epom jménem"},
			[]string{"Byl zveřejněn dokument <Rozpočet 2026> & příloha.", "Zobrazit: https://kunzak.epom.test/o/kunzak/uredni-deska"}},
		{"notification", "en", &mail.Notification{
			Common: mail.Common{Municipality: "Liberec"}, Title: "New notice", Paragraphs: []string{"A document was published."},
		}, []string{"New notice", "Hello,", "on behalf of Liberec"}, nil},
		{"invitation", "cs", &mail.Invitation{
			Common: mail.Common{Municipality: "Obec Kunžak"}, InviterName: "Jana Nováková", Role: "referent",
			AcceptURL: "https://epom.test/pozvanka/abc", ExpiresAt: expires,
		}, []string{"Pozvánka do portálu – Obec Kunžak", "Jana Nováková vás zve ke spolupráci v portálu epom (Obec Kunžak)", "s rolí", "4. 5. 2026 v 12:00"},
			[]string{"https://epom.test/pozvanka/abc"}},
		{"invitation", "en", &mail.Invitation{
			Common: mail.Common{Municipality: "Liberec"}, AcceptURL: "https://epom.test/invite/abc", ExpiresAt: expires,
		}, []string{"Invitation to the portal – Liberec", "You have been invited", "4 May 2026, 12:00"}, nil},
		{"invitation", "cs", &mail.Invitation{
			Common: mail.Common{Municipality: "Liberec"}, Roles: []string{"Správce obce", "Úředník"},
			AcceptURL: "https://epom.test/app/pozvanka?token=abc",
		}, []string{"s rolemi", "Správce obce, Úředník"}, nil},
		{"mfareset", "cs", &mail.MFAReset{Common: mail.Common{Municipality: "epom"}, Email: "jana@test.cz", ResetBy: "Petr Správce", Organisation: "Liberec",
			Reason: "Ztracený telefon <a>", SignInURL: "https://epom.test/app/prihlaseni"},
			[]string{"Dvoufázové ověření vašeho účtu bylo zrušeno", "Petr Správce (Liberec)", "Ztracený telefon", "neprodleně se obraťte na úřad (Liberec)"},
			[]string{"Přihlásit se: https://epom.test/app/prihlaseni", "Uvedený důvod: Ztracený telefon <a>"}},
		{"mfareset", "en", &mail.MFAReset{Email: "jana@test.cz", ResetBy: "the operator of the epom platform",
			Reason: "Lost phone", SignInURL: "https://epom.test/app/prihlaseni"},
			[]string{"Two-factor sign-in of your account was reset", "Reason given: Lost phone", "the operator of the epom portal"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name+"."+c.lang, func(t *testing.T) {
			r, err := tpl.Render(c.name, c.lang, c.data)
			if err != nil {
				t.Fatal(err)
			}
			all := r.Subject + "\n" + r.Text
			for _, w := range c.want {
				if !strings.Contains(all, w) && !strings.Contains(r.HTML, w) {
					t.Errorf("%q missing from subject/text:\n%s", w, all)
				}
			}
			for _, w := range c.wantText {
				if !strings.Contains(r.Text, w) {
					t.Errorf("%q missing from text:\n%s", w, r.Text)
				}
			}
			if strings.Contains(r.Text, "<p") || strings.Contains(r.Text, "\n\n\n") {
				t.Errorf("text part is not clean text:\n%q", r.Text)
			}
			if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") || !strings.Contains(r.HTML, `<html lang="`+c.lang+`">`) {
				t.Errorf("HTML part lacks doctype or lang:\n%s", r.HTML[:min(200, len(r.HTML))])
			}
			if strings.Contains(r.HTML, "<Rozpočet") {
				t.Error("HTML part does not escape data")
			}
		})
	}
	// A javascript: link is refused, not rendered.
	if _, err := tpl.Render("notification", "cs", &mail.Notification{Common: mail.Common{Municipality: "X"}, Title: "T",
		ActionURL: "javascript:alert(1)"}); !mail.IsPermanent(err) {
		t.Errorf("javascript: URL: %v", err)
	}
	if _, err := tpl.Render("mfareset", "cs", &mail.MFAReset{ResetBy: "X", SignInURL: "https://epom.test/"}); !mail.IsPermanent(err) {
		t.Errorf("reset without a reason: %v", err)
	}
	if _, err := tpl.Render("notification", "de", &mail.Notification{}); !mail.IsPermanent(err) {
		t.Errorf("unknown language: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	c, err := mail.ParseURL("smtp://user%40x:p%40ss@mail.example.cz:2525?tls=opportunistic&bounce=bounce@epom.cz")
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "mail.example.cz" || c.Port != 2525 || c.Username != "user@x" || c.Password != "p@ss" ||
		c.TLS != mail.TLSOpportunistic || c.BounceAddress != "bounce@epom.cz" {
		t.Errorf("%+v", c)
	}
	c, err = mail.ParseURL("smtps://relay.example.cz")
	if err != nil || c.TLS != mail.TLSImplicit || c.Port != 0 {
		t.Errorf("%+v %v", c, err)
	}
	for _, bad := range []string{"http://x", "smtp://", "smtp://x:99999", "smtp://x?tls=maybe"} {
		if _, err := mail.ParseURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	name, addr, err := mail.ParseSender("epom <noreply@epom.localhost>")
	if err != nil || name != "epom" || addr != "noreply@epom.localhost" {
		t.Errorf("%q %q %v", name, addr, err)
	}
}

func newSender(t *testing.T, srv *mailtest.Server) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(mail.Config{
		Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, FromAddress: "noreply@epom.test",
		BounceAddress: "bounces@epom.test", Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSendThroughSMTP sends through a real SMTP server and checks what arrives.
func TestSendThroughSMTP(t *testing.T) {
	srv := mailtest.Start(t)
	s := newSender(t, srv)
	id, err := s.Send(context.Background(), mail.Message{
		ID: "0196a1b2-0000-7000-8000-000000000001", To: "jan.novak@example.cz", ToName: "Jan Novák",
		FromName: "Obec Kunžak", ReplyTo: "podatelna@kunzak.cz", Subject: "Nová úřední deska",
		Text: "Dobrý den,\nžluťoučký kůň.\n", HTML: "<p>Dobrý den, <b>žluťoučký</b> kůň.</p>", Lang: "cs",
		ListUnsubscribe: "https://epom.test/odhlasit/abc",
	})
	if err != nil {
		t.Fatal(err)
	}
	if id != "0196a1b2-0000-7000-8000-000000000001@epom.test" {
		t.Errorf("message id %s", id)
	}
	m := srv.Wait(t, 1, 5*time.Second)[0]
	if m.From != "bounces@epom.test" {
		t.Errorf("envelope sender %q, want the bounce address", m.From)
	}
	if len(m.To) != 1 || m.To[0] != "jan.novak@example.cz" {
		t.Errorf("envelope recipients %v", m.To)
	}
	for h, want := range map[string]string{
		"Reply-To":                 "<podatelna@kunzak.cz>",
		"Subject":                  "Nová úřední deska",
		"Message-Id":               "<" + id + ">",
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "OOF, AutoReply",
		"List-Unsubscribe":         "<https://epom.test/odhlasit/abc>",
		"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
		"Content-Language":         "cs",
	} {
		if got := m.Header(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	for h, want := range map[string]netmail.Address{
		"From": {Name: "Obec Kunžak", Address: "noreply@epom.test"},
		"To":   {Name: "Jan Novák", Address: "jan.novak@example.cz"},
	} {
		a, err := netmail.ParseAddress(m.Msg.Header.Get(h))
		if err != nil || *a != want {
			t.Errorf("%s: %v %v, want %v", h, a, err, want)
		}
	}
	if m.Header("Date") == "" {
		t.Error("no Date")
	}
	text, html, err := m.Bodies()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "žluťoučký kůň") || !strings.Contains(html, "<b>žluťoučký</b>") {
		t.Errorf("bodies:\n%s\n%s", text, html)
	}
}

func TestSendFailures(t *testing.T) {
	srv := mailtest.Start(t)
	tempFail := true
	srv.Reject = func(rcpt string) error {
		switch {
		case strings.HasPrefix(rcpt, "nobody@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case strings.HasPrefix(rcpt, "busy@") && tempFail:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}
	s := newSender(t, srv)
	msg := mail.Message{ID: "x1", Subject: "S", Text: "T"}
	msg.To = "nobody@example.cz"
	if _, err := s.Send(context.Background(), msg); !mail.IsPermanent(err) {
		t.Errorf("550: %v, want permanent", err)
	}
	msg.To = "busy@example.cz"
	if _, err := s.Send(context.Background(), msg); err == nil || mail.IsPermanent(err) {
		t.Errorf("451: %v, want temporary", err)
	}
	tempFail = false
	if _, err := s.Send(context.Background(), msg); err != nil {
		t.Errorf("after 451: %v", err)
	}
	if _, err := s.Send(context.Background(), mail.Message{ID: "x", To: "a@b.cz", Subject: "S"}); !mail.IsPermanent(err) {
		t.Errorf("no text: %v", err)
	}
	down, _ := mail.NewSMTP(mail.Config{Host: "127.0.0.1", Port: 1, TLS: mail.TLSNone, FromAddress: "noreply@epom.test",
		Timeout: time.Second})
	if _, err := down.Send(context.Background(), mail.Message{ID: "x", To: "a@b.cz", Subject: "S", Text: "T"}); err == nil || mail.IsPermanent(err) {
		t.Errorf("server down: %v, want temporary", err)
	}
	if _, err := (mail.LogOnly{MessageIDDomain: "epom.test"}).Send(context.Background(), msg); !errors.Is(err, mail.ErrDisabled) {
		t.Errorf("log only: %v", err)
	}
}
