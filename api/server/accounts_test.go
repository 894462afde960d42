package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/jobs/jobstest"
)

const newPassword = "zelené jablko na stole 42"

// accountsFixture is the server fixture with the account self-service and a throttle on a
// Redis of the test's own.
type accountsFixture struct {
	*fixture
	accounts *identity.Accounts
}

func newAccountsFixture(t *testing.T, limits identity.LimitConfig) *accountsFixture {
	t.Helper()
	f := newFixture(t)
	r := jobstest.StartRedis(t)
	opts, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	acc := identity.NewAccounts(f.identity, identity.PlatformMail{Mail: f.mail}, audit.New(f.env.DB, f.env.Platform),
		identity.AccountsConfig{BaseURL: "http://epom.test", ResetTTL: time.Hour})
	f.kernel.Accounts = acc
	f.kernel.Limiter = identity.NewRedisLimiter(rdb, limits)
	return &accountsFixture{fixture: f, accounts: acc}
}

// call is a request from a client address, in a language.
type call struct {
	method, path, body string
	sess               *session
	noCSRF             bool
	ip, lang           string
}

func (f *accountsFixture) call(t testing.TB, c call) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.ip != "" {
		req.RemoteAddr = c.ip + ":40000"
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	if c.sess != nil {
		req.AddCookie(c.sess.cookie)
		if !c.noCSRF {
			req.Header.Set(server.CSRFHeader, c.sess.csrf)
		}
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

func body(v map[string]string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (f *accountsFixture) signInWith(t testing.TB, email, pw, ip string) *httptest.ResponseRecorder {
	t.Helper()
	return f.call(t, call{method: "POST", path: "/api/v1/session", body: body(map[string]string{"email": email, "password": pw}), ip: ip})
}

func sessionOf(t testing.TB, w *httptest.ResponseRecorder) *session {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	var me gen.Me
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == server.SessionCookie {
			return &session{cookie: c, csrf: me.CsrfToken}
		}
	}
	t.Fatal("no session cookie")
	return nil
}

type sentMail struct{ subject, text string }

// mails lists the platform mail to an address, oldest first.
func (f *accountsFixture) mails(t testing.TB, to string) []sentMail {
	t.Helper()
	rows, err := f.env.Platform.Query(context.Background(), `SELECT subject, text_body FROM platform_mail
		WHERE to_address = $1 ORDER BY created_at, id`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sentMail
	for rows.Next() {
		var m sentMail
		if err := rows.Scan(&m.subject, &m.text); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

var tokenRE = regexp.MustCompile(`(/app/[a-z-]+)\?token=([A-Za-z0-9_-]+)`)

// linkIn returns the token of the last mail to an address, checking the link's page.
func (f *accountsFixture) linkIn(t testing.TB, to, page string) string {
	t.Helper()
	ms := f.mails(t, to)
	if len(ms) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	m := tokenRE.FindStringSubmatch(ms[len(ms)-1].text)
	if m == nil || m[1] != page {
		t.Fatalf("no %s link in %q", page, ms[len(ms)-1].text)
	}
	return m[2]
}

func (f *accountsFixture) auditCount(t testing.TB, action, actor string) int {
	t.Helper()
	var n int
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT count(*) FROM platform_audit_log
		WHERE action = $1 AND actor = $2`, action, actor).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantProblem(t testing.TB, w *httptest.ResponseRecorder, status int, typ string) gen.Problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	p := problemOf(t, w)
	if p.Type != "/problems/"+typ {
		t.Fatalf("type %s, want %s", p.Type, typ)
	}
	var g gen.Problem
	_ = json.Unmarshal(w.Body.Bytes(), &g)
	return g
}

func TestRegisterVerifySignIn(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{})
	const email = "nova.obcanka@test.cz"
	w := f.call(t, call{method: "POST", path: "/api/v1/accounts",
		body: body(map[string]string{"email": "Nova.Obcanka@test.cz", "name": "Eva Malá", "password": newPassword})})
	if w.Code != http.StatusAccepted {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	// Unverified: a wrong password is just wrong, the right one is refused with its reason.
	wantProblem(t, f.signInWith(t, email, "not the password at all", ""), 401, "bad-credentials")
	p := wantProblem(t, f.signInWith(t, email, newPassword, ""), 403, "email-not-verified")
	if p.Detail == nil || !strings.Contains(*p.Detail, "odkaz") {
		t.Fatalf("detail should explain in Czech: %+v", p)
	}
	token := f.linkIn(t, email, "/app/overeni")
	if ms := f.mails(t, email); !strings.Contains(ms[0].subject, "Potvrďte") {
		t.Fatalf("subject %q", ms[0].subject)
	}
	if w := f.call(t, call{method: "POST", path: "/api/v1/accounts/verify", body: body(map[string]string{"token": token})}); w.Code != http.StatusNoContent {
		t.Fatalf("verify: %d %s", w.Code, w.Body)
	}
	sessionOf(t, f.signInWith(t, email, newPassword, ""))
	wantProblem(t, f.call(t, call{method: "POST", path: "/api/v1/accounts/verify", body: body(map[string]string{"token": token})}), 410, "link-used")
	wantProblem(t, f.call(t, call{method: "POST", path: "/api/v1/accounts/verify", body: body(map[string]string{"token": "nonsense"})}), 400, "link-invalid")
	for _, action := range []string{"account-registered", "email-verified", "sign-in-unverified", "sign-in"} {
		if f.auditCount(t, action, email) == 0 {
			t.Errorf("no audit entry %s", action)
		}
	}
}

func TestResendVerification(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{})
	const email = "pomaly@test.cz"
	f.call(t, call{method: "POST", path: "/api/v1/accounts", body: body(map[string]string{"email": email, "name": "Pomalý", "password": newPassword})})
	first := f.linkIn(t, email, "/app/overeni")
	for _, addr := range []string{email, "nikdo@test.cz", "citizen@test.cz"} {
		w := f.call(t, call{method: "POST", path: "/api/v1/accounts/verification", body: body(map[string]string{"email": addr})})
		if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
			t.Fatalf("resend to %s: %d %s", addr, w.Code, w.Body)
		}
	}
	second := f.linkIn(t, email, "/app/overeni")
	if second == first {
		t.Fatal("no new link")
	}
	if n := len(f.mails(t, "citizen@test.cz")); n != 0 {
		t.Fatalf("a verified account got %d verification mails", n)
	}
	// Either link works once.
	if w := f.call(t, call{method: "POST", path: "/api/v1/accounts/verify", body: body(map[string]string{"token": first})}); w.Code != http.StatusNoContent {
		t.Fatalf("verify: %d %s", w.Code, w.Body)
	}
	sessionOf(t, f.signInWith(t, email, newPassword, ""))
}

func TestRegisteringATakenAddressLooksTheSame(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{})
	fresh := f.call(t, call{method: "POST", path: "/api/v1/accounts",
		body: body(map[string]string{"email": "kdosi@test.cz", "name": "Kdosi", "password": newPassword})})
	taken := f.call(t, call{method: "POST", path: "/api/v1/accounts",
		body: body(map[string]string{"email": "citizen@test.cz", "name": "Útočník", "password": newPassword})})
	if fresh.Code != taken.Code || fresh.Body.String() != taken.Body.String() {
		t.Fatalf("answers differ: %d %q vs %d %q", fresh.Code, fresh.Body, taken.Code, taken.Body)
	}
	// The owner is told, the account is unchanged.
	ms := f.mails(t, "citizen@test.cz")
	if len(ms) != 1 || !strings.Contains(ms[0].subject, "registrovat") || tokenRE.MatchString(ms[0].text) {
		t.Fatalf("owner's mail: %+v", ms)
	}
	sessionOf(t, f.signInWith(t, "citizen@test.cz", password, ""))
	wantProblem(t, f.signInWith(t, "citizen@test.cz", newPassword, ""), 401, "bad-credentials")
}

func TestWeakPasswordsAreRefusedPerField(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{})
	citizen := f.signIn(t, "citizen@test.cz")
	cases := []struct {
		name, pw, lang, wantMsg string
	}{
		{"short", "kratke1!", "", "alespoň 10 znaků"},
		{"short, English", "kratke1!", "en", "at least 10 characters"},
		{"too long", strings.Repeat("dlouhé heslo ", 11), "", "nejvýše 128"},
		{"common", "password123", "", "běžně používanými"},
		{"common in capitals", "PASSWORD123", "en", "commonly used"},
		{"e-mail local part", "Zuzana.Vesela-2026", "", "jméno ani e-mailovou adresu"},
		{"name", "velka Vesela zima", "", "jméno ani e-mailovou adresu"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(w *httptest.ResponseRecorder, field string) {
				t.Helper()
				p := wantProblem(t, w, 422, "weak-password")
				if p.Errors == nil || len(*p.Errors) != 1 || (*p.Errors)[0].Field != field ||
					!strings.Contains((*p.Errors)[0].Message, tc.wantMsg) {
					t.Fatalf("field errors %+v, want %s ~ %q", p.Errors, field, tc.wantMsg)
				}
			}
			check(f.call(t, call{method: "POST", path: "/api/v1/accounts", lang: tc.lang, body: body(map[string]string{
				"email": "zuzana.vesela@test.cz", "name": "Zuzana Veselá", "password": tc.pw})}), "/password")
			check(f.call(t, call{method: "PUT", path: "/api/v1/me/password", lang: tc.lang, sess: citizen, body: body(map[string]string{
				"currentPassword": password, "newPassword": strings.ReplaceAll(strings.ReplaceAll(tc.pw, "Zuzana.Vesela", "citizen"), "Vesela", "citizen")})}),
				"/newPassword")
		})
	}
	var n int
	if err := f.env.App.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE email = 'zuzana.vesela@test.cz'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused registration wrote %d users (%v)", n, err)
	}
	if ms := f.mails(t, "zuzana.vesela@test.cz"); len(ms) != 0 {
		t.Fatalf("a refused registration sent %d mails", len(ms))
	}
	// The password is unchanged.
	sessionOf(t, f.signInWith(t, "citizen@test.cz", password, ""))
}

func TestPasswordReset(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{})
	const email = "citizen@test.cz"
	s1, s2 := f.signIn(t, email), f.signIn(t, email)
	known := f.call(t, call{method: "POST", path: "/api/v1/password-reset", body: body(map[string]string{"email": "Citizen@Test.cz"})})
	unknown := f.call(t, call{method: "POST", path: "/api/v1/password-reset", body: body(map[string]string{"email": "nikdo@test.cz"})})
	if known.Code != http.StatusAccepted || known.Code != unknown.Code || known.Body.String() != unknown.Body.String() {
		t.Fatalf("answers differ: %d %q vs %d %q", known.Code, known.Body, unknown.Code, unknown.Body)
	}
	if ms := f.mails(t, "nikdo@test.cz"); len(ms) != 0 {
		t.Fatal("mail to an unknown address")
	}
	token := f.linkIn(t, email, "/app/obnova-hesla")
	confirm := func(token, pw string) *httptest.ResponseRecorder {
		return f.call(t, call{method: "POST", path: "/api/v1/password-reset/confirm", body: body(map[string]string{"token": token, "password": pw})})
	}
	// A weak password leaves the link usable.
	wantProblem(t, confirm(token, "heslo"), 422, "weak-password")
	if w := confirm(token, newPassword); w.Code != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", w.Code, w.Body)
	}
	for i, s := range []*session{s1, s2} {
		if w := f.do(t, request{method: "GET", path: "/api/v1/me", sess: s}); w.Code != http.StatusUnauthorized {
			t.Fatalf("session %d still works after the reset: %d", i+1, w.Code)
		}
	}
	wantProblem(t, f.signInWith(t, email, password, ""), 401, "bad-credentials")
	sessionOf(t, f.signInWith(t, email, newPassword, ""))
	if f.auditCount(t, "password-reset", email) != 1 || f.auditCount(t, "password-reset-requested", email) != 1 {
		t.Fatal("reset not audited")
	}

	cases := []struct {
		name    string
		token   func() string
		status  int
		problem string
		detail  string
	}{
		{"reused link", func() string { return token }, 410, "link-used", "jen jednou"},
		{"expired link", func() string {
			f.call(t, call{method: "POST", path: "/api/v1/password-reset", body: body(map[string]string{"email": email})})
			tok := f.linkIn(t, email, "/app/obnova-hesla")
			f.accounts.SetClock(func() time.Time { return time.Now().Add(61 * time.Minute) })
			return tok
		}, 410, "link-expired", "nový odkaz"},
		{"unknown link", func() string { return "AAAA" }, 400, "link-invalid", "celý odkaz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, confirm(tc.token(), "úplně jiné heslo 77"), tc.status, tc.problem)
			if p.Detail == nil || !strings.Contains(*p.Detail, tc.detail) {
				t.Fatalf("detail %v, want ~ %q", p.Detail, tc.detail)
			}
		})
	}
	f.accounts.SetClock(time.Now)
	sessionOf(t, f.signInWith(t, email, newPassword, ""))
}

func TestResetVerifiesAnUnverifiedAccount(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{})
	const email = "zapomnela@test.cz"
	f.call(t, call{method: "POST", path: "/api/v1/accounts", body: body(map[string]string{"email": email, "name": "Zapomněla", "password": newPassword})})
	f.call(t, call{method: "POST", path: "/api/v1/password-reset", body: body(map[string]string{"email": email})})
	token := f.linkIn(t, email, "/app/obnova-hesla")
	if w := f.call(t, call{method: "POST", path: "/api/v1/password-reset/confirm", body: body(map[string]string{"token": token, "password": "úplně jiné heslo 77"})}); w.Code != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", w.Code, w.Body)
	}
	sessionOf(t, f.signInWith(t, email, "úplně jiné heslo 77", ""))
}

func TestChangePassword(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{})
	const email = "citizen@test.cz"
	s1, s2 := f.signIn(t, email), f.signIn(t, email)
	change := func(sess *session, noCSRF bool, current, next string) *httptest.ResponseRecorder {
		return f.call(t, call{method: "PUT", path: "/api/v1/me/password", sess: sess, noCSRF: noCSRF,
			body: body(map[string]string{"currentPassword": current, "newPassword": next})})
	}
	wantProblem(t, change(s1, true, password, newPassword), 403, "csrf")
	wantProblem(t, change(nil, false, password, newPassword), 401, "unauthenticated")
	p := wantProblem(t, change(s1, false, "wrong current", newPassword), 403, "wrong-password")
	if p.Errors == nil || (*p.Errors)[0].Field != "/currentPassword" {
		t.Fatalf("field errors %+v", p.Errors)
	}
	sessionOf(t, f.signInWith(t, email, password, "")) // nothing changed so far
	if w := change(s1, false, password, newPassword); w.Code != http.StatusNoContent {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/me", sess: s1}); w.Code != http.StatusOK {
		t.Fatalf("the changing session ended: %d", w.Code)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/me", sess: s2}); w.Code != http.StatusUnauthorized {
		t.Fatalf("another session survived: %d", w.Code)
	}
	sessionOf(t, f.signInWith(t, email, newPassword, ""))
	if f.auditCount(t, "password-changed", email) != 1 {
		t.Fatal("change not audited")
	}
}

func TestSignInLockout(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{AccountMax: 3, LockBase: time.Minute, LockMax: time.Hour, IPMax: 1000})
	// A real account and an address nobody has: every answer must be the same.
	var answers [2][]string
	for i, email := range []string{"citizen@test.cz", "nikdo@test.cz"} {
		for range 3 {
			w := f.signInWith(t, email, "hádám heslo", "203.0.113.5")
			answers[i] = append(answers[i], fmt.Sprintf("%d %s", w.Code, problemOf(t, w).Type))
		}
		// Locked now: even the right password waits, from any client address.
		w := f.signInWith(t, email, password, "203.0.113.77")
		p := wantProblem(t, w, 429, "too-many-attempts")
		if ra := w.Header().Get("Retry-After"); ra != "60" {
			t.Fatalf("%s: Retry-After %q", email, ra)
		}
		if p.Detail == nil || !strings.Contains(*p.Detail, "Zkuste to znovu za 60 s") {
			t.Fatalf("%s: detail %v", email, p.Detail)
		}
		answers[i] = append(answers[i], fmt.Sprintf("%d %s %s", w.Code, problemOf(t, w).Type, w.Header().Get("Retry-After")))
		if n := f.auditCount(t, "sign-in-locked", email); n != 1 {
			t.Fatalf("%s: %d sign-in-locked entries, want 1", email, n)
		}
	}
	if strings.Join(answers[0], "|") != strings.Join(answers[1], "|") {
		t.Fatalf("a real account answers differently:\n%v\n%v", answers[0], answers[1])
	}
	// Another account is not affected; its success forgets its failures.
	for range 2 {
		wantProblem(t, f.signInWith(t, "admin-a@test.cz", "hádám heslo", "203.0.113.5"), 401, "bad-credentials")
	}
	sessionOf(t, f.signInWith(t, "admin-a@test.cz", password, "203.0.113.5"))
	for range 2 {
		wantProblem(t, f.signInWith(t, "admin-a@test.cz", "hádám heslo", "203.0.113.5"), 401, "bad-credentials")
	}
	sessionOf(t, f.signInWith(t, "admin-a@test.cz", password, "203.0.113.5"))
}

func TestSignInLimitPerClientAddress(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{IPMax: 5, IPWindow: 15 * time.Minute, AccountMax: 100})
	const attacker = "198.51.100.23"
	for i := range 5 {
		wantProblem(t, f.signInWith(t, fmt.Sprintf("nikdo%d@test.cz", i), "hádám heslo", attacker), 401, "bad-credentials")
	}
	w := f.signInWith(t, "clerk-a@test.cz", password, attacker)
	wantProblem(t, w, 429, "too-many-attempts")
	if ra := w.Header().Get("Retry-After"); ra != "900" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Everybody else signs in as usual.
	sessionOf(t, f.signInWith(t, "clerk-a@test.cz", password, "198.51.100.24"))
	if n := f.auditCount(t, "sign-in-locked", "nikdo4@test.cz"); n != 1 {
		t.Fatalf("%d IP lock entries", n)
	}
}

func TestAccountMailIsThrottled(t *testing.T) {
	f := newAccountsFixture(t, identity.LimitConfig{MailPerIP: 4, MailPerEmail: 2})
	reset := func(email, ip string) *httptest.ResponseRecorder {
		return f.call(t, call{method: "POST", path: "/api/v1/password-reset", ip: ip, body: body(map[string]string{"email": email})})
	}
	for i := range 3 {
		if w := reset("citizen@test.cz", fmt.Sprintf("10.9.0.%d", i)); w.Code != http.StatusAccepted {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	if n := len(f.mails(t, "citizen@test.cz")); n != 2 {
		t.Fatalf("%d reset mails, want 2 (the third is silently dropped)", n)
	}
	for i := range 4 {
		if w := reset(fmt.Sprintf("x%d@test.cz", i), "10.9.9.9"); w.Code != http.StatusAccepted {
			t.Fatalf("request %d from one IP: %d", i, w.Code)
		}
	}
	w := reset("y@test.cz", "10.9.9.9")
	wantProblem(t, w, 429, "too-many-attempts")
	if w.Header().Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}
