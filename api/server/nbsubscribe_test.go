package server_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/epom-cz/epom/tenants"
)

// TestSignedInCitizenSubscribesThroughThePublicForm drives the notice board's subscription
// form over HTTP with a session cookie: the form offers the account's address, a verified
// citizen who keeps it is subscribed at once (no confirmation mail), and one who types
// another address is sent to that mailbox first. Without a session the same address needs
// the mailbox too: the cookie, not the typed address, is what vouches for it.
func TestSignedInCitizenSubscribesThroughThePublicForm(t *testing.T) {
	f := newFixture(t)
	citizen := f.signIn(t, "citizen@test.cz")
	const page = "/o/liberec/uredni-deska/odber"
	formToken := regexp.MustCompile(`name="form" value="([^"]+)"`)
	emailValue := regexp.MustCompile(`id="email" name="email"[^>]*value="([^"]*)"`)

	subscribe := func(t *testing.T, sess *session, address string) (int, string) {
		t.Helper()
		w := f.do(t, request{method: "GET", path: page, sess: sess})
		if w.Code != 200 {
			t.Fatalf("form: %d", w.Code)
		}
		tok := formToken.FindStringSubmatch(w.Body.String())
		if tok == nil {
			t.Fatalf("no form token in:\n%s", w.Body)
		}
		form := url.Values{"email": {address}, "form": {tok[1]}, "kategorie": {"volby"}}
		w = f.do(t, request{method: "POST", path: page, sess: sess, body: form.Encode(),
			contentType: "application/x-www-form-urlencoded", noCSRF: true})
		return w.Code, w.Body.String()
	}
	ctxA := tenants.WithTenant(context.Background(), f.a.Tenant)
	// inA reads under tenant A's row-level security, as the app does.
	inA := func(t *testing.T, sql string, dest any, args ...any) {
		t.Helper()
		if err := f.env.DB.InTx(ctxA, func(ctx context.Context) error {
			return tenants.DB(ctx).Raw(sql, args...).Scan(dest).Error
		}); err != nil {
			t.Fatal(err)
		}
	}
	subscription := func(t *testing.T, address string) (confirmed, linked, found bool) {
		t.Helper()
		var rows []struct{ Confirmed, Linked bool }
		inA(t, `SELECT confirmed_at IS NOT NULL AS confirmed, user_id IS NOT NULL AS linked
			FROM noticeboard_subscriptions WHERE email = ?`, &rows, address)
		if len(rows) == 0 {
			return false, false, false
		}
		return rows[0].Confirmed, rows[0].Linked, true
	}
	confirmationMails := func(t *testing.T, address string) int {
		t.Helper()
		var n int
		inA(t, `SELECT count(*) FROM mail_log WHERE to_address = ? AND ref = 'noticeboard.subscription'`, &n, address)
		return n
	}

	w := f.do(t, request{method: "GET", path: page, sess: citizen})
	if m := emailValue.FindStringSubmatch(w.Body.String()); m == nil || m[1] != "citizen@test.cz" {
		t.Fatalf("the form does not offer the account's address: %v", m)
	}

	code, body := subscribe(t, citizen, "citizen@test.cz")
	if code != 200 || !strings.Contains(body, "Odběr je aktivní") {
		t.Fatalf("signed-in subscription: %d\n%s", code, body)
	}
	if confirmed, linked, ok := subscription(t, "citizen@test.cz"); !ok || !confirmed || !linked {
		t.Fatalf("subscription of the account's address: found %v confirmed %v linked to the account %v", ok, confirmed, linked)
	}
	if n := confirmationMails(t, "citizen@test.cz"); n != 0 {
		t.Errorf("%d confirmation mails for a verified account", n)
	}

	code, body = subscribe(t, citizen, "jina.adresa@test.cz")
	if code != 200 || !strings.Contains(body, "Zkontrolujte svou e-mailovou schránku") {
		t.Fatalf("another address: %d\n%s", code, body)
	}
	if confirmed, _, ok := subscription(t, "jina.adresa@test.cz"); !ok || confirmed {
		t.Fatalf("another address is active without its mailbox (found %v confirmed %v)", ok, confirmed)
	}
	if n := confirmationMails(t, "jina.adresa@test.cz"); n != 1 {
		t.Errorf("%d confirmation mails for another address, want 1", n)
	}

	// Anonymous, typing a registered citizen's address: the mailbox decides.
	if _, err := f.identity.CreateUser(context.Background(), "druhy@test.cz", "Druhý", password); err != nil {
		t.Fatal(err)
	}
	code, body = subscribe(t, nil, "druhy@test.cz")
	if code != 200 || !strings.Contains(body, "Zkontrolujte svou e-mailovou schránku") {
		t.Fatalf("anonymous: %d\n%s", code, body)
	}
	if confirmed, linked, ok := subscription(t, "druhy@test.cz"); !ok || confirmed || linked {
		t.Fatalf("anonymous subscription of an account's address: found %v confirmed %v linked %v", ok, confirmed, linked)
	}
}
