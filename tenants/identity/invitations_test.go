package identity_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

type countingReloader struct{ n int }

func (r *countingReloader) Changed(context.Context) error { r.n++; return nil }

type staffEnv struct {
	env        *tenanttest.Env
	users      *identity.Service
	staff      *identity.Staff
	reload     *countingReloader
	ctxA, ctxB context.Context
}

func newStaffEnv(t *testing.T) *staffEnv {
	t.Helper()
	env := tenanttest.New(t)
	users, err := identity.NewService(env.App, env.Platform, env.DB, identity.Config{
		Argon2: identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	mails := email.NewService(env.DB, tpl, mail.LogOnly{Log: slog.New(slog.DiscardHandler), MessageIDDomain: "epom.test"}, email.Config{})
	r := &countingReloader{}
	s := &staffEnv{env: env, users: users, reload: r,
		staff: identity.NewStaff(users, env.DB, mails, audit.New(env.DB, env.Platform), r, identity.StaffConfig{BaseURL: "https://epom.test/"})}
	s.ctxA, s.ctxB = env.Two(t)
	return s
}

func tokenOf(t *testing.T, inv identity.Invitation) string {
	t.Helper()
	u, err := url.Parse(inv.Link)
	if err != nil || u.Path != "/app/pozvanka" {
		t.Fatalf("link %q", inv.Link)
	}
	return u.Query().Get("token")
}

func (s *staffEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	// The platform role reads memberships, invitations and the audit log of every tenant.
	if err := s.env.Platform.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// inTenant runs a query as the app role bound to the tenant of ctx (the mail log).
func (s *staffEnv) inTenant(t *testing.T, ctx context.Context, query string, dest any, args ...any) {
	t.Helper()
	err := s.env.DB.InTx(ctx, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(query, args...).Row().Scan(dest)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInviteAndAcceptAsNewUser(t *testing.T) {
	s := newStaffEnv(t)
	a, _ := tenants.FromContext(s.ctxA)
	inv, err := s.staff.Invite(s.ctxA, identity.InviteParams{Email: " Nova@Obec.CZ ", Name: "Jana Nová",
		Roles: []string{authz.RoleClerk, authz.RoleTenantAdmin, authz.RoleClerk}, InviterName: "Operátor", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "nova@obec.cz" || strings.Join(inv.Roles, ",") != "tenant-admin,clerk" {
		t.Fatalf("invitation %+v", inv)
	}
	token := tokenOf(t, inv)
	var body string
	s.inTenant(t, s.ctxA, `SELECT text_body FROM mail_log WHERE to_address = ?`, &body, "nova@obec.cz")
	if !strings.Contains(body, inv.Link) || !strings.Contains(body, "Správce obce, Úředník") {
		t.Errorf("mail body lacks the link or the roles:\n%s", body)
	}
	var inB int
	if s.inTenant(t, s.ctxB, `SELECT count(*) FROM mail_log`, &inB); inB != 0 {
		t.Errorf("tenant B's mail log has %d entries", inB)
	}
	if n := s.count(t, `SELECT count(*) FROM invitations WHERE token_hash IS NOT NULL AND position($1::bytea in token_hash) > 0`, []byte(token)); n != 0 {
		t.Error("the token is stored in clear")
	}

	pre, err := s.staff.Preview(context.Background(), token)
	if err != nil || pre.Tenant.Slug != "liberec" || pre.HasAccount || pre.Expired {
		t.Fatalf("preview %+v, %v", pre, err)
	}
	if _, err := s.staff.Accept(context.Background(), token, identity.AcceptParams{Name: "Jana", Password: "short"}); !errors.Is(err, identity.ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
	got, err := s.staff.Accept(context.Background(), token, identity.AcceptParams{Name: "Jana Nová", Password: "dlouhé heslo 123", IP: "192.0.2.2"})
	if err != nil {
		t.Fatal(err)
	}
	if !got.NewAccount || got.Tenant.ID != a.ID {
		t.Fatalf("accepted %+v", got)
	}
	if _, err := s.users.Authenticate(context.Background(), "nova@obec.cz", "dlouhé heslo 123"); err != nil {
		t.Fatalf("new account cannot sign in: %v", err)
	}
	ms, err := s.users.Memberships(context.Background(), got.User.ID)
	if err != nil || len(ms) != 1 || strings.Join(ms[0].Roles, ",") != "clerk,tenant-admin" {
		t.Fatalf("memberships %+v, %v", ms, err)
	}
	if s.reload.n != 1 {
		t.Errorf("authorizer reloaded %d times, want 1", s.reload.n)
	}
	for action, want := range map[string]int{"invitation-sent": 1, "invitation-accepted": 1, "role-granted": 2} {
		if n := s.count(t, `SELECT count(*) FROM tenant_audit_log WHERE tenant_id = $1 AND action = $2`, a.ID, action); n != want {
			t.Errorf("%s: %d audit entries, want %d", action, n, want)
		}
	}
	if _, err := s.staff.Accept(context.Background(), token, identity.AcceptParams{Name: "X", Password: "dlouhé heslo 123"}); !errors.Is(err, identity.ErrInvitationUsed) {
		t.Fatalf("reused link: %v", err)
	}
	if _, err := s.staff.Preview(context.Background(), token); !errors.Is(err, identity.ErrInvitationUsed) {
		t.Fatalf("preview of a used link: %v", err)
	}
	if _, err := s.staff.Invite(s.ctxA, identity.InviteParams{Email: "nova@obec.cz", Roles: []string{authz.RoleClerk}}); !errors.Is(err, identity.ErrAlreadyMember) {
		t.Fatalf("inviting a member: %v", err)
	}
}

func isField(err error, field string) bool {
	var ie *identity.InputError
	return errors.As(err, &ie) && ie.Field == field
}

func TestInviteRejectsBadInput(t *testing.T) {
	s := newStaffEnv(t)
	for _, tc := range []struct {
		name  string
		p     identity.InviteParams
		field string
	}{
		{"bad address", identity.InviteParams{Email: "not-an-address", Roles: []string{"clerk"}}, "email"},
		{"unknown role", identity.InviteParams{Email: "a@b.cz", Roles: []string{"platform-admin"}}, "roles"},
		{"no role", identity.InviteParams{Email: "a@b.cz"}, "roles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.staff.Invite(s.ctxA, tc.p); !isField(err, tc.field) {
				t.Fatalf("got %v, want an error in %s", err, tc.field)
			}
		})
	}
	if n := s.count(t, `SELECT count(*) FROM invitations`); n != 0 {
		t.Errorf("%d invitations written", n)
	}
}

func TestAcceptLinkStates(t *testing.T) {
	s := newStaffEnv(t)
	ctx := context.Background()
	existing, err := s.users.CreateUser(ctx, "stary@obec.cz", "Starý", "dlouhé heslo 123")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.users.CreateUser(ctx, "jiny@obec.cz", "Jiný", "dlouhé heslo 123")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.staff.Invite(s.ctxA, identity.InviteParams{Email: "stary@obec.cz", Roles: []string{authz.RoleAuditor}})
	if err != nil {
		t.Fatal(err)
	}
	token := tokenOf(t, inv)
	if _, err := s.staff.Accept(ctx, token, identity.AcceptParams{Name: "X", Password: "jiné dlouhé heslo"}); !errors.Is(err, identity.ErrAccountExists) {
		t.Fatalf("existing account without signing in: %v", err)
	}
	if _, err := s.staff.Accept(ctx, token, identity.AcceptParams{User: &other}); !errors.Is(err, identity.ErrWrongAccount) {
		t.Fatalf("another signed-in account: %v", err)
	}
	if ok, _ := identity.VerifyPassword("jiné dlouhé heslo", mustHash(t, s, existing.ID)); ok {
		t.Fatal("the invitation set the existing account's password")
	}

	// A new invitation replaces the open one: the first link is dead.
	inv2, err := s.staff.Invite(s.ctxA, identity.InviteParams{Email: "stary@obec.cz", Roles: []string{authz.RoleClerk}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.staff.Accept(ctx, token, identity.AcceptParams{User: &existing}); !errors.Is(err, identity.ErrInvitationRevoked) {
		t.Fatalf("replaced link: %v", err)
	}
	// Expired.
	if err := s.env.DB.InTx(s.ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = ?`, inv2.ID).Error
	}); err != nil {
		t.Fatal(err)
	}
	pre, err := s.staff.Preview(ctx, tokenOf(t, inv2))
	if err != nil || !pre.Expired {
		t.Fatalf("preview of an expired link: %+v, %v", pre, err)
	}
	if _, err := s.staff.Accept(ctx, tokenOf(t, inv2), identity.AcceptParams{User: &existing}); !errors.Is(err, identity.ErrInvitationExpired) {
		t.Fatalf("expired link: %v", err)
	}
	// Revoked.
	inv3, err := s.staff.Invite(s.ctxA, identity.InviteParams{Email: "stary@obec.cz", Roles: []string{authz.RoleClerk}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.staff.Revoke(s.ctxB, inv3.ID, identity.Actor{}); !errors.Is(err, identity.ErrInvitationNotFound) {
		t.Fatalf("revoking A's invitation from B: %v", err)
	}
	if err := s.staff.Revoke(s.ctxA, inv3.ID, identity.Actor{Email: "admin@obec.cz"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.staff.Accept(ctx, tokenOf(t, inv3), identity.AcceptParams{User: &existing}); !errors.Is(err, identity.ErrInvitationRevoked) {
		t.Fatalf("revoked link: %v", err)
	}
	if _, err := s.staff.Accept(ctx, "no-such-token", identity.AcceptParams{User: &existing}); !errors.Is(err, identity.ErrInvitationNotFound) {
		t.Fatalf("unknown link: %v", err)
	}
	// The right signed-in account.
	inv4, err := s.staff.Invite(s.ctxA, identity.InviteParams{Email: "stary@obec.cz", Roles: []string{authz.RoleAuditor}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.staff.Accept(ctx, tokenOf(t, inv4), identity.AcceptParams{User: &existing})
	if err != nil || got.NewAccount || got.User.ID != existing.ID {
		t.Fatalf("accept as the signed-in invitee: %+v, %v", got, err)
	}
	if n := s.count(t, `SELECT count(*) FROM memberships WHERE user_id = $1 AND role = 'auditor'`, existing.ID); n != 1 {
		t.Fatalf("%d auditor memberships", n)
	}
}

func mustHash(t *testing.T, s *staffEnv, id any) string {
	t.Helper()
	var h string
	if err := s.env.Owner.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSetRoles(t *testing.T) {
	s := newStaffEnv(t)
	ctx := context.Background()
	admin, _ := s.users.CreateUser(ctx, "admin@obec.cz", "Admin", "dlouhé heslo 123")
	clerk, _ := s.users.CreateUser(ctx, "clerk@obec.cz", "Clerk", "dlouhé heslo 123")
	inB, _ := s.users.CreateUser(ctx, "b@obec.cz", "B", "dlouhé heslo 123")
	for _, g := range []struct {
		ctx  context.Context
		id   uuid.UUID
		role string
	}{{s.ctxA, admin.ID, authz.RoleTenantAdmin}, {s.ctxA, clerk.ID, authz.RoleClerk}, {s.ctxB, inB.ID, authz.RoleClerk}} {
		if err := s.users.Grant(g.ctx, g.id, g.role); err != nil {
			t.Fatal(err)
		}
	}
	by := identity.Actor{ID: &admin.ID, Email: admin.Email, IP: "192.0.2.9"}
	if _, err := s.staff.SetRoles(s.ctxA, admin.ID, []string{authz.RoleClerk}, by); !errors.Is(err, identity.ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if _, err := s.staff.SetRoles(s.ctxA, admin.ID, nil, by); !errors.Is(err, identity.ErrLastAdmin) {
		t.Fatalf("removing the last admin: %v", err)
	}
	if _, err := s.staff.SetRoles(s.ctxA, inB.ID, []string{authz.RoleTenantAdmin}, by); !errors.Is(err, identity.ErrNotMember) {
		t.Fatalf("B's user through A: %v", err)
	}
	m, err := s.staff.SetRoles(s.ctxA, clerk.ID, []string{authz.RoleTenantAdmin, authz.RoleAuditor}, by)
	if err != nil || strings.Join(m.Roles, ",") != "tenant-admin,auditor" {
		t.Fatalf("promote: %+v, %v", m, err)
	}
	a, _ := tenants.FromContext(s.ctxA)
	if n := s.count(t, `SELECT count(*) FROM tenant_audit_log WHERE tenant_id = $1 AND action = 'role-granted' AND target = 'clerk@obec.cz'
		AND actor = 'admin@obec.cz' AND ip = '192.0.2.9'`, a.ID); n != 2 {
		t.Errorf("%d role-granted entries, want 2", n)
	}
	if n := s.count(t, `SELECT count(*) FROM tenant_audit_log WHERE tenant_id = $1 AND action = 'role-revoked' AND details->>'role' = 'clerk'`, a.ID); n != 1 {
		t.Errorf("%d role-revoked entries, want 1", n)
	}
	// Now the first admin may step down, and may be removed.
	if _, err := s.staff.SetRoles(s.ctxA, admin.ID, nil, by); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT count(*) FROM memberships WHERE user_id = $1`, admin.ID); n != 0 {
		t.Errorf("removed member keeps %d roles", n)
	}
	if s.reload.n != 2 {
		t.Errorf("authorizer reloaded %d times, want 2", s.reload.n)
	}
}

// Two admins removing each other at the same moment: one must stay.
func TestLastAdminGuardUnderConcurrency(t *testing.T) {
	s := newStaffEnv(t)
	ctx := context.Background()
	var admins []identity.User
	for _, addr := range []string{"a1@obec.cz", "a2@obec.cz"} {
		u, err := s.users.CreateUser(ctx, addr, addr, "dlouhé heslo 123")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.users.Grant(s.ctxA, u.ID, authz.RoleTenantAdmin); err != nil {
			t.Fatal(err)
		}
		admins = append(admins, u)
	}
	for round := 0; round < 5; round++ {
		errs := make(chan error, 2)
		for i, u := range admins {
			other := admins[1-i]
			go func() {
				_, err := s.staff.SetRoles(s.ctxA, other.ID, []string{authz.RoleClerk}, identity.Actor{ID: &u.ID, Email: u.Email})
				errs <- err
			}()
		}
		var refused int
		for range 2 {
			err := <-errs
			switch {
			case errors.Is(err, identity.ErrLastAdmin):
				refused++
			case err != nil:
				t.Fatal(err)
			}
		}
		a, _ := tenants.FromContext(s.ctxA)
		if n := s.count(t, `SELECT count(*) FROM memberships WHERE tenant_id = $1 AND role = 'tenant-admin'`, a.ID); n != 1 || refused != 1 {
			t.Fatalf("round %d: %d admins left, %d refusals", round, n, refused)
		}
		// Restore both admins for the next round.
		for _, u := range admins {
			if _, err := s.staff.SetRoles(s.ctxA, u.ID, []string{authz.RoleTenantAdmin}, identity.Actor{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
