package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/identity"
)

// Catalogue municipalities used below: Turnov, Tanvald and Jablonec nad Nisou in Liberecký
// kraj (CZ051, like tenant A, Liberec); Hradec Králové in Královéhradecký kraj (CZ052).
const (
	turnov, turnovICO   = "577626", "00276227"
	tanvaldICO          = "00262587"
	jablonecICO         = "00262340"
	hradec, hradecICO   = "569810", "00268810"
	operatorEmail       = "operator@kraj.test"
	operatorHradecEmail = "operator-hk@kraj.test"
)

// operatorFixture adds the operators of CZ051 and CZ052.
func operatorFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	for email, kraj := range map[string]string{operatorEmail: "CZ051", operatorHradecEmail: "CZ052"} {
		u, err := f.identity.CreateUser(ctx, email, "Operátor "+kraj, password)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.identity.GrantPlatformRole(ctx, u.ID, identity.PlatformRole{Role: authz.RoleOperator, Scope: "kraj:" + kraj}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.authz.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// count runs a count through the platform role, which reads the registry, the audit logs,
// invitations and platform mail across tenants.
func (f *fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.env.Platform.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// countIn runs a count as the app role in tenant id's transaction (the mail log).
func (f *fixture) countIn(t *testing.T, id uuid.UUID, sql string, args ...any) int {
	t.Helper()
	var n int
	err := f.env.DB.InTx(tenants.WithTenant(context.Background(), tenants.Tenant{ID: id}), func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(sql, args...).Row().Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOperatorOnboardsMunicipalityOfTheKraj(t *testing.T) {
	f := operatorFixture(t)
	op := f.signIn(t, operatorEmail)

	me := decode[gen.Me](t, f.do(t, request{method: "GET", path: "/api/v1/me", sess: op}))
	if len(me.PlatformRoles) != 1 || me.PlatformRoles[0] != "operator:CZ051" {
		t.Fatalf("platform roles %v", me.PlatformRoles)
	}

	w := f.do(t, request{method: "GET", path: "/api/v1/operator/CZ051/municipalities?q=turnov", sess: op})
	list := decode[gen.OperatorListMunicipalities200JSONResponse](t, w)
	if w.Code != 200 || list.Total != 1 || list.Items[0].KodObce != turnov || list.Items[0].Tenant != nil {
		t.Fatalf("search: %d %s", w.Code, w.Body)
	}
	// Liberec is tenant A of the fixture, and in the kraj.
	list = decode[gen.OperatorListMunicipalities200JSONResponse](t, f.do(t, request{method: "GET",
		path: "/api/v1/operator/CZ051/municipalities?status=active", sess: op}))
	if list.Total != 1 || list.Items[0].Tenant == nil || list.Items[0].Tenant.Slug != "liberec" {
		t.Fatalf("active municipalities: %+v", list)
	}

	w = f.do(t, request{method: "POST", path: "/api/v1/operator/CZ051/tenants", sess: op,
		body: `{"kodObce":"` + turnov + `","modules":["waste"],"adminEmail":"starosta@turnov.test","adminName":"Starosta Turnova"}`})
	if w.Code != 201 {
		t.Fatalf("onboard: %d %s", w.Code, w.Body)
	}
	ten := decode[gen.OperatorTenant](t, w)
	if ten.Slug != "turnov" || ten.Status != "active" || strings.Join(ten.Modules, ",") != "waste" ||
		ten.AdminInvited == nil || !*ten.AdminInvited {
		t.Fatalf("onboarded: %s", w.Body)
	}
	if n := f.count(t, `SELECT count(*) FROM invitations WHERE tenant_id = $1 AND email = 'starosta@turnov.test'
		AND roles = '{tenant-admin}' AND invited_by IS NOT NULL`, ten.Id); n != 1 {
		t.Fatalf("%d invitations of the first admin", n)
	}
	if n := f.countIn(t, ten.Id, `SELECT count(*) FROM mail_log WHERE to_address = 'starosta@turnov.test'`); n != 1 {
		t.Fatalf("%d invitation e-mails", n)
	}
	for _, chain := range []string{"tenant_audit_log WHERE tenant_id = $1 AND", "platform_audit_log WHERE $1::uuid IS NOT NULL AND"} {
		if n := f.count(t, `SELECT count(*) FROM `+chain+` action = 'tenant-created' AND actor = '`+operatorEmail+`'`, ten.Id); n != 1 {
			t.Fatalf("%s: %d tenant-created entries", chain, n)
		}
	}
	// Onboarding it again is a clear conflict.
	w = f.do(t, request{method: "POST", path: "/api/v1/operator/CZ051/tenants", sess: op,
		body: `{"kodObce":"` + turnov + `","modules":[],"adminEmail":"x@turnov.test","adminName":"X"}`})
	if w.Code != 409 || problemOf(t, w).Type != "/problems/municipality-uses-epom" {
		t.Fatalf("second onboarding: %d %s", w.Code, w.Body)
	}
	// A module the deployment lacks is a field error.
	w = f.do(t, request{method: "PUT", path: "/api/v1/operator/CZ051/tenants/" + ten.Id.String() + "/modules", sess: op,
		body: `{"modules":["waste","astrology"]}`})
	if w.Code != 400 || problemOf(t, w).Errors[0].Field != "/modules/1" {
		t.Fatalf("unknown module: %d %s", w.Code, w.Body)
	}

	// Modules: the resolver sees the change at once.
	if pub := decode[gen.ListTenantModules200JSONResponse](t, f.do(t, request{method: "GET", path: "/api/v1/tenants/turnov/modules"})); len(pub.Items) != 0 {
		t.Fatalf("modules the registry of this test lacks are listed: %+v", pub.Items)
	}
	w = f.do(t, request{method: "PUT", path: "/api/v1/operator/CZ051/tenants/" + ten.Id.String() + "/modules", sess: op,
		body: `{"modules":["noticeboard"]}`})
	if w.Code != 200 || strings.Join(decode[gen.OperatorTenant](t, w).Modules, ",") != "noticeboard" {
		t.Fatalf("set modules: %d %s", w.Code, w.Body)
	}
	if r, err := f.resolver.BySlugOrID(context.Background(), "turnov"); err != nil || strings.Join(r.Modules, ",") != "noticeboard" {
		t.Fatalf("resolver after module change: %+v %v", r.Modules, err)
	}
	if n := f.count(t, `SELECT count(*) FROM tenant_audit_log WHERE tenant_id = $1 AND action = 'modules-changed'
		AND details->>'enabled' = 'noticeboard' AND details->>'disabled' = 'waste'`, ten.Id); n != 1 {
		t.Fatalf("%d modules-changed entries", n)
	}

	// Status: suspending needs a reason; a suspended tenant is refused to the public.
	path := "/api/v1/operator/CZ051/tenants/" + ten.Id.String() + "/status"
	w = f.do(t, request{method: "PUT", path: path, sess: op, body: `{"status":"suspended"}`})
	if w.Code != 400 || problemOf(t, w).Errors[0].Field != "/reason" {
		t.Fatalf("suspend without reason: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "PUT", path: path, sess: op, body: `{"status":"suspended","reason":"Nezaplaceno"}`})
	if w.Code != 200 || decode[gen.OperatorTenant](t, w).Status != "suspended" {
		t.Fatalf("suspend: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/turnov"}); w.Code != 403 {
		t.Fatalf("suspended tenant served: %d", w.Code)
	}
	for _, chain := range []string{"tenant_audit_log WHERE tenant_id = $1 AND", "platform_audit_log WHERE $1::uuid IS NOT NULL AND"} {
		if n := f.count(t, `SELECT count(*) FROM `+chain+` action = 'tenant-status' AND details->>'reason' = 'Nezaplaceno'`, ten.Id); n != 1 {
			t.Fatalf("%s: %d tenant-status entries", chain, n)
		}
	}
	w = f.do(t, request{method: "PUT", path: path, sess: op, body: `{"status":"active"}`})
	if w.Code != 200 {
		t.Fatalf("reactivate: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/turnov"}); w.Code != 200 {
		t.Fatalf("reactivated tenant: %d", w.Code)
	}
	// Usage of tenant A: its staff count and when they last signed in, no agenda.
	w = f.do(t, request{method: "GET", path: "/api/v1/operator/CZ051/tenants/" + f.a.ID.String(), sess: op})
	if u := decode[gen.OperatorTenant](t, w); w.Code != 200 || u.Staff != 2 || u.Slug != "liberec" || u.LastSignInAt != nil {
		t.Fatalf("usage: %d %s", w.Code, w.Body)
	}
	f.signIn(t, "clerk-a@test.cz")
	w = f.do(t, request{method: "GET", path: "/api/v1/operator/CZ051/tenants/" + f.a.ID.String(), sess: op})
	if u := decode[gen.OperatorTenant](t, w); u.LastSignInAt == nil {
		t.Fatalf("no last sign-in after a clerk signed in: %s", w.Body)
	}
	// The entries written in the onboarding transactions keep every chain intact.
	if rep, err := audit.New(f.env.DB, f.env.Platform).Verify(context.Background(), uuid.Nil); err != nil || !rep.OK() {
		t.Fatalf("audit chains: %+v %v", rep.Problems, err)
	}
}

func TestOperatorStaysInItsKrajAndOutOfAgendas(t *testing.T) {
	f := operatorFixture(t)
	op := f.signIn(t, operatorEmail)
	hk, err := f.env.Registry.Create(context.Background(), tenants.CreateParams{KodObce: hradec, Slug: "hradec", Status: tenants.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	hkID := hk.ID.String()
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"onboard a CZ052 municipality", "POST", "/api/v1/operator/CZ051/tenants",
			`{"kodObce":"` + hradec + `","modules":[],"adminEmail":"a@hk.test","adminName":"A"}`, 404},
		{"read a CZ052 tenant", "GET", "/api/v1/operator/CZ051/tenants/" + hkID, "", 404},
		{"modules of a CZ052 tenant", "PUT", "/api/v1/operator/CZ051/tenants/" + hkID + "/modules", `{"modules":[]}`, 404},
		{"suspend a CZ052 tenant", "PUT", "/api/v1/operator/CZ051/tenants/" + hkID + "/status", `{"status":"suspended","reason":"x"}`, 404},
		{"another kraj's console", "GET", "/api/v1/operator/CZ052/municipalities", "", 403},
		{"another kraj's tenant there", "GET", "/api/v1/operator/CZ052/tenants/" + hkID, "", 403},
		{"another kraj's requests", "GET", "/api/v1/operator/CZ052/subscription-requests", "", 403},
		{"platform tenants", "GET", "/api/v1/platform/tenants", "", 403},
		// Tenant A (Liberec) is in the operator's kraj, but its data is not the operator's.
		{"members of a tenant of the kraj", "GET", "/api/v1/tenants/liberec/members", "", 403},
		{"settings of a tenant of the kraj", "GET", "/api/v1/tenants/liberec/settings", "", 403},
		{"change its settings", "PUT", "/api/v1/tenants/liberec/settings", `{"displayName":"X"}`, 403},
		{"its mail log", "GET", "/api/v1/tenants/liberec/mail-log", "", 403},
		{"its audit log", "GET", "/api/v1/tenants/liberec/audit", "", 403},
		{"its exports", "GET", "/api/v1/tenants/liberec/exports", "", 403},
		{"export its data", "POST", "/api/v1/tenants/liberec/exports", `{}`, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(t, request{method: tc.method, path: tc.path, body: tc.body, sess: op})
			if w.Code != tc.status {
				t.Fatalf("%d, want %d: %s", w.Code, tc.status, w.Body)
			}
			problemOf(t, w)
			if strings.Contains(w.Body.String(), "MARKER-A") || strings.Contains(w.Body.String(), "hradec") {
				t.Fatalf("the answer leaks data: %s", w.Body)
			}
		})
	}
	if n := f.count(t, `SELECT count(*) FROM tenants WHERE kod_obce = $1`, hradec); n != 1 {
		t.Fatalf("a refused onboarding wrote a tenant")
	}
	// The console is the operators': staff of a tenant and anonymous callers are refused.
	admin := f.signIn(t, "admin-a@test.cz")
	if w := f.do(t, request{method: "GET", path: "/api/v1/operator/CZ051/municipalities", sess: admin}); w.Code != 403 {
		t.Fatalf("tenant admin in the console: %d", w.Code)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/operator/CZ051/municipalities"}); w.Code != 401 {
		t.Fatalf("anonymous in the console: %d", w.Code)
	}
	// Authorization comes before validation (nobody learns what a valid request would look
	// like where they have no rights): no operator holds the domain of a malformed kraj.
	if w := f.do(t, request{method: "GET", path: "/api/v1/operator/XX051/municipalities", sess: op}); w.Code != 403 {
		t.Fatalf("malformed kraj: %d", w.Code)
	}
}

type platformMail struct{ to, subject, text string }

func (f *fixture) platformMail(t *testing.T, to string) []platformMail {
	t.Helper()
	rows, err := f.env.Owner.Query(context.Background(), `SELECT to_address, subject, text_body FROM platform_mail
		WHERE to_address = $1 ORDER BY created_at, id`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []platformMail
	for rows.Next() {
		var m platformMail
		if err := rows.Scan(&m.to, &m.subject, &m.text); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func subscriptionBody(ico, email string, consent bool) string {
	return fmt.Sprintf(`{"ico":%q,"contactName":"Jana Nováková","email":%q,"phone":"+420 123 456 789","modules":["waste"],"note":"Co nejdřív.","consent":%t}`,
		ico, email, consent)
}

func TestOnlineSubscription(t *testing.T) {
	f := operatorFixture(t)
	submit := func(body string) *httptest.ResponseRecorder {
		return f.do(t, request{method: "POST", path: "/api/v1/subscription-requests", body: body})
	}
	field := func(w *httptest.ResponseRecorder, status int, name string) {
		t.Helper()
		if w.Code != status {
			t.Fatalf("%d, want %d: %s", w.Code, status, w.Body)
		}
		p := problemOf(t, w)
		for _, fe := range p.Errors {
			if fe.Field == name {
				return
			}
		}
		t.Fatalf("no field error %s: %s", name, w.Body)
	}
	field(submit(subscriptionBody("12345678", "a@obec.test", true)), 400, "/ico")
	field(submit(subscriptionBody(turnovICO, "a@obec.test", false)), 400, "/consent")
	field(submit(`{"ico":"`+turnovICO+`","contactName":"J","email":"a@obec.test","modules":[]}`), 400, "/consent")
	field(submit(`{"ico":"`+turnovICO+`","contactName":"J","email":"a@obec.test","modules":["astrology"],"consent":true}`), 400, "/modules/0")
	// A municipality that uses epom already (Liberec, tenant A).
	var liberecICO string
	if err := f.env.Owner.QueryRow(context.Background(), `SELECT ico FROM catalogue_municipalities WHERE kod_obce = '563889'`).Scan(&liberecICO); err != nil {
		t.Fatal(err)
	}
	if w := submit(subscriptionBody(liberecICO, "a@liberec.test", true)); w.Code != 409 || problemOf(t, w).Type != "/problems/municipality-uses-epom" {
		t.Fatalf("tenant municipality: %d %s", w.Code, w.Body)
	}
	// The honeypot: a bot gets a receipt, nothing is stored or sent.
	if w := submit(strings.TrimSuffix(subscriptionBody(jablonecICO, "bot@spam.test", true), "}") + `,"website":"http://spam"}`); w.Code != 201 {
		t.Fatalf("honeypot: %d %s", w.Code, w.Body)
	}
	if n := f.count(t, `SELECT count(*) FROM subscription_requests`); n != 0 || len(f.platformMail(t, "bot@spam.test")) != 0 {
		t.Fatalf("the honeypot stored %d requests", n)
	}
	if n := f.count(t, `SELECT count(*) FROM platform_mail`); n != 0 {
		t.Fatalf("refused requests sent %d e-mails", n)
	}

	// A good request: a receipt to the applicant, a notice to the kraj's operator only.
	w := submit(subscriptionBody(turnovICO, "Jana@Turnov.test", true))
	if w.Code != 201 || decode[gen.SubscriptionReceipt](t, w).Municipality != "Turnov" {
		t.Fatalf("submit: %d %s", w.Code, w.Body)
	}
	if m := f.platformMail(t, "jana@turnov.test"); len(m) != 1 || !strings.Contains(m[0].subject, "přijali") {
		t.Fatalf("receipt: %+v", m)
	}
	if m := f.platformMail(t, operatorEmail); len(m) != 1 || !strings.Contains(m[0].subject, "Nová žádost") {
		t.Fatalf("operator notice: %+v", m)
	}
	if m := f.platformMail(t, operatorHradecEmail); len(m) != 0 {
		t.Fatalf("another kraj's operator was told: %+v", m)
	}
	if w := submit(subscriptionBody(turnovICO, "other@turnov.test", true)); w.Code != 409 || problemOf(t, w).Type != "/problems/subscription-pending" {
		t.Fatalf("duplicate: %d %s", w.Code, w.Body)
	}
	if w := submit(subscriptionBody(tanvaldICO, "tanvald@obec.test", true)); w.Code != 201 {
		t.Fatalf("second request: %d %s", w.Code, w.Body)
	}
	if w := submit(subscriptionBody(hradecICO, "hk@obec.test", true)); w.Code != 201 {
		t.Fatalf("CZ052 request: %d %s", w.Code, w.Body)
	}

	op := f.signIn(t, operatorEmail)
	list := decode[gen.OperatorListSubscriptionRequests200JSONResponse](t, f.do(t, request{method: "GET",
		path: "/api/v1/operator/CZ051/subscription-requests?status=pending", sess: op}))
	byICO := map[string]gen.SubscriptionRequest{}
	for _, q := range list.Items {
		byICO[q.Ico] = q
	}
	if len(list.Items) != 2 || byICO[turnovICO].Email != "jana@turnov.test" || byICO[hradecICO].Id.String() != "00000000-0000-0000-0000-000000000000" {
		t.Fatalf("the kraj's queue: %+v", list.Items)
	}
	var hkReq string
	if err := f.env.Owner.QueryRow(context.Background(), `SELECT id::text FROM subscription_requests WHERE ico = $1`, hradecICO).Scan(&hkReq); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"approve", "reject"} {
		w := f.do(t, request{method: "POST", path: "/api/v1/operator/CZ051/subscription-requests/" + hkReq + "/" + action,
			sess: op, body: `{"reason":"x"}`})
		if action == "approve" {
			w = f.do(t, request{method: "POST", path: "/api/v1/operator/CZ051/subscription-requests/" + hkReq + "/approve", sess: op, body: `{}`})
		}
		if w.Code != 404 {
			t.Fatalf("%s another kraj's request: %d %s", action, w.Code, w.Body)
		}
	}

	// Approve: the tenant with the requested modules, the approval e-mail, the invitation.
	turnovReq := byICO[turnovICO].Id.String()
	approve := func() *httptest.ResponseRecorder {
		return f.do(t, request{method: "POST", path: "/api/v1/operator/CZ051/subscription-requests/" + turnovReq + "/approve",
			sess: op, body: `{"slug":"mesto-turnov"}`})
	}
	w = approve()
	q := decode[gen.SubscriptionRequest](t, w)
	if w.Code != 200 || q.Status != "approved" || q.TenantSlug == nil || *q.TenantSlug != "mesto-turnov" || q.DecidedAt == nil {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	tn, err := f.env.Registry.BySlugOrID(context.Background(), "mesto-turnov")
	if err != nil || tn.Status != tenants.StatusActive || strings.Join(tn.Modules, ",") != "waste" {
		t.Fatalf("approved tenant: %+v %v", tn, err)
	}
	if m := f.platformMail(t, "jana@turnov.test"); len(m) != 2 || !strings.Contains(m[1].subject, "schválena") {
		t.Fatalf("approval e-mail: %+v", m)
	}
	if n := f.count(t, `SELECT count(*) FROM invitations WHERE tenant_id = $1 AND email = 'jana@turnov.test' AND roles = '{tenant-admin}'`, tn.ID); n != 1 {
		t.Fatalf("%d invitations of the applicant", n)
	}
	// Approving again changes nothing but renews the invitation.
	if w := approve(); w.Code != 200 {
		t.Fatalf("approve again: %d %s", w.Code, w.Body)
	}
	if n := f.count(t, `SELECT count(*) FROM tenants WHERE kod_obce = $1`, turnov); n != 1 {
		t.Fatalf("%d tenants after approving twice", n)
	}
	if n := f.count(t, `SELECT count(*) FROM invitations WHERE tenant_id = $1 AND revoked_at IS NULL`, tn.ID); n != 1 {
		t.Fatalf("%d open invitations after approving twice", n)
	}
	if w := f.do(t, request{method: "POST", path: "/api/v1/operator/CZ051/subscription-requests/" + turnovReq + "/reject",
		sess: op, body: `{"reason":"Pozdě"}`}); w.Code != 409 {
		t.Fatalf("reject an approved request: %d %s", w.Code, w.Body)
	}

	// Reject: a reason is required and goes to the applicant.
	tanvaldReq := byICO[tanvaldICO].Id.String()
	reject := func(body string) *httptest.ResponseRecorder {
		return f.do(t, request{method: "POST", path: "/api/v1/operator/CZ051/subscription-requests/" + tanvaldReq + "/reject", sess: op, body: body})
	}
	field(reject(`{}`), 400, "/reason")
	field(reject(`{"reason":"   "}`), 400, "/reason")
	w = reject(`{"reason":"Obec už má smlouvu s jiným dodavatelem."}`)
	if w.Code != 200 || decode[gen.SubscriptionRequest](t, w).Status != "rejected" {
		t.Fatalf("reject: %d %s", w.Code, w.Body)
	}
	if m := f.platformMail(t, "tanvald@obec.test"); len(m) != 2 || !strings.Contains(m[1].subject, "zamítnuta") ||
		!strings.Contains(m[1].text, "Obec už má smlouvu s jiným dodavatelem.") {
		t.Fatalf("rejection e-mail: %+v", m)
	}
	if n := f.count(t, `SELECT count(*) FROM tenants WHERE kod_obce = (SELECT kod_obce FROM catalogue_municipalities WHERE ico = $1)`, tanvaldICO); n != 0 {
		t.Fatalf("a rejected request made a tenant")
	}
	// After a rejection the municipality may ask again.
	if w := submit(subscriptionBody(tanvaldICO, "tanvald@obec.test", true)); w.Code != 201 {
		t.Fatalf("new request after rejection: %d %s", w.Code, w.Body)
	}
}

func TestSubscriptionRateLimit(t *testing.T) {
	f := operatorFixture(t)
	// Five requests from the test client's address within the hour fill its quota.
	if _, err := f.env.Owner.Exec(context.Background(), `INSERT INTO subscription_requests
		(id, kod_obce, kraj_nuts, ico, contact_name, email, status, reason, decided_at, ip)
		SELECT gen_random_uuid(), '`+turnov+`', 'CZ051', '`+turnovICO+`', 'X', 'x@x.test', 'rejected', 'spam', now(), '192.0.2.1'
		FROM generate_series(1, 5)`); err != nil {
		t.Fatal(err)
	}
	w := f.do(t, request{method: "POST", path: "/api/v1/subscription-requests", body: subscriptionBody(tanvaldICO, "t@obec.test", true)})
	if w.Code != 429 || problemOf(t, w).Type != "/problems/too-many-attempts" {
		t.Fatalf("over the limit: %d %s", w.Code, w.Body)
	}
}
