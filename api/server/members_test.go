package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/tenants"
)

var linkRE = regexp.MustCompile(`http://epom\.test/app/pozvanka\?token=([A-Za-z0-9_-]+)`)

// invite invites addr into tenant A as admin-a and returns the token from the e-mail in A's
// mail log.
func (f *fixture) invite(t *testing.T, admin *session, addr, roles string) (gen.Invitation, string) {
	t.Helper()
	w := f.do(t, request{method: "POST", path: "/api/v1/tenants/liberec/invitations", sess: admin,
		body: fmt.Sprintf(`{"email":%q,"name":"Nový pracovník","roles":%s}`, addr, roles)})
	if w.Code != http.StatusCreated {
		t.Fatalf("invite %s: %d %s", addr, w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "token") {
		t.Fatalf("the answer to the inviter carries the link: %s", w.Body)
	}
	var inv gen.Invitation
	if err := json.Unmarshal(w.Body.Bytes(), &inv); err != nil {
		t.Fatal(err)
	}
	var body string
	ctxA := tenants.WithTenant(context.Background(), f.a.Tenant)
	if err := f.env.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(`SELECT text_body FROM mail_log WHERE ref = ?`, "invitation:"+inv.Id.String()).Row().Scan(&body)
	}); err != nil {
		t.Fatalf("invitation mail in A's log: %v", err)
	}
	m := linkRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link in the mail:\n%s", body)
	}
	return inv, m[1]
}

func (f *fixture) auditCount(t *testing.T, tenant tenants.Resolved, action, target string) int {
	t.Helper()
	var n int
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT count(*) FROM tenant_audit_log
		WHERE tenant_id = $1 AND action = $2 AND target = $3`, tenant.ID, action, target).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInviteAndAcceptAsNewUser(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin-a@test.cz")
	inv, token := f.invite(t, admin, "novy@test.cz", `["clerk"]`)
	if inv.Status != "pending" || inv.Email != "novy@test.cz" {
		t.Fatalf("invitation %+v", inv)
	}
	// Only tenant A's mail log has it.
	var inB int
	ctxB := tenants.WithTenant(context.Background(), f.b.Tenant)
	if err := f.env.DB.InTx(ctxB, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(`SELECT count(*) FROM mail_log WHERE to_address = 'novy@test.cz'`).Row().Scan(&inB)
	}); err != nil || inB != 0 {
		t.Fatalf("tenant B's mail log: %d, %v", inB, err)
	}
	w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/invitations", sess: admin})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "novy@test.cz") {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	// The admin reads the mail in the log, but not the link's secret.
	w = f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/mail-log?ref=invitation:" + inv.Id.String(), sess: admin})
	var log gen.ListMailLog200JSONResponse
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &log) != nil || len(log.Items) != 1 {
		t.Fatalf("mail log: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/mail-log/" + log.Items[0].Id.String(), sess: admin})
	if w.Code != 200 || strings.Contains(w.Body.String(), token) || !strings.Contains(w.Body.String(), "pozvanka?token=…") {
		t.Fatalf("the mail log shows the invitation token: %d %s", w.Code, w.Body)
	}

	w = f.do(t, request{method: "GET", path: "/api/v1/invitations/" + token})
	var pre gen.InvitationPreview
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &pre) != nil || pre.TenantSlug != "liberec" || pre.HasAccount || pre.Expired {
		t.Fatalf("preview: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "POST", path: "/api/v1/invitations/" + token + "/accept", body: `{"name":"Nový","password":"krátké"}`})
	if w.Code != 422 || problemOf(t, w).Errors[0].Field != "/password" {
		t.Fatalf("short password: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "POST", path: "/api/v1/invitations/" + token + "/accept", body: `{"name":"Nový Pracovník","password":"dlouhé heslo 123"}`})
	if w.Code != 200 {
		t.Fatalf("accept: %d %s", w.Code, w.Body)
	}
	var me gen.Me
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || len(me.Memberships) != 1 || me.Memberships[0].Roles[0] != "clerk" {
		t.Fatalf("me: %s", w.Body)
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == server.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("not signed in after accepting")
	}
	// The authorizer reloaded: the new clerk may read the settings at once.
	sess := &session{cookie: cookie, csrf: me.CsrfToken}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/settings", sess: sess}); w.Code != 200 {
		t.Fatalf("new clerk reads settings: %d %s", w.Code, w.Body)
	}
	for _, a := range []string{"invitation-sent", "invitation-accepted", "role-granted"} {
		if n := f.auditCount(t, f.a, a, "novy@test.cz"); n != 1 {
			t.Errorf("%s: %d audit entries", a, n)
		}
	}
	// Reused link.
	w = f.do(t, request{method: "POST", path: "/api/v1/invitations/" + token + "/accept", body: `{"name":"X","password":"dlouhé heslo 123"}`})
	if w.Code != 410 || problemOf(t, w).Type != "/problems/invitation-used" {
		t.Fatalf("reused link: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/invitations", sess: admin}); strings.Contains(w.Body.String(), "novy@test.cz") {
		t.Fatalf("accepted invitation still listed: %s", w.Body)
	}
}

func TestAcceptBySignedInUser(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin-a@test.cz")
	_, token := f.invite(t, admin, "citizen@test.cz", `["auditor"]`)
	// An existing account is not set up through the link.
	w := f.do(t, request{method: "POST", path: "/api/v1/invitations/" + token + "/accept", body: `{"name":"X","password":"dlouhé heslo 123"}`})
	if w.Code != 409 || problemOf(t, w).Type != "/problems/account-exists" {
		t.Fatalf("existing account without signing in: %d %s", w.Code, w.Body)
	}
	// Another signed-in account is refused.
	clerk := f.signIn(t, "clerk-a@test.cz")
	w = f.do(t, request{method: "POST", path: "/api/v1/invitations/" + token + "/accept", body: `{}`, sess: clerk})
	if w.Code != 403 || problemOf(t, w).Type != "/problems/invitation-wrong-account" {
		t.Fatalf("wrong account: %d %s", w.Code, w.Body)
	}
	citizen := f.signIn(t, "citizen@test.cz")
	w = f.do(t, request{method: "POST", path: "/api/v1/invitations/" + token + "/accept", body: `{}`, sess: citizen})
	if w.Code != 200 {
		t.Fatalf("accept: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/audit", sess: citizen}); w.Code != 200 {
		t.Fatalf("new auditor reads the audit log: %d", w.Code)
	}
	// The old password still works: the invitation did not touch it.
	f.signIn(t, "citizen@test.cz")
}

func TestInvitationLinkStates(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin-a@test.cz")
	accept := func(token string) (int, string) {
		w := f.do(t, request{method: "POST", path: "/api/v1/invitations/" + token + "/accept", body: `{"name":"X","password":"dlouhé heslo 123"}`})
		if w.Code == 200 {
			return 200, ""
		}
		return w.Code, problemOf(t, w).Type
	}
	inv, token := f.invite(t, admin, "a@test.cz", `["clerk"]`)
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/tenants/liberec/invitations/" + inv.Id.String(), sess: admin}); w.Code != 204 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if code, typ := accept(token); code != 410 || typ != "/problems/invitation-revoked" {
		t.Fatalf("revoked: %d %s", code, typ)
	}
	if f.auditCount(t, f.a, "invitation-revoked", "a@test.cz") != 1 {
		t.Error("no invitation-revoked audit entry")
	}
	// Resending replaces the open invitation.
	_, first := f.invite(t, admin, "b@test.cz", `["clerk"]`)
	inv2, second := f.invite(t, admin, "b@test.cz", `["auditor"]`)
	if code, typ := accept(first); code != 410 || typ != "/problems/invitation-revoked" {
		t.Fatalf("replaced: %d %s", code, typ)
	}
	ctxA := tenants.WithTenant(context.Background(), f.a.Tenant)
	if err := f.env.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = ?`, inv2.Id).Error
	}); err != nil {
		t.Fatal(err)
	}
	w := f.do(t, request{method: "GET", path: "/api/v1/invitations/" + second})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"expired":true`) {
		t.Fatalf("preview of an expired link: %d %s", w.Code, w.Body)
	}
	if code, typ := accept(second); code != 410 || typ != "/problems/invitation-expired" {
		t.Fatalf("expired: %d %s", code, typ)
	}
	if code, typ := accept(strings.Repeat("x", 43)); code != 404 || typ != "/problems/invitation-not-found" {
		t.Fatalf("unknown: %d %s", code, typ)
	}
	// Another tenant's admin path cannot revoke A's invitation.
	inv3, _ := f.invite(t, admin, "c@test.cz", `["clerk"]`)
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/tenants/kunzak/invitations/" + inv3.Id.String(), sess: admin}); w.Code != 403 {
		t.Fatalf("revoke through B: %d", w.Code)
	}
}

func TestMemberRoles(t *testing.T) {
	f := newFixture(t)
	f.user(t, "clerk-b@test.cz", f.b, "clerk")
	admin := f.signIn(t, "admin-a@test.cz")
	ids := map[string]string{}
	w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/members", sess: admin})
	var list gen.ListMembers200JSONResponse
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Items {
		ids[m.Email] = m.UserId.String()
	}
	var bID string
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = 'clerk-b@test.cz'`).Scan(&bID); err != nil {
		t.Fatal(err)
	}
	put := func(sess *session, tenant, id, body string) (int, string) {
		w := f.do(t, request{method: "PUT", path: "/api/v1/tenants/" + tenant + "/members/" + id + "/roles", body: body, sess: sess})
		if w.Code == 200 {
			return 200, w.Body.String()
		}
		return w.Code, problemOf(t, w).Type
	}
	if code, typ := put(admin, "liberec", ids["admin-a@test.cz"], `{"roles":["clerk"]}`); code != 409 || typ != "/problems/last-admin" {
		t.Fatalf("demote the last admin: %d %s", code, typ)
	}
	if code, typ := put(admin, "liberec", ids["admin-a@test.cz"], `{"roles":[]}`); code != 409 || typ != "/problems/last-admin" {
		t.Fatalf("remove the last admin: %d %s", code, typ)
	}
	if code, typ := put(admin, "liberec", bID, `{"roles":["tenant-admin"]}`); code != 404 || typ != "/problems/not-found" {
		t.Fatalf("B's user through A: %d %s", code, typ)
	}
	if code, typ := put(admin, "liberec", ids["clerk-a@test.cz"], `{"roles":["superuser"]}`); code != 400 || typ != "/problems/validation" {
		t.Fatalf("unknown role: %d %s", code, typ)
	}
	clerk := f.signIn(t, "clerk-a@test.cz")
	if code, _ := put(clerk, "liberec", ids["clerk-a@test.cz"], `{"roles":["tenant-admin"]}`); code != 403 {
		t.Fatalf("clerk promotes themself: %d", code)
	}
	if w := f.do(t, request{method: "POST", path: "/api/v1/tenants/liberec/invitations", sess: clerk,
		body: `{"email":"x@test.cz","roles":["clerk"]}`}); w.Code != 403 {
		t.Fatalf("clerk invites: %d", w.Code)
	}
	if code, body := put(admin, "liberec", ids["clerk-a@test.cz"], `{"roles":["tenant-admin","clerk"]}`); code != 200 || !strings.Contains(body, "tenant-admin") {
		t.Fatalf("promote: %d %s", code, body)
	}
	// The promotion takes effect at once: the former clerk may now invite.
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/invitations", sess: clerk}); w.Code != 200 {
		t.Fatalf("promoted clerk lists invitations: %d", w.Code)
	}
	if n := f.auditCount(t, f.a, "role-granted", "clerk-a@test.cz"); n != 1 {
		t.Errorf("role-granted entries: %d", n)
	}
	// Now the first admin can be removed, and loses access at once.
	if code, body := put(admin, "liberec", ids["admin-a@test.cz"], `{"roles":[]}`); code != 200 {
		t.Fatalf("remove admin: %d %s", code, body)
	}
	if n := f.auditCount(t, f.a, "role-revoked", "admin-a@test.cz"); n != 1 {
		t.Errorf("role-revoked entries: %d", n)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/members", sess: admin}); w.Code != 403 {
		t.Fatalf("removed admin lists members: %d", w.Code)
	}

}
