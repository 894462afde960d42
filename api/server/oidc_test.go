package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/frontend"
	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/internal/metrics"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/catalogue"
	"github.com/epom-cz/epom/tenants/identity/oidc"
	"github.com/epom-cz/epom/tenants/identity/oidc/oidctest"
	"github.com/prometheus/client_golang/prometheus"
)

// oidcFixture is the server fixture with one external identity provider, "test", started in
// the test: a real OpenID Connect provider over HTTP with its own signing key.
type oidcFixture struct {
	*fixture
	idp *oidctest.Provider
	srv *server.Server
}

func newOIDCFixture(t *testing.T) *oidcFixture {
	t.Helper()
	f := newFixture(t)
	idp := oidctest.New(t, "epom-client", "client-secret")
	cfg := testConfig(t)
	cfg.OIDCProviders = []config.OIDCProvider{{ID: "test", Name: "Identita občana", Issuer: idp.Issuer(),
		ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Scopes: []string{"openid", "email", "profile"}, TrustMFA: true}}
	mods, err := modules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	kernel := &server.Kernel{Exports: f.exports, Modules: mods, Registry: f.env.Registry, Resolver: f.resolver, Settings: f.settings,
		Identity: f.identity, Authz: f.authz, BaseURL: cfg.BaseURL, SessionMaxAge: time.Hour,
		Audit: audit.New(f.env.DB, f.env.Platform), Mail: f.mail,
		Catalogue: func(ctx context.Context, q, kraj string, limit int) ([]catalogue.Hit, error) {
			return catalogue.Search(ctx, f.env.App, q, kraj, limit)
		},
		OIDC: oidc.New(f.env.App, cfg.OIDCProviders, cfg.BaseURL)}
	reg := prometheus.NewRegistry()
	srv, err := server.New(server.Deps{
		Config: cfg, Log: slog.New(slog.DiscardHandler), Spec: f.spec, Modules: mods,
		Registry: f.env.Registry, Resolver: f.resolver, DB: f.env.DB, App: f.env.App, Identity: f.identity,
		Authz: f.authz, Metrics: metrics.NewHTTP(reg), Gatherer: reg, Frontend: frontend.Dist(),
		Ready: func(ctx context.Context) error { return nil },
	}, &struct {
		*server.Kernel
		*noticeboard.API
	}{kernel, noticeboard.NewAPI(nil, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv // the fixture's helpers (do, signIn) talk to this server too
	return &oidcFixture{fixture: f, idp: idp, srv: srv}
}

// browser keeps cookies like a browser does, for the server under test only.
type browser struct {
	t       *testing.T
	srv     http.Handler
	cookies map[string]*http.Cookie
}

func (f *oidcFixture) browser(t *testing.T) *browser {
	return &browser{t: t, srv: f.srv, cookies: map[string]*http.Cookie{}}
}

func (b *browser) get(target string) *httptest.ResponseRecorder {
	b.t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.Host = "epom.test"
	for _, c := range b.cookies {
		if strings.HasPrefix(req.URL.Path, c.Path) || c.Path == "" {
			req.AddCookie(c)
		}
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

// atProvider follows the redirect to the provider's authorization endpoint and returns where
// the provider sends the browser back (a path on epom with the code or the error).
func atProvider(t *testing.T, location string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(location)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("provider: %d %s", resp.StatusCode, body)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Host != "epom.test" || back.Path != "/auth/oidc/test/callback" {
		t.Fatalf("provider sent the browser to %q", resp.Header.Get("Location"))
	}
	return back.RequestURI()
}

// start begins a sign-in and returns the callback path the provider answers with.
func (b *browser) start(next string) string {
	b.t.Helper()
	target := "/auth/oidc/test"
	if next != "" {
		target += "?next=" + url.QueryEscape(next)
	}
	w := b.get(target)
	if w.Code != http.StatusFound || b.cookies["epom_oidc"] == nil {
		b.t.Fatalf("start: %d %v %s", w.Code, w.Header(), w.Body)
	}
	c := b.cookies["epom_oidc"]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 || c.MaxAge > 600 {
		b.t.Fatalf("state cookie: %+v", c)
	}
	return atProvider(b.t, w.Header().Get("Location"))
}

// signIn runs the whole flow and expects it to succeed; it returns the redirect target.
func (b *browser) signIn(next string) string {
	b.t.Helper()
	w := b.get(b.start(next))
	if w.Code != http.StatusFound || b.cookies[server.SessionCookie] == nil {
		b.t.Fatalf("callback: %d %s", w.Code, w.Body)
	}
	if b.cookies["epom_oidc"] != nil {
		b.t.Fatal("the state cookie outlived the callback")
	}
	return w.Header().Get("Location")
}

func (b *browser) me() gen.Me {
	b.t.Helper()
	w := b.get("/api/v1/me")
	if w.Code != http.StatusOK {
		b.t.Fatalf("me: %d %s", w.Code, w.Body)
	}
	var me gen.Me
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil {
		b.t.Fatal(err)
	}
	if me.CsrfToken == "" {
		b.t.Fatal("no CSRF token")
	}
	return me
}

// refused expects the callback to answer with the readable failure page.
func (b *browser) refused(callback string, status int, text string) {
	b.t.Helper()
	w := b.get(callback)
	page := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(page, "/auth/oidc/test/failed/") {
		b.t.Fatalf("want a redirect to the failure page, got %d %q: %s", w.Code, page, w.Body)
	}
	w = b.get(page)
	body := w.Body.String()
	if w.Code != status || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "Přihlášení se nezdařilo") || !strings.Contains(body, text) ||
		!strings.Contains(body, `href="/app/prihlaseni"`) {
		b.t.Fatalf("want %d with %q, got %d: %s", status, text, w.Code, body)
	}
	if b.cookies[server.SessionCookie] != nil {
		b.t.Fatal("a refused sign-in set a session")
	}
}

func (f *oidcFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.env.Platform.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *oidcFixture) failures(t *testing.T, reason string) int {
	return f.count(t, `SELECT count(*) FROM platform_audit_log WHERE action = 'sign-in-failed'
		AND details->>'method' = 'oidc' AND details->>'reason' = $1`, reason)
}

func TestOIDCNewAccount(t *testing.T) {
	f := newOIDCFixture(t)
	f.idp.Next(oidctest.Login{Subject: "nia-1", Email: "Nova@Test.cz", EmailVerified: true, Name: "Nová Občanka"})
	b := f.browser(t)
	if got := b.signIn("/app/t/liberec"); got != "/app/t/liberec" {
		t.Fatalf("redirect to %q", got)
	}
	me := b.me()
	if me.Email != "nova@test.cz" || me.Name != "Nová Občanka" || len(me.Memberships) != 0 {
		t.Fatalf("me: %+v", me)
	}
	// PKCE S256 and a nonce went to the provider; the state is not the cookie's only copy.
	q := f.idp.Requests[0]
	if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" ||
		!strings.Contains(q.Get("scope"), "email") {
		t.Fatalf("authorization request: %v", q)
	}
	if n := f.count(t, `SELECT count(*) FROM user_identities WHERE provider = 'test' AND subject = 'nia-1' AND email = 'nova@test.cz'`); n != 1 {
		t.Fatalf("identity rows: %d", n)
	}
	if n := f.count(t, `SELECT count(*) FROM platform_audit_log WHERE action = 'account-created' AND actor = 'nova@test.cz'`); n != 1 {
		t.Fatalf("account-created audited %d times", n)
	}
	if n := f.count(t, `SELECT count(*) FROM platform_audit_log WHERE action = 'sign-in' AND actor = 'nova@test.cz'
		AND details->>'method' = 'oidc' AND details->>'provider' = 'test'`); n != 1 {
		t.Fatalf("sign-in audited %d times", n)
	}
	// The account has no password: password sign-in cannot get in.
	w := f.do(t, request{method: "POST", path: "/api/v1/session", body: `{"email":"nova@test.cz","password":"anything"}`})
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("password sign-in of an oidc account: %d", w.Code)
	}

	// It is the only way to sign in, so it cannot be unlinked.
	csrf := me.CsrfToken
	del := httptest.NewRequest("DELETE", "/api/v1/me/identities/test", nil)
	del.AddCookie(b.cookies[server.SessionCookie])
	del.Header.Set(server.CSRFHeader, csrf)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, del)
	if rec.Code != http.StatusConflict || problemOf(t, rec).Type != "/problems/last-sign-in-method" {
		t.Fatalf("unlink the only sign-in: %d %s", rec.Code, rec.Body)
	}
}

func TestOIDCLinksVerifiedEmailAndFindsSubjectLater(t *testing.T) {
	f := newOIDCFixture(t)
	citizen, err := f.identity.UserByEmail(context.Background(), "citizen@test.cz")
	if err != nil {
		t.Fatal(err)
	}
	users := f.count(t, `SELECT count(*) FROM users`)
	f.idp.Next(oidctest.Login{Subject: "nia-2", Email: "citizen@test.cz", EmailVerified: "true", Name: "Someone Else"})
	b := f.browser(t)
	if got := b.signIn(""); got != "/app/" {
		t.Fatalf("redirect to %q", got)
	}
	if me := b.me(); me.Id != citizen.ID {
		t.Fatalf("signed in as %s, want the existing account %s", me.Id, citizen.ID)
	}
	if n := f.count(t, `SELECT count(*) FROM platform_audit_log WHERE action = 'identity-linked' AND actor_id = $1`, citizen.ID); n != 1 {
		t.Fatalf("identity-linked audited %d times", n)
	}
	if n := f.count(t, `SELECT count(*) FROM users`); n != users {
		t.Fatalf("an account was created: %d users", n)
	}

	// The address changed at the provider (and is no longer verified): the subject still
	// finds the same account.
	f.idp.Next(oidctest.Login{Subject: "nia-2", Email: "renamed@test.cz", EmailVerified: false})
	b2 := f.browser(t)
	b2.signIn("")
	if me := b2.me(); me.Id != citizen.ID {
		t.Fatalf("second sign-in as %s", me.Id)
	}

	// The linked identities, and unlinking (the account has a password, so it may).
	w := b2.get("/api/v1/me/identities")
	var list struct{ Items []gen.LinkedIdentity }
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Items) != 1 ||
		list.Items[0].ProviderName != "Identita občana" || list.Items[0].Email != "citizen@test.cz" {
		t.Fatalf("identities: %d %s", w.Code, w.Body)
	}
	sess := &session{cookie: b2.cookies[server.SessionCookie], csrf: b2.me().CsrfToken}
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/me/identities/test", sess: sess, noCSRF: true}); w.Code != http.StatusForbidden {
		t.Fatalf("unlink without CSRF token: %d", w.Code)
	}
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/me/identities/test", sess: sess}); w.Code != http.StatusNoContent {
		t.Fatalf("unlink: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/me/identities/test", sess: sess}); w.Code != http.StatusNotFound {
		t.Fatalf("unlink twice: %d %s", w.Code, w.Body)
	}
	if n := f.count(t, `SELECT count(*) FROM platform_audit_log WHERE action = 'identity-unlinked' AND actor_id = $1`, citizen.ID); n != 1 {
		t.Fatalf("identity-unlinked audited %d times", n)
	}
}

func TestOIDCRefusals(t *testing.T) {
	f := newOIDCFixture(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	users := f.count(t, `SELECT count(*) FROM users`)
	cases := []struct {
		name   string
		login  oidctest.Login
		status int
		reason string
		text   string
	}{
		{"unverified e-mail of an existing account", oidctest.Login{Subject: "x1", Email: "clerk-a@test.cz", EmailVerified: false},
			403, "email-unverified", "nepotvrdil vaši e-mailovou adresu"},
		{"unverified new e-mail", oidctest.Login{Subject: "x2", Email: "new@test.cz"}, 403, "email-unverified", "nepotvrdil"},
		{"no e-mail at all", oidctest.Login{Subject: "x3"}, 403, "email-unverified", "nepotvrdil"},
		{"nonce of another sign-in", oidctest.Login{Subject: "x4", Email: "a@test.cz", EmailVerified: true, Nonce: "replayed"},
			400, "token-invalid", "platně nepotvrdil"},
		{"token for another client", oidctest.Login{Subject: "x5", Email: "a@test.cz", EmailVerified: true, Audience: "other-client"},
			400, "token-invalid", "platně nepotvrdil"},
		{"another issuer", oidctest.Login{Subject: "x6", Email: "a@test.cz", EmailVerified: true, Issuer: "https://evil.example"},
			400, "token-invalid", "platně nepotvrdil"},
		{"expired token", oidctest.Login{Subject: "x7", Email: "a@test.cz", EmailVerified: true, ExpiresIn: -time.Minute},
			400, "token-invalid", "platně nepotvrdil"},
		{"signed with another key", oidctest.Login{Subject: "x8", Email: "a@test.cz", EmailVerified: true, SignWith: otherKey},
			400, "token-invalid", "platně nepotvrdil"},
		{"cancelled at the provider", oidctest.Login{Error: "access_denied"}, 400, "provider-error", "bylo zrušeno"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.failures(t, tc.reason)
			f.idp.Next(tc.login)
			b := f.browser(t)
			b.refused(b.start(""), tc.status, tc.text)
			if f.failures(t, tc.reason) != before+1 {
				t.Fatalf("sign-in-failed with reason %s not audited", tc.reason)
			}
		})
	}
	if n := f.count(t, `SELECT count(*) FROM users`); n != users {
		t.Fatalf("refused sign-ins made accounts: %d → %d", users, n)
	}
	if n := f.count(t, `SELECT count(*) FROM user_identities`); n != 0 {
		t.Fatalf("refused sign-ins linked %d identities", n)
	}
}

func TestOIDCStateIsBoundToTheBrowserAndUsedOnce(t *testing.T) {
	f := newOIDCFixture(t)
	f.idp.Next(oidctest.Login{Subject: "s", Email: "s@test.cz", EmailVerified: true})

	// Login CSRF: an attacker's callback URL opened in the victim's browser, which has no or
	// another sign-in under way.
	attacker := f.browser(t)
	callback := attacker.start("")
	victim := f.browser(t)
	victim.refused(callback, 400, "nepatří k přihlášení zahájenému v tomto prohlížeči")
	victim.start("")
	victim.refused(callback, 400, "nepatří k přihlášení")

	// A state altered on the way back.
	b := f.browser(t)
	cb, _ := url.Parse(b.start(""))
	q := cb.Query()
	q.Set("state", q.Get("state")+"x")
	cb.RawQuery = q.Encode()
	b.refused(cb.RequestURI(), 400, "nepatří k přihlášení")

	// A callback replayed with its cookie: the started sign-in was used up.
	b = f.browser(t)
	callback = b.start("")
	cookie := b.cookies["epom_oidc"]
	if w := b.get(callback); w.Code != http.StatusFound {
		t.Fatalf("first use: %d %s", w.Code, w.Body)
	}
	b.cookies = map[string]*http.Cookie{"epom_oidc": cookie}
	b.refused(callback, 400, "nepatří k přihlášení")

	// A sign-in started too long ago.
	b = f.browser(t)
	callback = b.start("")
	if _, err := f.env.Owner.Exec(context.Background(), `UPDATE oidc_logins SET expires_at = now() - interval '1 minute'`); err != nil {
		t.Fatal(err)
	}
	b.refused(callback, 400, "vypršela")
	if f.failures(t, "state-mismatch") != 4 || f.failures(t, "expired") != 1 {
		t.Fatalf("failures audited: state %d, expired %d", f.failures(t, "state-mismatch"), f.failures(t, "expired"))
	}

	// The failure page has its own address, so its language can be switched without
	// replaying the callback.
	if w := b.get("/auth/oidc/test/failed/expired?lang=en"); w.Code != 400 || !strings.Contains(w.Body.String(), "Sign-in failed") ||
		!strings.Contains(w.Body.String(), "expired") || w.Header().Get("Content-Language") != "en" {
		t.Fatalf("failure page in English: %d %s", w.Code, w.Body)
	}

	// An unknown provider is simply not found.
	if w := b.get("/auth/oidc/nope"); w.Code != http.StatusNotFound {
		t.Fatalf("unknown provider: %d", w.Code)
	}
}

func TestOIDCNextStaysInTheApp(t *testing.T) {
	f := newOIDCFixture(t)
	for _, next := range []string{"https://evil.example/app/", "//evil.example/app/", "/\\evil.example", "/app/../admin/queues",
		"/app/%2e%2e/admin", "/api/v1/me", "javascript:alert(1)", "/app//evil.example"} {
		f.idp.Next(oidctest.Login{Subject: "n", Email: "n@test.cz", EmailVerified: true})
		if got := f.browser(t).signIn(next); got != "/app/" {
			t.Errorf("next=%q sent the browser to %q", next, got)
		}
	}
	f.idp.Next(oidctest.Login{Subject: "n", Email: "n@test.cz", EmailVerified: true})
	if got := f.browser(t).signIn("/app/t/liberec/nastaveni?tab=1"); got != "/app/t/liberec/nastaveni?tab=1" {
		t.Errorf("an app path was not kept: %q", got)
	}
}

func TestAuthProvidersAndIdentitiesAPI(t *testing.T) {
	f := newOIDCFixture(t)
	w := f.do(t, request{method: "GET", path: "/api/v1/auth/providers"})
	var providers struct{ Items []gen.AuthProvider }
	if err := json.Unmarshal(w.Body.Bytes(), &providers); err != nil || w.Code != 200 || len(providers.Items) != 1 ||
		providers.Items[0] != (gen.AuthProvider{Id: "test", Name: "Identita občana", StartUrl: "/auth/oidc/test"}) {
		t.Fatalf("providers: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "client-secret") || strings.Contains(w.Body.String(), f.idp.Issuer()) {
		t.Fatal("the provider list shows configuration")
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/me/identities"}); w.Code != http.StatusUnauthorized {
		t.Fatalf("identities without sign-in: %d", w.Code)
	}
	sess := f.signIn(t, "admin-a@test.cz")
	w = f.do(t, request{method: "GET", path: "/api/v1/me/identities", sess: sess})
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"items":[]}` {
		t.Fatalf("no identities: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/me/identities/Bad_Id", sess: sess}); w.Code != http.StatusBadRequest {
		t.Fatalf("bad provider id: %d", w.Code)
	}
}
