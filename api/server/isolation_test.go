package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/internal/calendar"
	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/identity/oidc"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/onboarding"
)

// The isolation walk (issue #4): every operation of the spec, called by the staff of tenant A,
// by an API token of A, anonymously and by the regional operator of A's kraj, with tenant B's
// slug or with A's slug and B's real object ids, answers 403 or 404, never shows anything of B
// and leaves B's objects as they were. The operator is also refused every agenda operation of
// A, and finds nothing of B (another kraj) in its own console. New operations are walked
// without anyone touching this file, except that every path parameter needs a fixture that
// makes a real object of B (idFixtures), and a public operation with a path parameter needs
// an entry in capabilities, so no operation slips through untested.

// multipartBoundary marks a sample body that is multipart/form-data, not JSON.
const multipartBoundary = "epom-walk"

// markerB is seeded into B's data; no answer to A may contain it.
const markerB = "MARKER-B"

// tenantB is what the walk knows of tenant B: values that identify it, and B's staff.
type tenantB struct {
	f      *fixture
	ctx    context.Context // bound to B
	admin  identity.User
	clerk  identity.User
	values []string // identifying values of B that no refused answer may contain
	// intact checks, after the walk, that an object a fixture made is as it was: a refused
	// request must not have changed it either.
	intact []func(t *testing.T)
	inv    *invitationB        // made on first use; the token and the id name the same invitation
	notice *noticeboard.Notice // noticeboard: B's posted notice with a document
}

// postedNotice makes (once) a posted notice of B with a document and a first revision.
func (b *tenantB) postedNotice(t *testing.T) noticeboard.Notice {
	t.Helper()
	if b.notice != nil {
		return *b.notice
	}
	svc := b.f.noticeboard.Service()
	by := noticeboard.Actor{UserID: b.admin.ID, Email: b.admin.Email}
	n, err := svc.Create(b.ctx, by, noticeboard.Draft{Title: markerB + " vyhláška", Category: "vyhlasky"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddAttachment(b.ctx, by, n.ID, "marker-b.pdf", []byte("%PDF-1.4 "+markerB)); err != nil {
		t.Fatal(err)
	}
	if n, err = svc.Publish(b.ctx, by, n.ID); err != nil {
		t.Fatal(err)
	}
	b.notice = &n
	return n
}

// invitationB is a pending invitation of B to an address without an account.
type invitationB struct {
	id    uuid.UUID
	token string // the secret of the accept link
}

func (b *tenantB) invitation(t *testing.T) *invitationB {
	t.Helper()
	if b.inv != nil {
		return b.inv
	}
	inv, err := b.f.kernel.Staff.Invite(b.ctx, identity.InviteParams{Email: "pozvany@marker-b.test", Name: markerB + " pozvaný",
		Roles: []string{authz.RoleClerk}, InvitedBy: &b.admin.ID, InviterName: b.admin.Name})
	if err != nil {
		t.Fatal(err)
	}
	link, err := url.Parse(inv.Link)
	if err != nil || link.Query().Get("token") == "" {
		t.Fatalf("invitation link %q: %v", inv.Link, err)
	}
	b.inv = &invitationB{id: inv.ID, token: link.Query().Get("token")}
	b.intact = append(b.intact, func(t *testing.T) {
		list, err := b.f.kernel.Staff.Invitations(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range list {
			if i.ID == inv.ID {
				if st := i.Status(b.f.kernel.Staff.Now()); st != identity.InvitationPending {
					t.Errorf("B's invitation is %s after the walk, want pending", st)
				}
				return
			}
		}
		t.Error("B's invitation is gone after the walk")
	})
	return b.inv
}

// notIdentifying are path parameters whose value is not B's alone, so it is not looked for in
// answers: every account may link the same provider. The object (B's link) is checked in
// the database after the walk instead.
var notIdentifying = map[string]bool{"provider": true}

// idFixture makes a real object of tenant B and returns its id as it goes into the path.
type idFixture func(t *testing.T, b *tenantB) string

// idFixtures are keyed by "<spec path> <parameter>" for a parameter whose name is generic
// ("id"), or by the parameter name alone. A new path parameter fails the walk until it has one.
var idFixtures = map[string]idFixture{
	"exportId": func(t *testing.T, b *tenantB) string {
		j, err := b.f.exports.Request(b.ctx, b.admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		return j.ID.String()
	},
	"/api/v1/tenants/{tenant}/mail-log/{id} id": func(t *testing.T, b *tenantB) string {
		id, err := b.f.mail.Queue(b.ctx, email.Message{Template: "notification", Lang: "cs", To: "obcan@marker-b.test",
			Ref: "marker-b:1", Data: &mail.Notification{Title: markerB + " zpráva", Paragraphs: []string{markerB}}})
		if err != nil {
			t.Fatal(err)
		}
		return id.String()
	},
	"tokenId": func(t *testing.T, b *tenantB) string {
		tok, _, err := b.f.tokens.Create(b.ctx, apitokens.Actor{ID: b.admin.ID, Email: b.admin.Email},
			apitokens.NewToken{Name: markerB + " token", Scopes: []string{"tenant.settings:read"}})
		if err != nil {
			t.Fatal(err)
		}
		b.intact = append(b.intact, func(t *testing.T) {
			if got, err := b.f.tokens.Get(b.ctx, tok.ID); err != nil || got.RevokedAt != nil {
				t.Errorf("B's API token after the walk: revoked at %v, %v", got.RevokedAt, err)
			}
		})
		return tok.ID.String()
	},
	// noticeboard
	"noticeId":     func(t *testing.T, b *tenantB) string { return b.postedNotice(t).ID.String() },
	"attachmentId": func(t *testing.T, b *tenantB) string { return b.postedNotice(t).Attachments[0].ID.String() },
	"revision":     func(t *testing.T, b *tenantB) string { return "1" },
	// A snapshot day of B's board (its content names B's notice).
	"day": func(t *testing.T, b *tenantB) string {
		b.postedNotice(t)
		if _, _, err := b.f.noticeboard.Service().TakeSnapshot(b.ctx, calendar.NewDate(2026, 11, 22)); err != nil {
			t.Fatal(err)
		}
		return "2026-11-22"
	},
	// Platform operations name a tenant by id.
	"tenantId": func(t *testing.T, b *tenantB) string {
		before, err := b.f.env.Registry.BySlugOrID(context.Background(), b.f.b.ID.String())
		if err != nil {
			t.Fatal(err)
		}
		b.intact = append(b.intact, func(t *testing.T) {
			after, err := b.f.env.Registry.BySlugOrID(context.Background(), b.f.b.ID.String())
			if err != nil || after.Status != before.Status || !slices.Equal(after.Modules, before.Modules) {
				t.Errorf("tenant B after the walk: %s %v (%v), before %s %v", after.Status, after.Modules, err, before.Status, before.Modules)
			}
		})
		return b.f.b.ID.String()
	},
	// members: B's clerk, whose roles nobody outside B may change, and whose two-factor
	// sign-in and session nobody outside B may reset.
	"userId": func(t *testing.T, b *tenantB) string {
		ctx := context.Background()
		if err := b.f.identity.EnrolTOTPWithSecret(ctx, b.clerk, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"); err != nil {
			t.Fatal(err)
		}
		token, _, err := b.f.identity.StartSession(ctx, b.clerk.ID, "192.0.2.67", "marker-b clerk", identity.AssurancePasswordTOTP)
		if err != nil {
			t.Fatal(err)
		}
		b.intact = append(b.intact, func(t *testing.T) {
			if n := b.f.countIn(t, b.f.b.ID, `SELECT count(*) FROM memberships WHERE user_id = ? AND role = ?`, b.clerk.ID, authz.RoleClerk); n != 1 {
				t.Errorf("B's clerk lost the role in B")
			}
			if on, err := b.f.identity.HasTOTP(ctx, b.clerk.ID); err != nil || !on {
				t.Errorf("B's clerk lost two-factor sign-in: %v", err)
			}
			if _, err := b.f.identity.Session(ctx, token); err != nil {
				t.Errorf("B's clerk was signed out: %v", err)
			}
		})
		return b.clerk.ID.String()
	},
	// members: a pending invitation of B, by its id (the admin's list) and by the secret of its
	// link (the invitee's page).
	"invitationId": func(t *testing.T, b *tenantB) string { return b.invitation(t).id.String() },
	"token":        func(t *testing.T, b *tenantB) string { return b.invitation(t).token },
	// mfa: a live session of B's admin, named by its public id.
	"sessionId": func(t *testing.T, b *tenantB) string {
		_, s, err := b.f.identity.StartSession(context.Background(), b.admin.ID, "192.0.2.66", "marker-b browser", identity.AssurancePassword)
		if err != nil {
			t.Fatal(err)
		}
		b.intact = append(b.intact, func(t *testing.T) {
			list, err := b.f.identity.Sessions(context.Background(), b.admin.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range list {
				if l.PublicID == s.PublicID {
					return
				}
			}
			t.Error("B's admin's session is gone after the walk")
		})
		return s.PublicID.String()
	},
	// oidc: B's admin has linked an external identity (NIA, the citizen identity).
	"provider": func(t *testing.T, b *tenantB) string {
		if _, err := b.f.env.App.Exec(context.Background(), `INSERT INTO user_identities (provider, subject, user_id, email, created_at, last_used_at)
			VALUES ('nia', 'marker-b-subject', $1, $2, now(), now())`, b.admin.ID, b.admin.Email); err != nil {
			t.Fatal(err)
		}
		b.intact = append(b.intact, func(t *testing.T) {
			if n := b.f.count(t, `SELECT count(*) FROM user_identities WHERE user_id = $1 AND provider = 'nia'`, b.admin.ID); n != 1 {
				t.Error("B's admin's NIA identity is unlinked after the walk")
			}
		})
		return "nia"
	},
	// operator: the console of B's kraj, and a subscription request of a municipality there.
	"kraj": func(t *testing.T, b *tenantB) string { return b.f.b.KrajNUTS },
	"requestId": func(t *testing.T, b *tenantB) string {
		var ico string
		if err := b.f.env.Platform.QueryRow(context.Background(), `SELECT ico FROM catalogue_municipalities
			WHERE kraj_kod_nuts = $1 AND ico <> '' AND kod_obce NOT IN (SELECT kod_obce FROM tenants)
			ORDER BY kod_obce LIMIT 1`, b.f.b.KrajNUTS).Scan(&ico); err != nil {
			t.Fatal(err)
		}
		rc, err := b.f.onboarding.Submit(context.Background(), onboarding.SubmitParams{ICO: ico, ContactName: markerB + " žadatel",
			Email: "zadatel@marker-b.test", Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		b.intact = append(b.intact, func(t *testing.T) {
			if n := b.f.count(t, `SELECT count(*) FROM subscription_requests WHERE id = $1 AND status = 'pending'`, rc.ID); n != 1 {
				t.Error("the subscription request in B's kraj was decided during the walk")
			}
		})
		return rc.ID.String()
	},
}

// bodyOverrides are request bodies for operations whose schema alone does not give a valid
// minimal body (a pattern without an example, a cross-field rule).
var bodyOverrides = map[string]string{
	"createTenant": `{"kodObce":"564061"}`,
	// noticeboard: a multipart upload (walk sends bodies starting with multipartBoundary as such).
	"uploadNoticeAttachment": "--" + multipartBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n" +
		"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--" + multipartBoundary + "--\r\n",
	// operator:
	"submitSubscriptionRequest": `{"ico":"00000000","contactName":"x","email":"x@x.cz","modules":[],"consent":true}`,
	"operatorOnboardTenant":     `{"kodObce":"564061","modules":[],"adminEmail":"x@x.cz","adminName":"x"}`,
	// mfa: a code is six digits (eight for a recovery code).
	"confirmTotp":             `{"code":"123456"}`,
	"regenerateRecoveryCodes": `{"code":"123456"}`,
	// A reason of at least three characters.
	"resetMemberMfa": `{"reason":"isolation walk"}`,
}

func seedTenantB(t *testing.T, f *fixture) *tenantB {
	t.Helper()
	ctx := context.Background()
	b := &tenantB{f: f, ctx: tenants.WithTenant(ctx, f.b.Tenant)}
	f.user(t, "admin-b@marker-b.test", f.b, authz.RoleTenantAdmin)
	f.user(t, "clerk-b@marker-b.test", f.b, authz.RoleClerk)
	var err error
	if b.admin, err = f.identity.UserByEmail(ctx, "admin-b@marker-b.test"); err != nil {
		t.Fatal(err)
	}
	if b.clerk, err = f.identity.UserByEmail(ctx, "clerk-b@marker-b.test"); err != nil {
		t.Fatal(err)
	}
	if err := f.authz.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.settings.Put(b.ctx, tenants.Settings{DisplayName: "Kunžak " + markerB, ContactEmail: "urad@marker-b.test"}, b.admin.ID); err != nil {
		t.Fatal(err)
	}
	b.values = []string{f.b.Slug, f.b.ID.String(), markerB, "marker-b.test", b.admin.ID.String(), b.clerk.ID.String()}
	return b
}

// pathFor fills the operation's path: {tenant} with tenant, every other parameter with a real
// id of B from its fixture (made once per parameter and shared between operations).
func pathFor(t *testing.T, op *httpx.Operation, tenant string, b *tenantB, ids map[string]string) (string, error) {
	t.Helper()
	path := op.Path
	for _, seg := range strings.Split(op.Path, "/") {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		name := strings.Trim(seg, "{}")
		if name == "tenant" {
			path = strings.ReplaceAll(path, seg, tenant)
			continue
		}
		key := op.Path + " " + name
		fx, ok := idFixtures[key]
		if !ok {
			key = name
			fx, ok = idFixtures[name]
		}
		if !ok {
			return "", fmt.Errorf("%s (%s %s): no fixture for path parameter {%s}. Add one to idFixtures in api/server/isolation_test.go "+
				"that creates a real object in tenant B and returns its id (key %q, or %q if the name is generic)",
				op.ID, op.Method, op.Path, name, name, op.Path+" "+name)
		}
		if _, done := ids[key]; !done {
			ids[key] = fx(t, b)
			// A short value (a revision number) would "leak" into any answer; ids are long.
			if !notIdentifying[name] && len(ids[key]) >= 8 {
				b.values = append(b.values, ids[key])
			}
		}
		path = strings.ReplaceAll(path, seg, ids[key])
	}
	return path, nil
}

// sampleBody builds a minimal valid JSON body from the operation's request schema, so the
// request passes validation and reaches the authorization and lookup it is meant to test.
func sampleBody(t *testing.T, spec *httpx.Spec, op *httpx.Operation) string {
	t.Helper()
	if !op.HasBody {
		return ""
	}
	if b, ok := bodyOverrides[op.ID]; ok {
		return b
	}
	schemas := server.RequestSchemasForTest(spec, op)
	if len(schemas) == 0 {
		return ""
	}
	v := sample(schemas[0])
	if err := schemas[0].VisitJSON(roundTrip(v)); err != nil {
		t.Errorf("%s: the generated body %s is not valid (%v); add a minimal valid body to bodyOverrides in api/server/isolation_test.go",
			op.ID, mustJSON(v), err)
	}
	return mustJSON(v)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// roundTrip gives v the types the JSON decoder would (float64 numbers), as VisitJSON expects.
func roundTrip(v any) any {
	var out any
	_ = json.Unmarshal([]byte(mustJSON(v)), &out)
	return out
}

func sample(s *openapi3.Schema) any {
	if len(s.AllOf) > 0 {
		merged := map[string]any{}
		for _, part := range s.AllOf {
			if m, ok := sample(part.Value).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		return merged
	}
	if len(s.OneOf) > 0 {
		return sample(s.OneOf[0].Value)
	}
	if len(s.AnyOf) > 0 {
		return sample(s.AnyOf[0].Value)
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Default != nil {
		return s.Default
	}
	switch {
	case s.Type.Is("object") || len(s.Properties) > 0:
		out := map[string]any{}
		for _, name := range s.Required {
			if p := s.Properties[name]; p != nil && p.Value != nil {
				out[name] = sample(p.Value)
			}
		}
		return out
	case s.Type.Is("array"):
		out := []any{}
		if s.Items != nil && s.Items.Value != nil {
			for i := uint64(0); i < s.MinItems; i++ {
				out = append(out, sample(s.Items.Value))
			}
		}
		return out
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case s.Type.Is("boolean"):
		return true
	}
	if s.Example != nil {
		return s.Example
	}
	switch s.Format {
	case "uuid":
		return tenants.NewID().String()
	case "date-time":
		return time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	case "date":
		return time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	case "email":
		return "walker@example.test"
	}
	n := int(s.MinLength)
	if n == 0 {
		n = 1
	}
	return strings.Repeat("x", n)
}

// walker sends requests as one kind of caller.
type walker struct {
	name     string
	sess     *session // staff session with its CSRF token
	bearer   string   // API token
	operator bool     // a regional operator (of tenant A's kraj)
}

func (f *fixture) walk(t *testing.T, w walker, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	switch {
	case strings.HasPrefix(body, "--"+multipartBoundary):
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+multipartBoundary)
	case body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if w.sess != nil {
		req.AddCookie(w.sess.cookie)
		req.Header.Set(server.CSRFHeader, w.sess.csrf)
	}
	if w.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+w.bearer)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// leak returns the first identifying value of B in the answer.
func (b *tenantB) leak(rec *httptest.ResponseRecorder) string { return leakOf(rec, b.values) }

// leakExcept is leak for an answer that may show the values in mayShow.
func (b *tenantB) leakExcept(rec *httptest.ResponseRecorder, mayShow []string) string {
	var values []string
	for _, v := range b.values {
		if !slices.Contains(mayShow, v) {
			values = append(values, v)
		}
	}
	return leakOf(rec, values)
}

// leakOf returns the first of values in the answer. A problem's instance echoes the request
// path, which the caller wrote, so it is left out.
func leakOf(rec *httptest.ResponseRecorder, values []string) string {
	body := rec.Body.String()
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		var p map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &p) == nil {
			delete(p, "instance")
			body = mustJSON(p)
		}
	}
	for _, v := range values {
		if v != "" && strings.Contains(strings.ToLower(body), strings.ToLower(v)) {
			return v
		}
	}
	return ""
}

// capabilities are the public operations whose path parameter is itself the secret that
// grants access (the token of an invitation link): for them holding B's real secret is not
// "another tenant's id", so the walk states what the holder may and may not do instead of
// expecting a refusal. A new public operation with a path parameter fails the walk until it
// is listed here.
var capabilities = map[string]func(c walker) capability{
	// The accept page shows whoever holds the link what it is for: the municipality's name
	// and address, the invited address and the inviter. Nothing else of B (no ids).
	"getInvitation": func(walker) capability {
		return capability{status: 200, mayShow: []string{"kunzak", markerB, "marker-b.test"}}
	},
	// The holder of the link may accept it, but only as the invited address: a signed-in
	// account of another address (A's staff, A's token, the operator) is refused; someone
	// not signed in must give the new account's name and password, which the walk's empty
	// body does not, so it is refused by the field. Either way B's invitation stays pending
	// (checked after the walk); members_test proves the accepting itself.
	"acceptInvitation": func(c walker) capability {
		if c.sess == nil && c.bearer == "" {
			return capability{status: 400, problem: "/problems/validation"}
		}
		return capability{status: 403, problem: "/problems/invitation-wrong-account"}
	},
}

// capability is what a caller holding B's secret gets.
type capability struct {
	status  int
	problem string   // its type, when status is a problem
	mayShow []string // values of B the answer may contain
}

func TestIsolationWalk(t *testing.T) {
	f := operatorFixture(t)
	b := seedTenantB(t, f)
	ctx := context.Background()
	// A real store of linked identities, so that unlinking B's looks where it would be found.
	f.kernel.OIDC = oidc.New(f.env.App, []config.OIDCProvider{{ID: "nia", Name: "NIA"}}, "http://epom.test")
	adminA, err := f.identity.UserByEmail(ctx, "admin-a@test.cz")
	if err != nil {
		t.Fatal(err)
	}
	// A's token carries every scope a token may have.
	_, tokenA, err := f.tokens.Create(tenants.WithTenant(ctx, f.a.Tenant), apitokens.Actor{ID: adminA.ID, Email: adminA.Email},
		apitokens.NewToken{Name: "walker", Scopes: apitokens.Grantable(f.authz.Permissions())})
	if err != nil {
		t.Fatal(err)
	}
	// Control: B's own admin sees the markers, so the leak check would catch them.
	if rec := f.walk(t, walker{name: "admin-B", sess: f.signIn(t, "admin-b@marker-b.test")}, "GET", "/api/v1/tenants/kunzak/settings", ""); rec.Code != 200 || b.leak(rec) == "" {
		t.Fatalf("B's admin does not see B's settings: %d %s", rec.Code, rec.Body)
	}
	// The operator of Liberecký kraj (CZ051), where tenant A is; B (Kunžak) is in another kraj.
	const ownKraj = "CZ051"
	if f.a.KrajNUTS != ownKraj || f.b.KrajNUTS == ownKraj {
		t.Fatalf("A is in %s and B in %s: the operator's walk needs A in %s and B elsewhere", f.a.KrajNUTS, f.b.KrajNUTS, ownKraj)
	}
	// A's agenda data, which the operator of its kraj must not see either.
	valuesA := []string{"MARKER-A", "marker-a@liberec.test", f.a.ID.String(), adminA.ID.String(), "admin-a@test.cz", "clerk-a@test.cz"}
	callers := []walker{
		{name: "clerk-A", sess: f.signIn(t, "clerk-a@test.cz")},
		{name: "admin-A", sess: f.signIn(t, "admin-a@test.cz")},
		{name: "token-A", bearer: tokenA},
		{name: "anonymous"},
		{name: "operator-" + ownKraj, sess: f.signIn(t, operatorEmail), operator: true},
	}
	ids := map[string]string{}
	ops := f.spec.Operations()
	sort.Slice(ops, func(i, j int) bool { return ops[i].ID < ops[j].ID })
	walked := 0
	// fill stops the subtest of an operation whose path cannot be filled with B's ids.
	fill := func(t *testing.T, op *httpx.Operation, tenant string) string {
		t.Helper()
		path, err := pathFor(t, op, tenant, b, ids)
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, op := range ops {
		body := sampleBody(t, f.spec, op)
		tenantScoped := strings.Contains(op.Path, "{tenant}")
		public := op.Permission == httpx.PermissionPublic
		// Outside a tenant, a permission other than public/authenticated is checked in the
		// platform's or a kraj's domain, where A's staff hold nothing.
		platform := !tenantScoped && !public && op.Permission != httpx.PermissionAuthenticated
		hasIDs := strings.Count(op.Path, "{") > strings.Count(op.Path, "{tenant}")
		capability, isCapability := capabilities[op.ID]

		check := func(t *testing.T, c walker, path string, allowed ...int) *httptest.ResponseRecorder {
			t.Helper()
			rec := f.walk(t, c, op.Method, path, body)
			if !slices.Contains(allowed, rec.Code) {
				t.Errorf("%s %s %s as %s: HTTP %d, want one of %v: %s", op.ID, op.Method, path, c.name, rec.Code, allowed, rec.Body)
			}
			if v := b.leak(rec); v != "" {
				t.Errorf("%s %s %s as %s shows B's %q: %s", op.ID, op.Method, path, c.name, v, rec.Body)
			}
			walked++
			return rec
		}
		for _, c := range callers {
			refused := []int{403, 404}
			if c.name == "anonymous" {
				refused = []int{401, 403, 404}
			}
			t.Run(op.ID+"/"+c.name, func(t *testing.T) {
				switch {
				case tenantScoped:
					// B's slug, B's ids. Public operations show B's public profile to anyone
					// but a token of another tenant.
					if !public || c.bearer != "" {
						check(t, c, fill(t, op, f.b.Slug), refused...)
					}
					// A's slug with B's ids: B's objects are not found under A.
					if hasIDs {
						check(t, c, fill(t, op, f.a.Slug), refused...)
					}
					// A is in the operator's kraj, but its agenda is not the operator's: every
					// tenant operation is refused by permission (403, before any lookup) and
					// shows nothing of A.
					if c.operator && !public {
						rec := check(t, c, fill(t, op, f.a.Slug), 403)
						if v := leakOf(rec, valuesA); v != "" {
							t.Errorf("%s %s as %s shows A's %q: %s", op.ID, op.Method, c.name, v, rec.Body)
						}
					}
				case public && hasIDs:
					if !isCapability {
						t.Fatalf("%s (%s %s) is public and takes a path parameter: say in capabilities in api/server/isolation_test.go "+
							"what the holder of B's real value may do", op.ID, op.Method, op.Path)
					}
					want := capability(c)
					path := fill(t, op, "")
					rec := f.walk(t, c, op.Method, path, body)
					if rec.Code != want.status {
						t.Errorf("%s %s %s as %s: HTTP %d, want %d: %s", op.ID, op.Method, path, c.name, rec.Code, want.status, rec.Body)
					} else if want.problem != "" {
						if p := problemOf(t, rec); p.Type != want.problem {
							t.Errorf("%s %s %s as %s: %s, want %s", op.ID, op.Method, path, c.name, p.Type, want.problem)
						}
					}
					if v := b.leakExcept(rec, want.mayShow); v != "" {
						t.Errorf("%s %s %s as %s shows B's %q: %s", op.ID, op.Method, path, c.name, v, rec.Body)
					}
					walked++
				case platform:
					want := []int{403}
					if c.name == "anonymous" {
						want = []int{401}
					}
					path := fill(t, op, "")
					check(t, c, path, want...)
					// In the operator's own kraj, B's tenant and B's kraj's requests are not
					// found, and what the kraj lists shows nothing of B.
					if c.operator && strings.Contains(op.Path, "{kraj}") {
						own := strings.Replace(path, "/operator/"+f.b.KrajNUTS+"/", "/operator/"+ownKraj+"/", 1)
						switch {
						case strings.Count(op.Path, "{") > 1:
							check(t, c, own, 403, 404)
						case op.Method == "GET":
							check(t, c, own, 200)
						}
					}
				case hasIDs:
					// An account's objects by id (B's staff's): not A's.
					check(t, c, fill(t, op, ""), refused...)
				}
			})
		}
	}
	if walked == 0 {
		t.Fatal("the walk made no request")
	}
	// Refused requests changed nothing of B's.
	for _, ok := range b.intact {
		ok(t)
	}
	t.Logf("%d requests over %d operations", walked, len(ops))
}

// TestIsolationWalkFailsForUnknownParameter proves the walk cannot be passed by an operation
// whose path parameter it cannot fill.
func TestIsolationWalkFailsForUnknownParameter(t *testing.T) {
	op := &httpx.Operation{ID: "getWidget", Method: "GET", Path: "/api/v1/tenants/{tenant}/widgets/{widgetId}"}
	_, err := pathFor(t, op, "kunzak", &tenantB{}, map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "no fixture for path parameter {widgetId}") {
		t.Fatalf("an unknown path parameter gave %v", err)
	}
}

// TestSampleBodies checks the generated bodies of the known request schemas pass validation.
func TestSampleBodies(t *testing.T) {
	spec, err := server.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range spec.Operations() {
		if op.HasBody {
			if b := sampleBody(t, spec, op); b == "" {
				t.Errorf("%s: no body", op.ID)
			} else {
				t.Log(op.ID, fmt.Sprint(b))
			}
		}
	}
}
