package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/identity"
)

func (f *fixture) userID(t testing.TB, email string) string {
	t.Helper()
	var id string
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return id
}

func (f *fixture) countApp(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.env.App.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestResetMemberMFA: a tenant admin resets the second factor of a clerk who lost it; the
// clerk's sessions end, the reset is audited and mailed, and the clerk's next sign-in by
// password leads to enrolment. The refusals each have their own answer.
func TestResetMemberMFA(t *testing.T) {
	f := newFixtureWith(t, nil, staffMFARequired)
	ctx := context.Background()
	f.user(t, "clerk-b@test.cz", f.b, authz.RoleClerk)
	f.user(t, "both@test.cz", f.a, authz.RoleClerk)
	if err := f.identity.Grant(tenants.WithTenant(ctx, f.b.Tenant), uuid.MustParse(f.userID(t, "both@test.cz")), authz.RoleClerk); err != nil {
		t.Fatal(err)
	}
	// The platform admin also works for A: still not A's to reset.
	if err := f.identity.Grant(tenants.WithTenant(ctx, f.a.Tenant), uuid.MustParse(f.userID(t, "platform@test.cz")), authz.RoleAuditor); err != nil {
		t.Fatal(err)
	}
	admin := f.signIn(t, "admin-a@test.cz")
	f.enrol(t, admin)
	clerk := f.signIn(t, "clerk-a@test.cz")
	clerkOther := f.signIn(t, "clerk-a@test.cz") // a second device, signed in before enrolment
	f.enrol(t, clerk)
	clerkID := f.userID(t, "clerk-a@test.cz")

	reset := func(s *session, tenant, id, body string) *httptest.ResponseRecorder {
		return f.do(t, request{method: "POST", path: "/api/v1/tenants/" + tenant + "/members/" + id + "/mfa-reset", body: body, sess: s})
	}
	const reason = `{"reason":"Ztratila telefon i záchranné kódy"}`
	cases := []struct {
		name   string
		sess   *session
		tenant string
		id     string
		body   string
		status int
		typ    string
		field  string
	}{
		{"clerk lacks tenant.members:write", clerk, "liberec", f.userID(t, "admin-a@test.cz"), reason, 403, "/problems/forbidden", ""},
		{"no reason", admin, "liberec", clerkID, `{}`, 400, "/problems/validation", "reason"},
		{"short reason", admin, "liberec", clerkID, `{"reason":"  x  "}`, 400, "/problems/validation", "/reason"},
		{"long reason", admin, "liberec", clerkID, `{"reason":"` + strings.Repeat("á", 501) + `"}`, 400, "/problems/validation", "reason"},
		{"own account", admin, "liberec", f.userID(t, "admin-a@test.cz"), reason, 409, "/problems/mfa-reset-self", ""},
		{"B's clerk through A", admin, "liberec", f.userID(t, "clerk-b@test.cz"), reason, 404, "/problems/not-found", ""},
		{"unknown user", admin, "liberec", uuid.NewString(), reason, 404, "/problems/not-found", ""},
		{"staff of B too", admin, "liberec", f.userID(t, "both@test.cz"), reason, 409, "/problems/mfa-reset-elsewhere", ""},
		{"platform admin", admin, "liberec", f.userID(t, "platform@test.cz"), reason, 409, "/problems/mfa-reset-elsewhere", ""},
		{"A's admin through B", admin, "kunzak", f.userID(t, "clerk-b@test.cz"), reason, 403, "/problems/forbidden", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := f.do(t, request{method: "POST", path: "/api/v1/tenants/" + c.tenant + "/members/" + c.id + "/mfa-reset", body: c.body, sess: c.sess})
			expectProblem(t, w, c.status, c.typ)
			if c.field != "" {
				p := problemOf(t, w)
				if len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Field, c.field) {
					t.Fatalf("field %q not named: %+v", c.field, p)
				}
			}
		})
	}
	// An API token of the admin with tenant.members:write may change roles, not reset sign-in.
	_, secret, err := f.tokens.Create(tenants.WithTenant(ctx, f.a.Tenant), apitokens.Actor{ID: uuid.MustParse(f.userID(t, "admin-a@test.cz")),
		Email: "admin-a@test.cz"}, apitokens.NewToken{Name: "robot", Scopes: []string{"tenant.members:write"}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/api/v1/tenants/liberec/members/"+clerkID+"/mfa-reset", strings.NewReader(reason))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	expectProblem(t, w, 403, "/problems/token-not-allowed")
	// Nothing of the refused requests was written.
	if n := f.countApp(t, `SELECT count(*) FROM platform_mail WHERE template = 'mfareset'`); n != 0 {
		t.Fatalf("refused resets queued %d mails", n)
	}
	if n := f.auditCount(t, f.a, "mfa-reset", "both@test.cz") + f.auditCount(t, f.a, "mfa-reset", "admin-a@test.cz"); n != 0 {
		t.Fatalf("refused resets audited: %d", n)
	}
	if f.countApp(t, `SELECT count(*) FROM user_totp WHERE user_id = $1`, clerkID) != 1 {
		t.Fatal("a refused request touched the clerk's TOTP")
	}

	r := reset(admin, "liberec", clerkID, `{"reason":"  Ztratila telefon i záchranné kódy "}`)
	if r.Code != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.Code, r.Body)
	}
	if n := f.countApp(t, `SELECT count(*) FROM user_totp WHERE user_id = $1`, clerkID); n != 0 {
		t.Fatal("the TOTP secret is still there")
	}
	if n := f.countApp(t, `SELECT count(*) FROM user_recovery_codes WHERE user_id = $1`, clerkID); n != 0 {
		t.Fatalf("%d recovery codes left", n)
	}
	if n := f.countApp(t, `SELECT count(*) FROM sessions WHERE user_id = $1`, clerkID); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
	for _, s := range []*session{clerk, clerkOther} {
		expectProblem(t, f.do(t, request{method: "GET", path: "/api/v1/me", sess: s}), 401, "/problems/unauthenticated")
	}
	f.me(t, admin) // the admin's own session is untouched

	var details map[string]string
	var actor, ip string
	if err := f.env.Platform.QueryRow(ctx, `SELECT actor, ip, details FROM tenant_audit_log
		WHERE tenant_id = $1 AND action = 'mfa-reset' AND target = 'clerk-a@test.cz'`, f.a.ID).Scan(&actor, &ip, &details); err != nil {
		t.Fatalf("audit entry: %v", err)
	}
	if actor != "admin-a@test.cz" || ip == "" || details["reason"] != "Ztratila telefon i záchranné kódy" ||
		details["userId"] != clerkID || details["totpRemoved"] != "true" || details["recoveryCodesRemoved"] != "10" || details["sessionsEnded"] != "2" {
		t.Fatalf("audit entry: %s %s %v", actor, ip, details)
	}
	if rep, err := audit.New(f.env.DB, f.env.Platform).Verify(ctx, f.a.ID); err != nil || !rep.OK() {
		t.Fatalf("audit chain: %+v %v", rep, err)
	}
	var to, body, lang string
	if err := f.env.App.QueryRow(ctx, `SELECT to_address, text_body, lang FROM platform_mail WHERE ref = $1`,
		"account.mfa-reset:"+clerkID).Scan(&to, &body, &lang); err != nil {
		t.Fatalf("mail: %v", err)
	}
	for _, want := range []string{"admin-a@test.cz (Liberec MARKER-A)", "Ztratila telefon i záchranné kódy",
		"http://epom.test/app/prihlaseni", "nastavili znovu", "neprodleně se obraťte na úřad"} {
		if !strings.Contains(body, want) {
			t.Errorf("mail lacks %q:\n%s", want, body)
		}
	}
	if to != "clerk-a@test.cz" || lang != "cs" {
		t.Fatalf("mail to %s in %s", to, lang)
	}
	// B's log knows nothing of it.
	if n := f.auditCount(t, f.b, "mfa-reset", "clerk-a@test.cz"); n != 0 {
		t.Fatal("the reset is in B's audit log")
	}

	// The clerk signs in with the password alone and is sent to enrolment.
	again := f.signIn(t, "clerk-a@test.cz")
	if me := f.me(t, again); me.MfaEnabled || !me.MfaRequired {
		t.Fatalf("after the reset: %+v", me)
	}
	expectProblem(t, f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/settings", sess: again}), 403, "/problems/mfa-enrolment-required")
	f.enrol(t, again)
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/settings", sess: again}); w.Code != 200 {
		t.Fatalf("after enrolling again: %d %s", w.Code, w.Body)
	}
	// Resetting a member who has no second factor (yet) is allowed: it still ends the sessions.
	f.user(t, "new@test.cz", f.a, authz.RoleClerk)
	if r := reset(admin, "liberec", f.userID(t, "new@test.cz"), `{"reason":"Nový telefon","lang":"en"}`); r.Code != 204 {
		t.Fatalf("reset without TOTP: %d %s", r.Code, r.Body)
	}
	var enBody string
	if err := f.env.App.QueryRow(ctx, `SELECT text_body FROM platform_mail WHERE to_address = 'new@test.cz'`).Scan(&enBody); err != nil ||
		!strings.Contains(enBody, "was reset by admin-a@test.cz") {
		t.Fatalf("English mail: %v\n%s", err, enBody)
	}
}

// TestOperatorResetMFA: the platform operator's reset (the core of `epom user reset-mfa`)
// works for an account a tenant admin may not reset, and is in the platform's audit log.
func TestOperatorResetMFA(t *testing.T) {
	f := newFixtureWith(t, nil, staffMFARequired)
	ctx := context.Background()
	s := f.signIn(t, "platform@test.cz")
	f.enrol(t, s)
	res, err := f.identity.ResetMFAByOperator(ctx, f.mail, audit.New(f.env.DB, f.env.Platform), identity.OperatorMFAReset{
		Email: " Platform@Test.cz ", Reason: "Ověřeno telefonicky", Actor: "cli:root", BaseURL: "http://epom.test"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TOTPRemoved || res.SessionsEnded != 1 || res.RecoveryCodesRemoved != 10 || res.MailID == uuid.Nil {
		t.Fatalf("result: %+v", res)
	}
	expectProblem(t, f.do(t, request{method: "GET", path: "/api/v1/me", sess: s}), 401, "/problems/unauthenticated")
	got := f.auditActions(t, "mfa-reset")
	if len(got) != 1 || got[0]["reason"] != "Ověřeno telefonicky" {
		t.Fatalf("platform audit: %v", got)
	}
	var body string
	if err := f.env.App.QueryRow(ctx, `SELECT text_body FROM platform_mail WHERE id = $1`, res.MailID).Scan(&body); err != nil ||
		!strings.Contains(body, "provozovatel platformy epom") || !strings.Contains(body, "provozovatele portálu epom") {
		t.Fatalf("mail: %v\n%s", err, body)
	}
	if _, err := f.identity.ResetMFAByOperator(ctx, f.mail, audit.New(f.env.DB, f.env.Platform), identity.OperatorMFAReset{
		Email: "nobody@test.cz", Reason: "test"}); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("unknown address: %v", err)
	}
}
